"""Charge lines → an invoice's totals: the one rounding boundary (B5).

Charges arrive exact (an overage of 300 × 0.20, a proration of 300 × 20/30: see `charges`).
Freezing a document rounds each line once, to the currency's minor unit, with a
named mode; tax is then computed per rate on the sum of that rate's rounded
lines and rounded once more. So the lines always add up to the subtotal, the
tax lines to the tax, and subtotal + tax to the total, to the minor unit.

    >>> plan, overage = ChargeKind.PLAN, ChargeKind.OVERAGE
    >>> lines = [Charge(plan, "Full Suite Business", 1, Decimal("279"), Decimal("279")),
    ...          Charge(overage, "Overage: orders", 300, Decimal("0.20"), Decimal("60.00"))]
    >>> t = freeze(lines, "USD", tax_rate=Decimal("0.2"))
    >>> [x.amount_minor for x in t.lines], t.subtotal_minor, t.taxes[0].tax_minor, t.total_minor
    ([27900, 6000], 33900, 6780, 40680)

A credit note takes back part or all of a frozen invoice, line by line, with
its tax recomputed the same way; a full credit note is the exact negation of
its invoice, so the two net to zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from allot.core.errors import InvalidInput
from allot.core.money import DEFAULT_ROUNDING, exponent, quantize


class ChargeKind(StrEnum):
    """What an invoice line charges for; the database refuses any other."""

    PLAN = "plan"  # a month (or year) of the plan, in advance (B1)
    PRORATION = "proration"  # an upgrade or a quantity increase, for the rest of the cycle (B4)
    OVERAGE = "overage"  # units past the allowance, billed per unit (U4)
    LATE_OVERAGE = "late_overage"  # overage recorded after its month was invoiced (B7)
    EXTRA_SEATS = "extra_seats"  # seat-days of seats past the allowance (U6)
    TOP_UP = "top_up"  # reviews past the limit, paid by the top-up (R2)
    REFERRAL_CREDIT = "referral_credit"  # a referral reward taken off the invoice (A4)
    WHOLESALE = "wholesale"  # a partner's code-month at wholesale terms (K8)


@dataclass(frozen=True, slots=True)
class Charge:
    """One unrounded line of a document."""

    kind: ChargeKind
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal  # exact; negative for a credit
    tax_rate: Decimal = Decimal(0)
    metric: str | None = None
    period_start: date | None = None
    period_end: date | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class Frozen:
    charge: Charge
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Tax:
    rate: Decimal
    base_minor: int
    tax_minor: int


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    lines: tuple[Frozen, ...]
    subtotal_minor: int
    taxes: tuple[Tax, ...]
    total_minor: int
    rounding: str

    @property
    def tax_minor(self) -> int:
        return sum(t.tax_minor for t in self.taxes)


def rounding_rule(mode: str) -> str:
    return f"{mode}: each line to the minor unit, then tax per rate on the rounded lines"


def _minor(amount: Decimal, currency: str, mode: str) -> int:
    return int(quantize(amount, currency, mode).scaleb(exponent(currency)))


def _taxes(frozen: Sequence[tuple[Decimal, int]], currency: str, mode: str) -> tuple[Tax, ...]:
    bases: dict[Decimal, int] = {}
    for rate, minor in frozen:
        bases[rate] = bases.get(rate, 0) + minor
    places = exponent(currency)
    taxes = []
    for rate in sorted(bases):
        base = bases[rate]
        exact = Decimal(base).scaleb(-places) * rate
        taxes.append(Tax(rate, base, _minor(exact, currency, mode)))
    return tuple(taxes)


def check_tax_rate(rate: Decimal, *, field: str = "tax_rate") -> Decimal:
    if not Decimal(0) <= rate < Decimal(1):
        raise InvalidInput("invalid_tax_rate", "a tax rate is a fraction in [0, 1)", field=field)
    return rate


def freeze(
    charges: Sequence[Charge],
    currency: str,
    *,
    tax_rate: Decimal | None = None,
    mode: str = DEFAULT_ROUNDING,
) -> Totals:
    """Round every line once and total the document. `tax_rate` overrides each line's rate."""
    lines = []
    for c in charges:
        if tax_rate is not None:
            c = Charge(
                c.kind,
                c.description,
                c.quantity,
                c.unit_price,
                c.amount,
                check_tax_rate(tax_rate),
                c.metric,
                c.period_start,
                c.period_end,
            )
        lines.append(Frozen(c, _minor(c.amount, currency, mode)))
    taxes = _taxes([(f.charge.tax_rate, f.amount_minor) for f in lines], currency, mode)
    subtotal = sum(f.amount_minor for f in lines)
    return Totals(
        currency,
        tuple(lines),
        subtotal,
        taxes,
        subtotal + sum(t.tax_minor for t in taxes),
        rounding_rule(mode),
    )


@dataclass(frozen=True, slots=True)
class CreditLine:
    line: int  # index of the invoice line credited
    amount_minor: int  # positive: how much of it is taken back


@dataclass(frozen=True, slots=True)
class Credit:
    lines: tuple[CreditLine, ...]
    subtotal_minor: int
    taxes: tuple[Tax, ...]
    total_minor: int


def credit(
    invoice: Totals,
    amounts: Mapping[int, int] | None = None,
    *,
    already: Mapping[int, int] | None = None,
    mode: str = DEFAULT_ROUNDING,
) -> Credit:
    """A credit note against a frozen invoice.

    `amounts` maps line index → minor units to take back (None: everything still
    creditable); `already` is what earlier credit notes took back per line. A
    line can never be credited past what was charged for it, and a note never
    past what the invoice still asks for: a credit line on the invoice (a
    referral reward) lowers what can be taken back, so that "everything" takes
    back the invoice's net, from its first lines on. When the whole invoice is
    credited the tax is the invoice's own, so the two net to zero exactly; a
    partial credit recomputes tax per rate on what it takes back.

        >>> monthly = Charge(ChargeKind.PLAN, "Monthly", 1, Decimal("29"), Decimal("29"))
        >>> inv = freeze([monthly], "EUR",
        ...              tax_rate=Decimal("0.21"))
        >>> credit(inv, {0: 1000}).total_minor
        1210
        >>> credit(inv).total_minor == inv.total_minor
        True
    """
    already = already or {}
    creditable = {
        i: f.amount_minor - already.get(i, 0)
        for i, f in enumerate(invoice.lines)
        if f.amount_minor > 0
    }
    left = net_left(invoice, already)
    wanted = _everything(creditable, left) if amounts is None else dict(amounts)
    _check_lines(wanted, creditable)
    lines = tuple(CreditLine(i, m) for i, m in sorted(wanted.items()) if m)
    subtotal = sum(c.amount_minor for c in lines)
    if subtotal > left:
        raise InvalidInput(
            "credit_exceeds_invoice",
            f"{subtotal} exceeds the {left} the invoice still asks for before tax",
            field="lines",
        )
    if not already and subtotal == invoice.subtotal_minor:
        taxes = invoice.taxes
    else:
        rates = [(invoice.lines[c.line].charge.tax_rate, c.amount_minor) for c in lines]
        taxes = _taxes(rates, invoice.currency, mode)
    return Credit(lines, subtotal, taxes, subtotal + sum(t.tax_minor for t in taxes))


def _everything(creditable: Mapping[int, int], left: int) -> dict[int, int]:
    """All that is still creditable, line by line from the first, up to the invoice's net
    `left`: the credit lines on it (a referral reward) leave the last lines uncredited."""
    wanted: dict[int, int] = {}
    for i, room in creditable.items():
        take = max(0, min(room, left - sum(wanted.values())))
        if take:
            wanted[i] = take
    return wanted


def _check_lines(wanted: Mapping[int, int], creditable: Mapping[int, int]) -> None:
    """Something to take back, and on each line no more than it still has to give."""
    if not wanted or not any(wanted.values()):
        raise InvalidInput("empty_credit", "a credit note takes back at least one amount")
    for i, minor in wanted.items():
        if i not in creditable:
            raise InvalidInput("unknown_line", f"line {i} cannot be credited", field="lines")
        if minor < 0:
            raise InvalidInput("negative_credit", "credit amounts are positive", field="lines")
        if minor > creditable[i]:
            raise InvalidInput(
                "credit_exceeds_line",
                f"line {i}: {minor} exceeds the {creditable[i]} still creditable",
                field="lines",
            )


def net_left(invoice: Totals, already: Mapping[int, int]) -> int:
    """What an invoice still asks for before tax, after earlier credit notes."""
    return invoice.subtotal_minor - sum(already.values())
