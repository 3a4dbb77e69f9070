"""Custom fields (typed values per ticket and per customer), request types and their forms, companies

Revision ID: 0008_custom_fields
Revises: 0010_staff_auth
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_custom_fields"
down_revision = "0010_staff_auth"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _value_columns():
    return [
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "field_id", sa.Integer(), sa.ForeignKey("custom_fields.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("value_text", sa.String(255)),
        sa.Column("value_long", sa.Text()),
        sa.Column("value_number", sa.Numeric(20, 6)),
        sa.Column("value_date", sa.Date()),
        sa.Column("value_order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="SET NULL")),
    ]


def upgrade():
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(60), nullable=False, unique=True),
        sa.Column("type", sa.String(12), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("label_ar", sa.String(120), nullable=False),
        sa.Column("label_en", sa.String(120), nullable=False),
        sa.Column("help_ar", sa.String(255), nullable=False),
        sa.Column("help_en", sa.String(255), nullable=False),
        sa.Column("required_for_agents", sa.Boolean(), nullable=False),
        sa.Column("required_for_customers", sa.Boolean(), nullable=False),
        sa.Column("visible_to_customers", sa.Boolean(), nullable=False),
        sa.Column("editable_by_customers", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_table(
        "custom_field_options",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "field_id", sa.Integer(), sa.ForeignKey("custom_fields.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("value", sa.String(60), nullable=False),
        sa.Column("label_ar", sa.String(120), nullable=False),
        sa.Column("label_en", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("field_id", "value", name="uq_custom_field_options_field_value"),
    )
    op.create_table(
        "ticket_field_values",
        *_value_columns(),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index(
        "ix_ticket_field_values_text", "ticket_field_values", ["field_id", "value_text", "ticket_id"]
    )
    op.create_index(
        "ix_ticket_field_values_number", "ticket_field_values", ["field_id", "value_number", "ticket_id"]
    )
    op.create_index(
        "ix_ticket_field_values_date", "ticket_field_values", ["field_id", "value_date", "ticket_id"]
    )
    op.create_index("ix_ticket_field_values_ticket", "ticket_field_values", ["ticket_id", "field_id"])
    op.create_table(
        "customer_field_values",
        *_value_columns(),
        sa.Column(
            "customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index(
        "ix_customer_field_values_text", "customer_field_values", ["field_id", "value_text", "customer_id"]
    )
    op.create_index("ix_customer_field_values_customer", "customer_field_values", ["customer_id", "field_id"])
    op.create_table(
        "request_types",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(60), nullable=False, unique=True),
        sa.Column("name_ar", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("default_queue_id", sa.Integer(), sa.ForeignKey("queues.id", ondelete="SET NULL")),
        sa.Column("default_priority", sa.String(6)),
        sa.Column("default_tags", sa.JSON(), nullable=False),
        sa.Column("email_keywords", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "request_type_fields",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_type_id",
            sa.Integer(),
            sa.ForeignKey("request_types.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "field_id", sa.Integer(), sa.ForeignKey("custom_fields.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_required", sa.Boolean(), nullable=False),
        sa.Column(
            "shown_when_field_id", sa.Integer(), sa.ForeignKey("custom_fields.id", ondelete="SET NULL")
        ),
        sa.Column("shown_when_value", sa.String(60)),
        sa.UniqueConstraint("request_type_id", "field_id", name="uq_request_type_fields"),
    )
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(253), unique=True),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_table(
        "company_members",
        sa.Column(
            "customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "company_id", sa.Integer(), sa.ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sees_company_cases", sa.Boolean(), nullable=False),
        sa.Column("joined_by_domain", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_company_members_company_id", "company_members", ["company_id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("request_type_id", sa.Integer()))
        batch.create_foreign_key(
            "fk_tickets_request_type_id", "request_types", ["request_type_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_tickets_request_type_created", ["request_type_id", "created_at"])


def downgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_request_type_created")
        batch.drop_constraint("fk_tickets_request_type_id", type_="foreignkey")
        batch.drop_column("request_type_id")
    for table in (
        "company_members",
        "companies",
        "request_type_fields",
        "request_types",
        "customer_field_values",
        "ticket_field_values",
        "custom_field_options",
        "custom_fields",
    ):
        op.drop_table(table)
