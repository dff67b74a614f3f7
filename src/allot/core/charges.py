"""Charges before rounding: overage units, extra seat-days (U4, U6) and proration (B4).

Amounts stay exact here; invoicing rounds once, when a line is frozen.

    >>> overage_charge(300, Decimal("0.20"), "USD")      # Full Suite Business at 1,800 orders
    Money('60.00', 'USD')
    >>> extra_seat_charge(45, Decimal("5"), "EUR", days_in_month=30)  # 1.5 seat-months
    Money('7.5', 'EUR')

Proration has one home, `prorated_difference`: a plan upgrade and a raised
quantity both move a paid period's price from one figure to a higher one on a
day inside it, and pay the difference for the days left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from allot.core.errors import InvalidInput
from allot.core.money import Money
from allot.core.periods import remaining_share


def overage_charge(units: int, unit_price: Decimal, currency: str) -> Money:
    """Units past the allowance times the plan's overage price per unit."""
    return Money.of(unit_price, currency) * units


def extra_seat_charge(
    seat_days: int, monthly_price: Decimal, currency: str, *, days_in_month: int
) -> Money:
    """An extra seat costs its monthly price prorated by the days it was held (U6)."""
    return Money.of(monthly_price, currency) * seat_days / days_in_month


def prorate(amount: Money, days_left: int, days_in_period: int) -> Money:
    """The share of a period's price for the days left (B4), exact.

    An upgrade from $179 to $479 with 20 of 30 days left charges $200:

        >>> prorate(Money.of(479 - 179, "USD"), 20, 30)
        Money('200', 'USD')
    """
    if days_in_period <= 0 or not 0 <= days_left <= days_in_period:
        raise InvalidInput("invalid_proration", "days left must be within the period")
    return amount * days_left / days_in_period


@dataclass(frozen=True, slots=True)
class Proration:
    """What moving a paid period to a higher price on a day inside it costs."""

    period: tuple[date, date]  # the paid period, [start, end)
    days_left: int  # counting the day of the change
    days_in_period: int
    charge: Money  # exact; the invoice rounds it once

    @property
    def charge_rounded(self) -> Money:
        return self.charge.rounded()


def prorated_difference(
    paid: Money, new: Money, *, period: tuple[date, date], on: date
) -> Proration:
    """(new − paid) × days left / days in the period, for a change on `on` (B4, C3).

    `paid` is what the period was charged, `new` what it would cost from `on`:
    a plan upgrade changes the price per unit, a raised quantity the units.
    A lower price is not refunded (it waits for the renewal), so the charge is
    never negative.

    Stamp-card Monthly, €29 per location, raised from 1 to 3 locations on
    17 January in the period [1 January, 1 February): 15 of 31 days are left,
    so (3 − 1) × €29 × 15/31 = €870/31 = €28.0645… → €28.06 on the invoice:

        >>> jan = (date(2026, 1, 1), date(2026, 2, 1))
        >>> p = prorated_difference(Money.of(29, "EUR"), Money.of(3 * 29, "EUR"),
        ...                         period=jan, on=date(2026, 1, 17))
        >>> (p.days_left, p.days_in_period, p.charge_rounded)
        (15, 31, Money('28.06', 'EUR'))

    The same function prices an upgrade: Loyalty Business $179 → Professional
    $479 on 20 May in [12 May, 12 June) is $300 × 23/31 = $222.58.
    """
    start, end = period
    left, days = remaining_share(start, end, on)
    difference = new - paid
    if difference.amount < 0:
        difference = Money.zero(difference.currency)
    return Proration(period, left, days, prorate(difference, left, days))
