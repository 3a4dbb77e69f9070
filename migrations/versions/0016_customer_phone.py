"""An index on the customer's phone: WhatsApp messages and shop orders find their customer by it

Revision ID: 0016_customer_phone
Revises: 0015_customer_totp
"""

from alembic import op

revision = "0016_customer_phone"
down_revision = "0015_customer_totp"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_customers_phone", "customers", ["phone"])


def downgrade():
    op.drop_index("ix_customers_phone", table_name="customers")
