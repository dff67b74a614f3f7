"""What a finished billing document says, ready to render (PDF, JSON, CSV).

A `Document` is a read model: every amount on it is already rounded to the
currency's minor unit and stored; rendering never computes money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity: int
    unit_price: Decimal  # exact, as priced (e.g. 0.20 per order)
    amount_minor: int  # rounded, in the currency's minor unit
    tax_rate: Decimal  # e.g. Decimal("0.20") for 20 %
    period_start: date | None = None
    period_end: date | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class TaxLine:
    rate: Decimal
    base_minor: int
    tax_minor: int


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    reference: str  # account id or partner id
    address: tuple[str, ...] = ()
    tax_id: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    kind: str  # "invoice" or "credit_note"
    number: str | None  # None while a draft
    state: str  # draft, finalized, paid, void, uncollectible (credit notes: issued)
    issued_on: date
    seller: Party
    bill_to: Party
    currency: str
    lines: tuple[DocumentLine, ...]
    subtotal_minor: int
    taxes: tuple[TaxLine, ...]
    total_minor: int
    rounding: str  # the rounding rule applied, e.g. "half_up per line"
    period_start: date | None = None
    period_end: date | None = None  # exclusive
    corrects: str | None = None  # a credit note: the number of the invoice it corrects
    locale: str = "en"
    notes: tuple[str, ...] = ()
    credit_applied_minor: int = 0  # an invoice: the credit balance taken off its total (P4)
