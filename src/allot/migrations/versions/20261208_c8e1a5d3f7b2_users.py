"""users of the admin and the partner portal, their sessions and e-mailed links (W3)

`users`: operator users (operator-admin, operator-support) and partners' users, with an
argon2 password hash, an optional TOTP secret, and the lockout's counters;
`user_sessions` and `user_links`: hashes only. `emails.kind` gains
`partner_sign_in_link`.

Revision ID: c8e1a5d3f7b2
Revises: b6d2f9a4c1e8
Create Date: 2026-12-08 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allot.kit.types

revision: str = "c8e1a5d3f7b2"
down_revision: str | None = "b6d2f9a4c1e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = allot.kit.types.UTCDateTime(timezone=True)
BEFORE = ("activation_link", "payment_failed", "payment_action", "usage_alert", "sign_in_link")
AFTER = (*BEFORE, "partner_sign_in_link")


def _kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("emails") as batch:
        name = op.f("ck_emails_kind")
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, f"kind IN ({', '.join(repr(k) for k in kinds)})")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger, nullable=True),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", Instant, nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("disabled_at", Instant, nullable=True),
        sa.CheckConstraint(
            "role IN ('operator-admin', 'operator-support', 'partner')",
            name=op.f("ck_users_role"),
        ),
        sa.CheckConstraint(
            "(role = 'partner') = (partner_id IS NOT NULL)", name=op.f("ck_users_partner_iff_role")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_users_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("ix_users_email", "users", ["email"])
    op.create_index("ix_users_partner", "users", ["partner_id"])
    op.create_table(
        "user_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("expires_at", Instant, nullable=False),
        sa.Column("ended_at", Instant, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_user_sessions")),
    )
    op.create_index("ix_user_sessions_user", "user_sessions", ["user_id"])
    op.create_table(
        "user_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("expires_at", Instant, nullable=False),
        sa.Column("used_at", Instant, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_links_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_links")),
    )
    op.create_index("ix_user_links_user", "user_links", ["user_id"])
    _kinds(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM emails WHERE kind = 'partner_sign_in_link'")
    _kinds(BEFORE)
    for table in ("user_links", "user_sessions", "users"):
        op.drop_table(table)
