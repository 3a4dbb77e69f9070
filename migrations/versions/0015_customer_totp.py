"""Two-step sign-in for customers: their TOTP columns, and recovery codes of staff or customers

Revision ID: 0015_customer_totp
Revises: 0014_blobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_customer_totp"
down_revision = "0014_blobs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("totp_secret", sa.LargeBinary()))
        batch.add_column(sa.Column("totp_confirmed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("totp_last_step", sa.Integer()))
    with op.batch_alter_table("recovery_codes") as batch:
        batch.alter_column("staff_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("customer_id", sa.Integer()))
        batch.create_foreign_key(
            "fk_recovery_codes_customer_id_customers",
            "customers",
            ["customer_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_recovery_codes_customer_id", ["customer_id"])


def downgrade():
    op.execute("DELETE FROM recovery_codes WHERE staff_id IS NULL")
    with op.batch_alter_table("recovery_codes") as batch:
        batch.drop_index("ix_recovery_codes_customer_id")
        batch.drop_constraint("fk_recovery_codes_customer_id_customers", type_="foreignkey")
        batch.drop_column("customer_id")
        batch.alter_column("staff_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_confirmed_at")
        batch.drop_column("totp_secret")
