"""Usage charges before rounding: overage units and extra seat-days (U4, U6).

Amounts stay exact here; invoicing rounds once, when a line is frozen.

    >>> overage_charge(300, Decimal("0.20"), "USD")      # Full Suite Business at 1,800 orders
    Money('60.00', 'USD')
    >>> extra_seat_charge(45, Decimal("5"), "EUR", days_in_month=30)  # 1.5 seat-months
    Money('7.5', 'EUR')
"""

from __future__ import annotations

from decimal import Decimal

from allot.core.money import Money


def overage_charge(units: int, unit_price: Decimal, currency: str) -> Money:
    """Units past the allowance times the plan's overage price per unit."""
    return Money.of(unit_price, currency) * units


def extra_seat_charge(
    seat_days: int, monthly_price: Decimal, currency: str, *, days_in_month: int
) -> Money:
    """An extra seat costs its monthly price prorated by the days it was held (U6)."""
    return Money.of(monthly_price, currency) * seat_days / days_in_month
