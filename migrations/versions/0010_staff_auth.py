"""Staff sign-in security: TOTP two-step sign-in, recovery codes, passkeys, server-side sign-in sessions

Revision ID: 0010_staff_auth
Revises: 0009_whatsapp
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_staff_auth"
down_revision = "0009_whatsapp"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.LargeBinary()))
        batch.add_column(sa.Column("totp_confirmed_at", UTC_DATETIME))
        batch.add_column(sa.Column("totp_last_step", sa.Integer()))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "staff_id", sa.Integer(), sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", UTC_DATETIME),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_recovery_codes_staff_id", "recovery_codes", ["staff_id"])
    op.create_table(
        "sign_in_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_ref", sa.String(40), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("ip", sa.String(45)),
        sa.Column("user_agent", sa.String(300)),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME),
        sa.UniqueConstraint("token_hash", name="uq_sign_in_sessions_token_hash"),
    )
    op.create_index("ix_sign_in_sessions_user_ref", "sign_in_sessions", ["user_ref"])
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "staff_id", sa.Integer(), sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_used_at", UTC_DATETIME),
        sa.UniqueConstraint("credential_id", name="uq_passkeys_credential_id"),
    )
    op.create_index("ix_passkeys_staff_id", "passkeys", ["staff_id"])
    op.create_table(
        "security_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("two_factor_roles", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
    )


def downgrade():
    op.drop_table("security_settings")
    op.drop_index("ix_passkeys_staff_id", "passkeys")
    op.drop_table("passkeys")
    op.drop_index("ix_sign_in_sessions_user_ref", "sign_in_sessions")
    op.drop_table("sign_in_sessions")
    op.drop_index("ix_recovery_codes_staff_id", "recovery_codes")
    op.drop_table("recovery_codes")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_confirmed_at")
        batch.drop_column("totp_secret")
