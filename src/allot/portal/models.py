"""Portal links and sessions: only their hashes are kept, as with API keys."""

from __future__ import annotations

import sqlalchemy as sa

from allot.kit.schema import metadata
from allot.kit.types import UTCDateTime

# A link the platform asks for and hands the business (`POST …/portal-sessions`): used once,
# within minutes, to open a session.
portal_links = sa.Table(
    "portal_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the secret, hex
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
    sa.Index("ix_portal_links_account", "account_id"),
)

# A browser's session of one account: the cookie carries the secret, the forms the CSRF token.
portal_sessions = sa.Table(
    "portal_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # sha256 of the cookie's secret, hex
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.Index("ix_portal_sessions_account", "account_id"),
)
