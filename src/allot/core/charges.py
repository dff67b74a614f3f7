"""Charges before rounding: overage units, extra seat-days (U4, U6) and proration (B4).

Amounts stay exact here; invoicing rounds once, when a line is frozen.

    >>> overage_charge(300, Decimal("0.20"), "USD")      # Full Suite Business at 1,800 orders
    Money('60.00', 'USD')
    >>> extra_seat_charge(45, Decimal("5"), "EUR", days_in_month=30)  # 1.5 seat-months
    Money('7.5', 'EUR')

`prorate` is the money of proration; which period is paid and how many of its
days are left is the billing calendar's (`calendar.prorate_change`).
"""

from __future__ import annotations

from decimal import Decimal

from allot.core.errors import InvalidInput
from allot.core.money import Money


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
