"""Agents who may write help articles

Revision ID: 0004_kb_editors
Revises: 0003_mail
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_kb_editors"
down_revision = "0003_mail"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(sa.Column("can_edit_kb", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("can_edit_kb")
