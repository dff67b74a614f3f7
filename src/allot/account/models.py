"""The accounts table. Every tenant-owned table refers to it."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import metadata, one_of
from allot.kit.types import ExactDecimal, UTCDateTime


class BillingChannel(StrEnum):
    CARD = "card"  # charged on the linked card when an invoice is finalized (P1)
    EXTERNAL = "external"  # billed elsewhere: its charges are exported


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    # A5: a change of time zone takes effect from the next month, at `timezone_since`;
    # before it, `timezone_before` dates the account's actions (see allot.core.timezones)
    sa.Column("timezone_before", sa.String(64), nullable=True),
    sa.Column("timezone_since", UTCDateTime, nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("billing_channel", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Changed (by database triggers) whenever what pays for this account's usage
    # changes: a subscription, a grant, a pause, the time zone. The consume fast
    # path follows a route only if it was learned under the current revision.
    sa.Column("revision", sa.BigInteger, nullable=False),
    # B5: one tax rate per account (a fraction: 0.20 is 20 %), on every line it is billed.
    sa.Column("tax_rate", ExactDecimal, nullable=False, server_default="0"),
    # A4: referral rewards earned and not yet credited on an invoice; the sum over
    # `referrals` of reward_minor - applied_minor, kept here so the invoice run
    # learns from the account row it already reads whether there is any.
    sa.Column("referral_credit_minor", sa.BigInteger, nullable=False, server_default="0"),
    # A1: legal name, billing e-mail, tax id and postal address (`allot.kit.parties`), as JSON;
    # copied onto every invoice when it is finalized (B8)
    sa.Column("billing_details", sa.JSON, nullable=True),
    # its e-mail in lower case, written with it: a sign-in link is asked for by address (W1)
    sa.Column("billing_email", sa.String(320), nullable=True),
    # P4: credit (money paid and given back as credit) taken off the next invoices; equals
    # the sum of the account's `credit_balance_entries`, and read from this row by the run
    sa.Column("credit_balance_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint("referral_credit_minor >= 0", name="referral_credit_not_negative"),
    sa.CheckConstraint("credit_balance_minor >= 0", name="credit_balance_not_negative"),
    one_of("billing_channel", BillingChannel),
    sa.Index("ix_accounts_billing_email", "billing_email"),
)
