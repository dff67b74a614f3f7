"""Users of the admin and the partner portal, their sessions and their e-mailed links.

Only hashes of secrets are stored: an argon2 hash of a password, sha256 of a session's
cookie and of a link's token. A TOTP secret must be read to check a code, so it is kept
as it is; without the password it opens nothing.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import metadata, one_of
from allot.kit.types import UTCDateTime


class UserRole(StrEnum):
    OPERATOR_ADMIN = "operator-admin"  # the admin, every change
    OPERATOR_SUPPORT = "operator-support"  # the admin, read only
    PARTNER = "partner"  # its partner's portal


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # the name to sign in with
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),  # lower case; a partner's links go there
    sa.Column("locale", sa.String(16), nullable=False),  # the portal's and its e-mails' language
    sa.Column("password_hash", sa.String(255), nullable=True),  # argon2id; none: links only
    sa.Column("totp_secret", sa.String(64), nullable=True),  # base32, when TOTP is on
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),  # a code is good once
    sa.Column("failed_attempts", sa.Integer, nullable=False),  # since the last success
    sa.Column("locked_until", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
    one_of("role", UserRole),
    sa.CheckConstraint("(role = 'partner') = (partner_id IS NOT NULL)", name="partner_iff_role"),
    sa.Index("ix_users_email", "email"),
    sa.Index("ix_users_partner", "partner_id"),
)

user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # sha256 of the cookie's secret
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Index("ix_user_sessions_user", "user_id"),
)

user_links = sa.Table(
    "user_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.Index("ix_user_links_user", "user_id"),
)
