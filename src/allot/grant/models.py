"""Grants and their per-metric monthly allowances (K1, K3, K4)."""

from __future__ import annotations

import sqlalchemy as sa

from allot.kit.schema import BigId, metadata
from allot.kit.types import UTCDateTime

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("issuer", sa.String(200), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=True),  # fixed-term start; NULL: from claim
    sa.Column("ends_at", UTCDateTime, nullable=True),  # fixed-term end; NULL: lifetime
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=True),
    # An Access Code is a grant issued by a partner, numbered per partner, with
    # its typed text (canonical form), claimed later by one business (K2).
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=True),
    sa.Column("number", sa.Integer, nullable=True),
    sa.Column("code", sa.String(32), nullable=True, unique=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("partner_id", "number", name="uq_grants_partner_number"),
    sa.CheckConstraint(
        "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="term_order"
    ),
    sa.Index("ix_grants_account", "account_id"),
)

grant_allowances = sa.Table(
    "grant_allowances",
    metadata,
    sa.Column("grant_id", BigId, sa.ForeignKey("grants.id"), primary_key=True),
    sa.Column("metric", sa.String(64), sa.ForeignKey("metrics.code"), primary_key=True),
    sa.Column("monthly_quantity", sa.BigInteger, nullable=False),
    sa.CheckConstraint("monthly_quantity > 0", name="positive"),
)
