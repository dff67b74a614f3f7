"""Reading dates and instants typed on the command line; errors name the option."""

from __future__ import annotations

from datetime import date, datetime

from allot.core.errors import InvalidInput


def instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_datetime", f"{value!r} is not ISO 8601", field=field) from None
    if parsed.tzinfo is None:
        raise InvalidInput("naive_datetime", "add an offset, e.g. +02:00 or Z", field=field)
    return parsed


def day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_date", f"{value!r} is not YYYY-MM-DD", field=field) from None
