"""Invoice, credit note, invoice run and clock shapes on the wire (money: exact decimal strings)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allot.account.repository import AccountRow
from allot.core.money import Money
from allot.invoice import service
from allot.invoice.repository import BalanceEntry, CreditNoteRow, InvoiceRow
from allot.kit.validate import Instant

_STRICT = ConfigDict(extra="forbid")


class InvoiceSummary(BaseModel):
    id: int
    number: str | None = Field(description="INV-2026-000001: gap-free per year.")
    kind: str = Field(description="subscription, usage, proration or partner")
    state: str = Field(description="finalized, paid, void or uncollectible")
    account_id: str | None
    partner_id: str | None
    subscription_id: int | None
    currency: str
    issued_on: date
    period_start: date | None
    period_end: date | None = Field(description="Exclusive.")
    subtotal: str
    tax: str
    total: str
    credit_applied: str = Field(
        description="The account's credit balance taken off the total when it was issued "
        "(P4); the card is charged the rest."
    )


class InvoicePage(BaseModel):
    data: list[InvoiceSummary]
    next_after: int | None = Field(None, description="Pass as `after` for the next (older) page.")


class InvoiceLineRead(BaseModel):
    position: int
    kind: str = Field(
        description="plan, proration, overage, late_overage (B7: an earlier month's usage"
        " reported after its invoice), extra_seats, top_up, referral_credit or wholesale"
    )
    description: str
    metric: str | None
    quantity: int
    unit_price: str = Field(description="Exact, as priced.")
    amount_exact: str
    amount: str = Field(description="Rounded once, when the invoice was frozen.")
    tax_rate: str
    period_start: date | None
    period_end: date | None


class TaxRead(BaseModel):
    rate: str
    base: str
    tax: str


class CreditNoteLineRead(BaseModel):
    position: int = Field(description="The invoice line it takes back from.")
    amount: str


class CreditNoteRead(BaseModel):
    number: str = Field(description="CN-2026-000001: gap-free per year.")
    invoice_id: int
    issued_on: date
    reason: str
    subtotal: str
    tax: str
    total: str
    taxes: list[TaxRead]
    lines: list[CreditNoteLineRead]
    settled_as: Literal["refund", "balance"] | None = Field(
        description="What became of the part that gave back money paid: refunded to the card, "
        "or kept as the account's credit balance; null when it only lowered what the invoice "
        "asked for (or on a partner's invoice)."
    )
    settled: str = Field(description="That part: money paid given back (tax included).")


class InvoiceRead(InvoiceSummary):
    rounding: str
    notes: list[str]
    lines: list[InvoiceLineRead]
    taxes: list[TaxRead]
    credit_notes: list[CreditNoteRead]
    finalized_at: datetime | None
    settled_at: datetime | None
    settlement_note: str | None


def _money(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def invoice_summary(invoice: InvoiceRow) -> InvoiceSummary:
    return InvoiceSummary.model_validate(service.summary(invoice))


def credit_note_read(invoice: InvoiceRow, note: CreditNoteRow) -> CreditNoteRead:
    c = invoice.currency
    return CreditNoteRead(
        number=note.number,
        invoice_id=note.invoice_id,
        issued_on=note.issued_on,
        reason=note.reason,
        subtotal=_money(note.subtotal_minor, c),
        tax=_money(note.tax_minor, c),
        total=_money(note.total_minor, c),
        taxes=[
            TaxRead(rate=str(t.rate), base=_money(t.base_minor, c), tax=_money(t.tax_minor, c))
            for t in note.taxes
        ],
        lines=[CreditNoteLineRead(position=p, amount=_money(m, c)) for p, m in note.lines],
        settled_as=note.settled_as,
        settled=_money(note.settled_minor, c),
    )


def invoice_read(invoice: InvoiceRow, notes: list[CreditNoteRow]) -> InvoiceRead:
    data: dict[str, Any] = service.to_json(invoice, notes)
    data["credit_notes"] = [credit_note_read(invoice, n) for n in notes]
    return InvoiceRead.model_validate(
        {
            **data,
            "finalized_at": invoice.finalized_at,
            "settled_at": invoice.settled_at,
            "settlement_note": invoice.settlement_note,
        }
    )


class BalanceEntryRead(BaseModel):
    id: int
    move: Literal[
        "credit_note", "overpayment", "applied", "unapplied", "refunded", "refund_failed"
    ] = Field(
        description="credit_note: a credit note's paid part kept as credit; overpayment: a "
        "charge that took more than was owed when it landed; applied: taken off an invoice; "
        "unapplied: that invoice voided, the credit back; "
        "refunded: a credit note's credit refunded to the card after all; refund_failed: the "
        "provider refused that refund, and the money is credit again."
    )
    amount: str = Field(description="Signed: positive in, negative out.")
    credit_note: str | None
    invoice: str | None
    at: datetime


class CreditBalanceRead(BaseModel):
    account_id: str
    currency: str
    balance: str = Field(description="Taken off the next invoices' totals, tax included.")
    entries: list[BalanceEntryRead]
    next_after: int | None = Field(None, description="Pass as `after` for the next (older) page.")


def credit_balance_read(
    account: AccountRow, entries: list[BalanceEntry], limit: int
) -> CreditBalanceRead:
    c = account.currency
    return CreditBalanceRead(
        account_id=account.id,
        currency=c,
        balance=_money(account.credit_balance_minor, c),
        entries=[
            BalanceEntryRead(
                id=e.id,
                move=e.move,
                amount=_money(e.amount_minor, c),
                credit_note=e.credit_note,
                invoice=e.invoice,
                at=e.at,
            )
            for e in entries
        ],
        next_after=entries[-1].id if len(entries) == limit else None,
    )


class InvoicePay(BaseModel):
    model_config = _STRICT
    note: str = Field("marked paid by the operator", min_length=1, max_length=200)


class InvoiceSettle(BaseModel):
    model_config = _STRICT
    reason: str = Field(min_length=1, max_length=200, examples=["issued by mistake"])


class CreditLine(BaseModel):
    model_config = _STRICT
    position: int = Field(ge=0, le=100_000, description="The invoice line (0 = the first).")
    amount: Decimal = Field(
        gt=0, max_digits=18, description="How much of the line to take back, before tax."
    )


class CreditNoteCreate(BaseModel):
    model_config = _STRICT
    reason: str = Field(min_length=1, max_length=200, examples=["goodwill: outage on 3 May"])
    lines: list[CreditLine] | None = Field(
        None, min_length=1, max_length=1000, description="Omit to take back all that is left."
    )
    settle: Literal["refund", "balance"] | None = Field(
        None,
        description="For what gives back money paid (a note on a paid invoice): refund it to "
        "the card that paid, or keep it as the account's credit for its next invoices "
        "(the default).",
    )

    @field_validator("lines")
    @classmethod
    def _once_each(cls, lines: list[CreditLine] | None) -> list[CreditLine] | None:
        positions = [line.position for line in lines or ()]
        if len(set(positions)) != len(positions):
            raise ValueError("each line position may appear once")
        return lines


class BillingRunRead(BaseModel):
    as_of: datetime
    accounts: int = Field(description="Accounts that had something due.")
    issued: int
    counts: dict[str, int] = Field(description="Invoices issued per kind.")
    invoices: list[str] = Field(description="Their numbers, in the order issued.")


class ClockAdvance(BaseModel):
    model_config = _STRICT
    months: int = Field(0, ge=0, le=1200)
    days: int = Field(0, ge=0, le=36_600)
    hours: int = Field(0, ge=0, le=876_000)


class ClockSet(BaseModel):
    """Set the clock to `now`, or move it forward by `advance`: exactly one of the two."""

    model_config = _STRICT
    now: Annotated[Instant, Field(examples=["2026-06-09T09:00:00+03:00"])] | None = None
    advance: ClockAdvance | None = Field(None, examples=[{"months": 1, "days": 7}])

    @field_validator("now")
    @classmethod
    def _in_utc(cls, at: datetime | None) -> datetime | None:
        return None if at is None else at.astimezone(UTC)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.now is None) == (self.advance is None):
            raise ValueError("send exactly one of `now` and `advance`")
        return self


class ClockRead(BaseModel):
    now: datetime = Field(description="The instant this API reads as now.")
    simulated: bool = Field(description="True while the database's clock is set.")
    stored: datetime | None = Field(description="The database's clock; none: real time.")
