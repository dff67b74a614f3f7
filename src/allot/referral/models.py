"""Referral tables (A4): who may refer, who was referred, what was earned and credited."""

from __future__ import annotations

import sqlalchemy as sa

from allot.kit.schema import metadata
from allot.kit.types import UTCDateTime

# The operator switches referral on for an account: it gets a code for its link.
referral_programs = sa.Table(
    "referral_programs",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),  # canonical, no dashes
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("enabled_at", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
)

# One row per business that signed up through a link. The reward is earned once,
# at the referred business's first paid invoice, and credited on the referrer's
# next invoices until `applied_minor` reaches it (the credit lines are the ledger).
referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("referred_account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("referrer_account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("attributed_at", UTCDateTime, nullable=False),
    sa.Column("earned_at", UTCDateTime, nullable=True),
    sa.Column("earned_invoice_id", sa.BigInteger, nullable=True),
    sa.Column("reward_minor", sa.BigInteger, nullable=True),
    sa.Column("applied_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint("referrer_account_id <> referred_account_id", name="not_self"),
    sa.CheckConstraint(
        "applied_minor >= 0 AND applied_minor <= COALESCE(reward_minor, 0)",
        name="applied_le_reward",
    ),
    sa.Index("ix_referrals_referrer", "referrer_account_id", "earned_at"),
)
