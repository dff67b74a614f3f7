"""Freezing charges into totals, tax per rate, credit notes (B5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.charges import prorate
from allot.core.errors import InvalidInput
from allot.core.invoicing import Charge, ChargeKind, credit, freeze
from allot.core.money import Money


def line(amount: str, rate: str = "0") -> Charge:
    return Charge(ChargeKind.PLAN, "x", 1, Decimal(amount), Decimal(amount), Decimal(rate))


def test_b5_each_line_rounds_once_and_lines_add_up() -> None:
    # 279 / 1500 per order, 7 orders: 1.302 -> 1.30
    t = freeze([line("1.302"), line("0.005"), line("279")], "USD", tax_rate=Decimal("0.0825"))
    assert [f.amount_minor for f in t.lines] == [130, 1, 27900]  # half_up: 0.005 -> 0.01
    assert t.subtotal_minor == 28031
    assert t.taxes[0].base_minor == 28031
    assert t.taxes[0].tax_minor == 2313  # 280.31 x 8.25 % = 23.1256 -> 23.13
    assert t.total_minor == 30344
    assert "half_up" in t.rounding


def test_b5_a_tax_line_per_rate() -> None:
    t = freeze([line("10", "0.2"), line("5", "0.05"), line("10", "0.2")], "EUR")
    assert [(str(x.rate), x.base_minor, x.tax_minor) for x in t.taxes] == [
        ("0.05", 500, 25),
        ("0.2", 2000, 400),
    ]
    assert t.total_minor == 2500 + 425


def test_b5_zero_decimal_currency() -> None:
    t = freeze([line("1000.5")], "KRW")
    assert t.total_minor == 1001


def test_b5_half_even_is_a_named_choice() -> None:
    assert freeze([line("0.125")], "USD", mode="half_even").total_minor == 12
    assert freeze([line("0.125")], "USD").total_minor == 13


def test_b5_invalid_tax_rate_names_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        freeze([line("1")], "USD", tax_rate=Decimal("1.5"))
    assert err.value.field == "tax_rate"


def test_b5_partial_credit_recomputes_tax_and_never_exceeds_the_line() -> None:
    inv = freeze([line("29"), line("60")], "EUR", tax_rate=Decimal("0.21"))
    first = credit(inv, {1: 2000})
    assert (first.subtotal_minor, first.total_minor) == (2000, 2420)
    with pytest.raises(InvalidInput) as err:
        credit(inv, {1: 4001}, already={1: 2000})
    assert err.value.code == "credit_exceeds_line"
    rest = credit(inv, already={1: 2000})
    assert rest.subtotal_minor == 2900 + 4000
    with pytest.raises(InvalidInput):
        credit(inv, {5: 1})
    with pytest.raises(InvalidInput):
        credit(inv, {0: 0})


def test_b4_proration_to_the_cent() -> None:
    # Loyalty Business $179 -> Professional $479 with 20 of 30 days left
    assert prorate(Money.of(300, "USD"), 20, 30).rounded().amount == Decimal("200.00")
    # EUR 29 -> 290 annual plan is not a proration; 7 of 31 days of EUR 10 difference
    assert prorate(Money.of(10, "EUR"), 7, 31).rounded().amount == Decimal("2.26")
    with pytest.raises(InvalidInput):
        prorate(Money.of(10, "EUR"), 32, 31)


amounts = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("100000"), places=4, allow_nan=False
)
rates = st.sampled_from([Decimal(0), Decimal("0.05"), Decimal("0.2"), Decimal("0.21")])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(amounts, rates), min_size=1, max_size=12),
    st.sampled_from(["USD", "KRW", "KWD"]),
)
def test_b5_lines_add_up_and_a_full_credit_nets_to_zero(
    rows: list[tuple[Decimal, Decimal]], currency: str
) -> None:
    inv = freeze([line(str(a), str(r)) for a, r in rows], currency)
    assert sum(f.amount_minor for f in inv.lines) == inv.subtotal_minor
    assert sum(t.base_minor for t in inv.taxes) == inv.subtotal_minor
    assert inv.subtotal_minor + inv.tax_minor == inv.total_minor
    if inv.subtotal_minor == 0:
        return
    full = credit(inv)
    assert inv.total_minor - full.total_minor == 0
    assert inv.taxes == full.taxes
