"""The payment tables: cards on file, every attempt to charge one, and each invoice's collection.

* `payment_customers` — the provider's customer of an account (one per gateway).
* `payment_methods` — cards saved at the provider: only its reference and what a
  person recognizes (brand, last four digits, expiry). Never a card number (P3).
  One active card per account; a new one replaces it.
* `payment_attempts` — one row per call that may move money, written *before*
  the call with the key the provider keeps (P4): an attempt still `pending`
  after its lease is one whose outcome a crash lost, and the next round asks
  the provider again with the same key.
* `collections` — one per invoice a card pays: where its dunning stands (P2),
  how many tries it had, when the next is due, and what the final rule did.
* `refunds` — money given back on a credit note, once per note (P4).
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.core.dunning import FinalRule
from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import UTCDateTime


class MethodState(StrEnum):
    ACTIVE = "active"
    REPLACED = "replaced"  # a newer card took its place


class AttemptState(StrEnum):
    PENDING = "pending"  # recorded; the provider was (or is about to be) called
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUIRES_ACTION = "requires_action"  # the cardholder must authenticate (not a failure)
    PROCESSING = "processing"  # the provider answers later
    CANCELED = "canceled"  # never charged: the provider had not seen it when it was withdrawn


class CollectionState(StrEnum):
    COLLECTING = "collecting"  # charged at `next_try_at`
    WAITING_FOR_CARD = "waiting_for_card"  # a hard decline, or no card: until the card changes
    REQUIRES_ACTION = "requires_action"  # the cardholder must confirm the payment
    EXHAUSTED = "exhausted"  # every retry failed; the final rule was applied (P2)
    PAID = "paid"
    CLOSED = "closed"  # settled otherwise (void, written off) or its subscription was canceled
    EXTERNAL = "external"  # an external-channel account: collected elsewhere, never charged


class RefundState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


payment_customers = sa.Table(
    "payment_customers",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("gateway", sa.String(16), primary_key=True),
    sa.Column("customer_ref", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

payment_methods = sa.Table(
    "payment_methods",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("gateway", sa.String(16), nullable=False),
    sa.Column("method_ref", sa.String(255), nullable=False),
    sa.Column("brand", sa.String(32), nullable=False),
    sa.Column("last4", sa.String(4), nullable=False),
    sa.Column("exp_month", sa.Integer, nullable=False),
    sa.Column("exp_year", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    one_of("state", MethodState),
    sa.CheckConstraint("length(last4) = 4", name="last4_is_four_digits"),
    sa.Index(
        "uq_payment_methods_active",
        "account_id",
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    ),
)

payment_attempts = sa.Table(
    "payment_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("invoice_id", BigId, sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("method_id", BigId, sa.ForeignKey("payment_methods.id"), nullable=False),
    sa.Column("gateway", sa.String(16), nullable=False),
    sa.Column("key", sa.String(100), nullable=False, unique=True),  # the provider's idempotency key
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("provider_ref", sa.String(255), nullable=True),
    sa.Column("decline_code", sa.String(64), nullable=True),
    sa.Column("hard", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("message", sa.String(300), nullable=True),
    sa.Column("client_secret", sa.String(255), nullable=True),  # requires_action only
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=True),  # pending: when a crash is presumed
    # calls to the provider that got no answer; past MAX_CALLS a charge it never saw is given up
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    one_of("state", AttemptState),
    sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    sa.Index("ix_payment_attempts_invoice", "invoice_id", "id"),
    sa.Index("ix_payment_attempts_account", "account_id", "id"),
    sa.Index("ix_payment_attempts_pending", "state", "lease_until"),
    sa.Index("ix_payment_attempts_provider_ref", "provider_ref"),
)

collections = sa.Table(
    "collections",
    metadata,
    sa.Column("invoice_id", BigId, sa.ForeignKey("invoices.id"), primary_key=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("subscription_id", BigId, sa.ForeignKey("subscriptions.id"), nullable=True),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("tries", sa.Integer, nullable=False, server_default="0"),  # charges that failed
    sa.Column("next_try_at", UTCDateTime, nullable=True),
    sa.Column("first_failed_at", UTCDateTime, nullable=True),
    # The final rule, once applied (P2), and the plan it moved away from, which paying the
    # invoice later restores.
    sa.Column("final_rule", sa.String(16), nullable=True),
    sa.Column("restore_plan_id", BigId, sa.ForeignKey("plans.id"), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    one_of("state", CollectionState),
    one_of("final_rule", FinalRule),
    sa.CheckConstraint("tries >= 0", name="tries_not_negative"),
    sa.Index("ix_collections_due", "state", "next_try_at"),
    sa.Index("ix_collections_account", "account_id", "state"),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("credit_note_id", BigId, sa.ForeignKey("credit_notes.id"), primary_key=True),
    sa.Column("attempt_id", BigId, sa.ForeignKey("payment_attempts.id"), nullable=False),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("key", sa.String(100), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("provider_ref", sa.String(255), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=False),  # pending: when it is asked again
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    one_of("state", RefundState),
)
