"""Fields everywhere: macros that set fields, saved views, SLA policies matching a company's tier

Revision ID: 0017_fields_everywhere
Revises: 0016_customer_phone
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_fields_everywhere"
down_revision = "0016_customer_phone"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("macros") as batch:
        batch.add_column(sa.Column("set_fields", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("sla_policies") as batch:
        batch.add_column(
            sa.Column(
                "match_company_tier",
                sa.Enum("standard", "silver", "gold", "vip", name="tier", native_enum=False),
                nullable=True,
            )
        )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("queue_id", sa.Integer(), sa.ForeignKey("queues.id", ondelete="CASCADE"), nullable=True),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_saved_views_owner_id", "saved_views", ["owner_id"])
    op.create_index("ix_saved_views_queue_id", "saved_views", ["queue_id"])


def downgrade():
    op.drop_index("ix_saved_views_queue_id", "saved_views")
    op.drop_index("ix_saved_views_owner_id", "saved_views")
    op.drop_table("saved_views")
    with op.batch_alter_table("sla_policies") as batch:
        batch.drop_column("match_company_tier")
    with op.batch_alter_table("macros") as batch:
        batch.drop_column("set_fields")
