"""Live updates: the event log behind the streams and their Last-Event-ID replay

Revision ID: 0011_live
Revises: 0008_custom_fields
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_live"
down_revision = "0008_custom_fields"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "live_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(20), nullable=False),
        sa.Column("queue_id", sa.Integer()),
        sa.Column("customer_id", sa.Integer()),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_live_events_created_at", "live_events", ["created_at"])


def downgrade():
    op.drop_index("ix_live_events_created_at", table_name="live_events")
    op.drop_table("live_events")
