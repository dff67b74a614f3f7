"""Reading dates and instants typed on the command line; errors name the option.

Every date and instant must lie in the engine's years (`allot.core.periods.ENGINE_YEARS`).
"""

from __future__ import annotations

from datetime import date, datetime

from allot.core.errors import InvalidInput
from allot.core.periods import in_range


def instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_datetime", f"{value!r} is not ISO 8601", field=field) from None
    if parsed.tzinfo is None:
        raise InvalidInput("naive_datetime", "add an offset, e.g. +02:00 or Z", field=field)
    return in_range(parsed, field=field)


def day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_date", f"{value!r} is not YYYY-MM-DD", field=field) from None
    return in_range(parsed, field=field)


def pairs(items: list[str], field: str) -> dict[str, str]:
    """`name=value` options into a mapping."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if not name or not value:
            raise InvalidInput("invalid_pair", f"{item!r} is not name=value", field=field)
        out[name] = value
    return out


def allowances(items: list[str], field: str = "allow") -> dict[str, int]:
    """`metric=quantity` options into a package."""
    out = {}
    for metric, quantity in pairs(items, field).items():
        if not quantity.isdigit():
            raise InvalidInput(
                "invalid_allowance", f"{metric}={quantity!r} is not a quantity", field=field
            )
        out[metric] = int(quantity)
    return out
