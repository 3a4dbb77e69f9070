"""WhatsApp channel: business numbers per queue, the inbound ledger, the outbox

Revision ID: 0009_whatsapp
Revises: 0007_integrations
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_whatsapp"
down_revision = "0007_integrations"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade():
    # "whatsapp" is the longest channel: the enum's VARCHAR grows from 6 to 8 (SQLite copies the table).
    for table in ("tickets", "messages"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("channel", type_=sa.String(8), existing_type=sa.String(6), existing_nullable=False)
    op.create_table(
        "whatsapp_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("queue_id", sa.Integer(), sa.ForeignKey("queues.id", ondelete="CASCADE"), nullable=False),
        sa.Column("phone_number_id", sa.String(40), nullable=False),
        sa.Column("display_number", sa.String(40)),
        sa.Column("token_env", sa.String(100), nullable=False),
        sa.Column("app_secret_env", sa.String(100), nullable=False),
        sa.Column("verify_token_env", sa.String(100), nullable=False),
        sa.Column("graph_url", sa.String(300), nullable=False),
        sa.Column("idle_hours", sa.Integer(), nullable=False),
        sa.Column("template_name", sa.String(120)),
        sa.Column("template_languages", sa.String(40), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("queue_id", name="uq_whatsapp_accounts_queue_id"),
        sa.UniqueConstraint("phone_number_id", name="uq_whatsapp_accounts_phone_number_id"),
    )
    op.create_table(
        "whatsapp_inbound",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedupe_key", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(6), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("ticket_message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="SET NULL")),
        sa.UniqueConstraint("dedupe_key", name="uq_whatsapp_inbound_dedupe_key"),
    )
    op.create_index("ix_whatsapp_inbound_due", "whatsapp_inbound", ["status", "next_attempt_at"])
    op.create_table(
        "whatsapp_outbound",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ticket_message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE")),
        sa.Column("to", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(6), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("wamid", sa.String(300)),
        sa.Column("delivery", sa.String(10)),
        sa.Column("error_code", sa.String(20)),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME),
        sa.UniqueConstraint("wamid", name="uq_whatsapp_outbound_wamid"),
    )
    op.create_index("ix_whatsapp_outbound_due", "whatsapp_outbound", ["status", "next_attempt_at"])
    op.create_index("ix_whatsapp_outbound_ticket_id", "whatsapp_outbound", ["ticket_id"])
    op.create_index("ix_whatsapp_outbound_ticket_message_id", "whatsapp_outbound", ["ticket_message_id"])


def downgrade():
    for table in ("tickets", "messages"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("channel", type_=sa.String(6), existing_type=sa.String(8), existing_nullable=False)
    op.drop_table("whatsapp_outbound")
    op.drop_table("whatsapp_inbound")
    op.drop_table("whatsapp_accounts")
