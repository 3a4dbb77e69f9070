"""Attachment files in the database (the blob store shared by nodes on several hosts)

Revision ID: 0014_blobs
Revises: 0011_live
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_blobs"
down_revision = "0011_live"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "blob_chunks",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "seq"),
    )


def downgrade():
    op.drop_table("blob_chunks")
