"""Proration (B4, C3): one function for a plan upgrade and a raised quantity."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from allot.core.charges import prorated_difference
from allot.core.errors import InvalidInput
from allot.core.money import Money

# (case, currency, paid, new, the paid period [start, end), the day of the change,
#  days left, days in the period, the charge rounded)
TABLE = [
    # stamp-card Monthly €29 per location, 1 → 3 locations on 17 January (the scenario)
    ("C3 raise 1 to 3", "EUR", "29", "87", "2026-01-01/2026-02-01", "2026-01-17", 15, 31, "28.06"),
    ("C3 first day", "EUR", "29", "87", "2026-01-01/2026-02-01", "2026-01-01", 31, 31, "58.00"),
    ("C3 on the last day", "EUR", "29", "87", "2026-01-01/2026-02-01", "2026-01-31", 1, 31, "1.87"),
    # Annual €290 per location, 2 → 3 on 18 July: 184 of 365 days
    ("C3 annual", "EUR", "580", "870", "2026-01-18/2027-01-18", "2026-07-18", 184, 365, "146.19"),
    ("C3 leap", "EUR", "290", "580", "2027-03-01/2028-03-01", "2027-09-01", 182, 366, "144.21"),
    # B4 upgrades: Loyalty Business $179 → Professional $479
    ("B4 seed 003", "USD", "179", "479", "2026-05-12/2026-06-12", "2026-05-20", 23, 31, "222.58"),
    ("B4 12 March", "USD", "179", "479", "2026-03-02/2026-04-02", "2026-03-12", 21, 31, "203.23"),
    # a currency without minor units rounds to the yen
    ("no minor unit", "JPY", "1000", "3000", "2026-06-01/2026-07-01", "2026-06-21", 10, 30, "667"),
    # a lower price waits for the renewal: never a refund
    ("lower price", "EUR", "87", "58", "2026-02-01/2026-03-01", "2026-02-10", 19, 28, "0"),
    ("same price", "EUR", "29", "29", "2026-02-01/2026-03-01", "2026-02-10", 19, 28, "0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "currency", "paid", "new", "period", "on", "left", "days", "rounded"),
    TABLE,
    ids=[row[0] for row in TABLE],
)
def test_b4_c3_prorated_difference(
    case: str,
    currency: str,
    paid: str,
    new: str,
    period: str,
    on: str,
    left: int,
    days: int,
    rounded: str,
) -> None:
    start, end = (date.fromisoformat(d) for d in period.split("/"))
    p = prorated_difference(
        Money.of(paid, currency),
        Money.of(new, currency),
        period=(start, end),
        on=date.fromisoformat(on),
    )
    assert (p.period, p.days_left, p.days_in_period) == ((start, end), left, days)
    exact = max(Fraction(new) - Fraction(paid), Fraction(0)) * left / days
    # exact (to 34 digits) until the invoice rounds it
    assert abs(Fraction(p.charge.amount) - exact) < Fraction(1, 10**25)
    assert p.charge.currency == currency
    assert p.charge_rounded == Money.of(rounded, currency)


def test_b4_a_day_outside_the_paid_period_is_refused() -> None:
    jan = (date(2026, 1, 1), date(2026, 2, 1))
    with pytest.raises(InvalidInput) as err:
        prorated_difference(
            Money.of(29, "EUR"), Money.of(58, "EUR"), period=jan, on=date(2026, 2, 1)
        )
    assert err.value.code == "outside_period"


def test_b4_prices_in_two_currencies_are_refused() -> None:
    jan = (date(2026, 1, 1), date(2026, 2, 1))
    with pytest.raises(InvalidInput) as err:
        prorated_difference(
            Money.of(29, "EUR"), Money.of(58, "USD"), period=jan, on=date(2026, 1, 5)
        )
    assert err.value.code == "currency_mismatch"
