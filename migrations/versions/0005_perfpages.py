"""Indexes for the customer panel's timeline and the "recently solved" view

Revision ID: 0005_perfpages
Revises: 0004_kb_editors
"""

from alembic import op

revision = "0005_perfpages"
down_revision = "0004_kb_editors"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_messages_author_customer_created", "messages", ["author_customer_id", "created_at"])
    op.create_index("ix_tickets_status_solved", "tickets", ["status", "solved_at"])


def downgrade():
    op.drop_index("ix_tickets_status_solved", table_name="tickets")
    op.drop_index("ix_messages_author_customer_created", table_name="messages")
