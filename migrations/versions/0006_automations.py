"""Automation rules (triggers and time-based automations) and the ledger of their applications

Revision ID: 0006_automations
Revises: 0005_perfpages
"""

import sqlalchemy as sa
from alembic import op

import helpdesk.dbtypes

revision = "0006_automations"
down_revision = "0005_perfpages"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "automation_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("trigger", "automation", name="rulekind", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("once_per_ticket", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", helpdesk.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helpdesk.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_automation_rules_position", "automation_rules", ["position"])
    op.create_table(
        "automation_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("ticket_version", sa.Integer(), nullable=False),
        sa.Column("applied_at", helpdesk.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["automation_rules.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_id", "ticket_id", "ticket_version", name="uq_automation_applications_once"),
    )
    op.create_index("ix_automation_applications_ticket_id", "automation_applications", ["ticket_id"])


def downgrade():
    op.drop_index("ix_automation_applications_ticket_id", table_name="automation_applications")
    op.drop_table("automation_applications")
    op.drop_index("ix_automation_rules_position", table_name="automation_rules")
    op.drop_table("automation_rules")
