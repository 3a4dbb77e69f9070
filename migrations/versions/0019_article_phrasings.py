"""Article phrasings: other ways customers ask, and deflection queries waiting for an editor's review

Revision ID: 0019_article_phrasings
Revises: 0018_pg_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_article_phrasings"
down_revision = "0018_pg_search"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kb_articles") as batch:
        batch.add_column(sa.Column("phrasings", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("kb_deflections") as batch:
        batch.add_column(
            sa.Column("phrasing_reviewed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("kb_deflections") as batch:
        batch.drop_column("phrasing_reviewed")
    with op.batch_alter_table("kb_articles") as batch:
        batch.drop_column("phrasings")
