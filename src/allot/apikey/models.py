"""API keys (stored hashed) and the responses kept for Idempotency-Key replays."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import UTCDateTime


class Role(StrEnum):
    OPERATOR = "operator"  # everything
    PARTNER = "partner"  # one partner's codes, report and invoices
    ACCOUNT = "account"  # one business's own usage, plan and invoices


api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),  # shown in listings
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(64), nullable=True),  # the account or partner it acts for
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    one_of("role", Role),
    sa.CheckConstraint("(role = 'operator') = (subject IS NULL)", name="subject_for_role"),
)

# One row per (caller, Idempotency-Key) of a POST other than consume (whose
# usage event is its own record): the first response, replayed on a retry.
idempotency_requests = sa.Table(
    "idempotency_requests",
    metadata,
    sa.Column("scope", sa.String(80), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
