"""Invoices, credit notes and their number series (B5, B6).

* `invoices` — one row per document, unique per `billing_key` (what it bills:
  a subscription's period, an account's month of usage, a plan change, a
  partner's month), so an invoice run that repeats or resumes after a crash
  can never issue one twice (B6). Amounts are integer minor units; the
  number is taken from `number_series` in the transaction that finalizes.
* `invoice_lines` — frozen lines: the exact amount beside the rounded one.
* `credit_notes` / `credit_note_lines` — corrections of finalized invoices,
  numbered in their own series; a finalized invoice itself never changes.
* `seller` — the operator's own identity, one row, set once (B8).

Every invoice and credit note keeps a copy of its seller and of whom it bills
(`seller`, `bill_to`: a name, a reference and `allot.kit.parties` billing
details) as they were when it was issued: changing them later changes only the
documents that follow (B8).
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.core.invoicing import ChargeKind
from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import ExactDecimal, UTCDateTime


class InvoiceState(StrEnum):
    DRAFT = "draft"  # being built; never seen outside its transaction
    FINALIZED = "finalized"  # numbered and frozen, awaiting payment
    PAID = "paid"
    VOID = "void"  # cancelled; its number stays used
    UNCOLLECTIBLE = "uncollectible"  # written off


class InvoiceKind(StrEnum):
    SUBSCRIPTION = "subscription"  # the plan in advance, with last month's usage (B1, B2)
    PRORATION = "proration"  # an upgrade or a quantity increase mid-cycle (B4)
    USAGE = "usage"  # overage, extra seats and top-ups on their own day (B2)
    PARTNER = "partner"  # a partner's month at wholesale terms (K8)


class NoteSettlement(StrEnum):
    """What became of the part of a credit note that gives back money paid (P4)."""

    REFUND = "refund"  # back to the card that paid the invoice
    BALANCE = "balance"  # the account's credit, taken off its next invoices


number_series = sa.Table(
    "number_series",
    metadata,
    sa.Column("series", sa.String(32), primary_key=True),  # e.g. INV-2026
    sa.Column("last_value", sa.BigInteger, nullable=False),
    sa.CheckConstraint("last_value >= 0", name="last_value_not_negative"),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=True),
    sa.Column("subscription_id", BigId, sa.ForeignKey("subscriptions.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("billing_key", sa.String(200), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("number", sa.String(32), nullable=True, unique=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),  # the scheduled date, local to the payer
    sa.Column("period_start", sa.Date, nullable=True),
    sa.Column("period_end", sa.Date, nullable=True),  # exclusive
    sa.Column("subtotal_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_minor", sa.BigInteger, nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("taxes", sa.JSON, nullable=False),  # [[rate, base_minor, tax_minor], ...]
    sa.Column("rounding", sa.String(120), nullable=False),
    sa.Column("notes", sa.JSON, nullable=False),  # lines of plain text for the payer
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finalized_at", UTCDateTime, nullable=True),
    sa.Column("settled_at", UTCDateTime, nullable=True),  # paid, voided or written off
    sa.Column("settlement_note", sa.String(200), nullable=True),
    sa.Column("seller", sa.JSON, nullable=False),  # B8: as at finalization
    sa.Column("bill_to", sa.JSON, nullable=False),
    # P4: the account's credit balance taken off the total when the invoice was issued
    # (tax included: the balance is money the account paid); owed = total - this - notes
    sa.Column("credit_applied_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint("(account_id IS NULL) <> (partner_id IS NULL)", name="one_payer"),
    sa.CheckConstraint(
        "credit_applied_minor >= 0 AND credit_applied_minor <= total_minor",
        name="credit_applied_within_total",
    ),
    one_of("state", InvoiceState),
    one_of("kind", InvoiceKind),
    sa.CheckConstraint("(state = 'draft') = (number IS NULL)", name="numbered_when_finalized"),
    sa.Index("ix_invoices_account", "account_id", "issued_on"),
    sa.Index("ix_invoices_partner", "partner_id", "issued_on"),
    # the open ones, which the charging round looks through for invoices to collect (P1)
    sa.Index(
        "ix_invoices_open",
        "id",
        sqlite_where=sa.text("state = 'finalized'"),
        postgresql_where=sa.text("state = 'finalized'"),
    ),
)

invoice_lines = sa.Table(
    "invoice_lines",
    metadata,
    sa.Column("invoice_id", BigId, sa.ForeignKey("invoices.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("description", sa.String(300), nullable=False),
    sa.Column("metric", sa.String(64), nullable=True),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("unit_price", ExactDecimal, nullable=False),
    sa.Column("amount", ExactDecimal, nullable=False),  # exact, before rounding
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_rate", ExactDecimal, nullable=False),
    sa.Column("period_start", sa.Date, nullable=True),
    sa.Column("period_end", sa.Date, nullable=True),
    one_of("kind", ChargeKind),
)

credit_notes = sa.Table(
    "credit_notes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("invoice_id", BigId, sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("reason", sa.String(300), nullable=False),
    sa.Column("subtotal_minor", sa.BigInteger, nullable=False),
    sa.Column("tax_minor", sa.BigInteger, nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("taxes", sa.JSON, nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    sa.Column("seller", sa.JSON, nullable=False),  # B8: as at issue
    sa.Column("bill_to", sa.JSON, nullable=False),
    # P4: the part of the note that gives back money paid (the rest only lowers what is
    # owed), and what became of it: refunded to the card, or the account's credit balance.
    # NULL (with 0) on a partner's invoice, and on notes from before credit balances.
    sa.Column("settled_as", sa.String(16), nullable=True),
    sa.Column("settled_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.CheckConstraint("total_minor > 0", name="total_positive"),
    one_of("settled_as", NoteSettlement, nullable=True),
    sa.CheckConstraint(
        "settled_minor >= 0 AND settled_minor <= total_minor", name="settled_within_total"
    ),
    sa.CheckConstraint("(settled_as IS NULL) = (settled_minor = 0)", name="settled_when_paid"),
    sa.Index("ix_credit_notes_invoice", "invoice_id"),
)

credit_note_lines = sa.Table(
    "credit_note_lines",
    metadata,
    sa.Column("credit_note_id", BigId, sa.ForeignKey("credit_notes.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),  # the invoice line it takes back from
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
)


class BalanceMove(StrEnum):
    """What moved an account's credit balance (P4)."""

    CREDIT_NOTE = "credit_note"  # the paid part of a credit note, kept as credit (+)
    OVERPAYMENT = "overpayment"  # a charge that took more than was owed when it landed (+)
    APPLIED = "applied"  # taken off an invoice when it was issued (-)
    UNAPPLIED = "unapplied"  # that invoice voided: the credit back (+)
    REFUNDED = "refunded"  # a credit note's credit given back to the card after all (-)
    REFUND_FAILED = "refund_failed"  # the provider refused a note's refund: credit again (+)


# P4: the ledger behind `accounts.credit_balance_minor`, which always equals the sum of an
# account's entries (`allot verify`). Append-only.
credit_balance_entries = sa.Table(
    "credit_balance_entries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("move", sa.String(16), nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # in the account's currency
    sa.Column("credit_note_id", BigId, sa.ForeignKey("credit_notes.id"), nullable=True),
    sa.Column("invoice_id", BigId, sa.ForeignKey("invoices.id"), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    one_of("move", BalanceMove),
    sa.CheckConstraint(
        "(move IN ('credit_note', 'overpayment', 'refund_failed', 'unapplied'))"
        " = (amount_minor > 0)"
        " AND amount_minor <> 0",
        name="sign_of_move",
    ),
    sa.CheckConstraint(
        "(move IN ('credit_note', 'refunded', 'refund_failed')) = (credit_note_id IS NOT NULL)",
        name="names_its_note",
    ),
    sa.CheckConstraint(
        "(move IN ('overpayment', 'applied', 'unapplied')) = (invoice_id IS NOT NULL)",
        name="names_its_invoice",
    ),
    sa.Index("ix_credit_balance_entries_account", "account_id", "id"),
)

# B8: who bills. One row (id 1), or none until the operator sets it; documents issued before
# then name the seller "allot".
seller = sa.Table(
    "seller",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # legal name (printed as the seller's name), contact e-mail, tax id, address
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("id = 1", name="one_seller"),
)
