"""Shop platform connectors: connections, webhook inbox, the platform's side of orders

Revision ID: 0007_integrations
Revises: 0006_automations
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_integrations"
down_revision = "0006_automations"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "shop_connections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(5), nullable=False),
        sa.Column("store_id", sa.String(80), nullable=False),
        sa.Column("store_name", sa.String(200)),
        sa.Column("access_token", sa.LargeBinary()),
        sa.Column("refresh_token", sa.LargeBinary()),
        sa.Column("authorization_token", sa.LargeBinary()),
        sa.Column("expires_at", UTC_DATETIME),
        sa.Column("connected_at", UTC_DATETIME, nullable=False),
        sa.Column("sync_since", sa.String(40)),
        sa.Column("sync_next_page", sa.Integer()),
        sa.Column("last_synced_at", UTC_DATETIME),
        sa.UniqueConstraint("platform", "store_id", name="uq_shop_connections_platform_store"),
    )
    op.create_table(
        "shop_webhooks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(5), nullable=False),
        sa.Column("event", sa.String(80), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(6), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("platform", "body_hash", name="uq_shop_webhooks_platform_body"),
    )
    op.create_index("ix_shop_webhooks_due", "shop_webhooks", ["status", "next_attempt_at"])
    op.create_table(
        "shop_orders",
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("platform", sa.String(5), nullable=False),
        sa.Column("store_id", sa.String(80), nullable=False),
        sa.Column("status_code", sa.String(60), nullable=False),
        sa.Column("status_label_ar", sa.String(120)),
        sa.Column("status_label_en", sa.String(120)),
        sa.Column("payment_method", sa.String(60)),
        sa.Column("payment_label", sa.String(120)),
        sa.Column("vat", sa.String(20)),
        sa.Column("shipping_company", sa.String(120)),
        sa.Column("tracking_url", sa.String(500)),
        sa.Column("dashboard_url", sa.String(500)),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("source_updated_at", UTC_DATETIME, nullable=False),
    )


def downgrade():
    op.drop_table("shop_orders")
    op.drop_index("ix_shop_webhooks_due", table_name="shop_webhooks")
    op.drop_table("shop_webhooks")
    op.drop_table("shop_connections")
