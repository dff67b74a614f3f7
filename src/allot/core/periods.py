"""Calendar months in an account's time zone, and the dates the engine accepts.

Usage is counted per *calendar month in the account's time zone* (U5): an
order placed at 23:30 on 31 January in Kyiv belongs to January even if it is
reported on 2 February. A month is a half-open interval of UTC instants
`[start, end)` computed with zoneinfo, so DST and UTC+14 / UTC-11 accounts
need no special cases.

The billing calendar built on these months (contract dates, usage-invoice
days, proration) is `allot.core.calendar`.

The engine computes with the years `ENGINE_YEARS` (2000-2099), and every date,
month and instant a caller gives it must lie in them (`in_range`): far enough
from datetime's limits (years 1 and 9999) that a month's end, a contract's
next anniversary or an instant seen in any time zone can never overflow. Dates
the engine derives may pass an end by a little (month 2099-12 ends on
2100-01-01; 2000-01-01T00:00Z is still 1999 in New York), so `Month.parse`,
which also reads stored keys back, checks the shape only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from allot.core.errors import InvalidInput

ENGINE_YEARS = range(2000, 2100)
"""The one rule for the dates allot accepts: years 2000-2099 (instants: in UTC)."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "unknown_time_zone", f"{name!r} is not an IANA time zone", field="timezone"
        ) from None


def require_utc(instant: datetime, *, field: str = "occurred_at") -> datetime:
    """Instants must carry an offset; naive datetimes are ambiguous and refused."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput("naive_datetime", "a time zone offset is required", field=field)
    return instant.astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise InvalidInput("invalid_month", f"month {self.month} is not 1-12", field="month")

    @classmethod
    def parse(cls, text: str) -> Month:
        """`YYYY-MM`, any year: stored keys come back through here (`from_input` for callers)."""
        try:
            year, month = text.split("-")
            return cls(int(year), int(month))
        except ValueError:
            raise InvalidInput("invalid_month", f"{text!r} is not YYYY-MM", field="month") from None

    @classmethod
    def from_input(cls, text: str, *, field: str = "month") -> Month:
        """A month a caller typed: `YYYY-MM` in `ENGINE_YEARS`.

        >>> Month.from_input("2099-12")
        Month(year=2099, month=12)
        >>> Month.from_input("1999-12", field="period")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        allot.core.errors.InvalidInput: date_out_of_range [period]: 1999-12 is outside the ...
        """
        try:
            parsed = cls.parse(text)
        except InvalidInput as exc:
            raise InvalidInput(exc.code, exc.message, field=field) from None
        return in_range(parsed, field=field)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.key

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def start(self, tz: ZoneInfo) -> datetime:
        """The UTC instant at which this month begins in `tz`."""
        return local_midnight(self.first_day(), tz)

    def end(self, tz: ZoneInfo) -> datetime:
        return self.next().start(tz)


_Dated = TypeVar("_Dated", date, datetime, Month)


def in_range(value: _Dated, *, field: str) -> _Dated:
    """`value` if it lies in `ENGINE_YEARS`, else `date_out_of_range` naming `field`.

    A date or a month by its year; an instant by its year in UTC (a naive one by
    its own year). An instant too close to datetime's limits to be seen in UTC
    (`9999-12-31T23:59:59-05:00`) is out of range too.

    >>> in_range(date(2099, 12, 31), field="starts_on")
    datetime.date(2099, 12, 31)
    >>> in_range(datetime.fromisoformat("2100-01-01T01:00:00+02:00"), field="at").year
    2100
    >>> in_range(date(2100, 1, 1), field="ends_on")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    allot.core.errors.InvalidInput: date_out_of_range [ends_on]: 2100-01-01 is outside the ...
    """
    if isinstance(value, datetime):
        year = _utc_year(value)
        shown = value.isoformat()
    else:
        year, shown = value.year, str(value)
    if year is None or year not in ENGINE_YEARS:
        first, last = ENGINE_YEARS[0], ENGINE_YEARS[-1]
        raise InvalidInput(
            "date_out_of_range", f"{shown} is outside the years {first}-{last}", field=field
        )
    return value


def _utc_year(instant: datetime) -> int | None:
    if instant.utcoffset() is None:
        return instant.year
    try:
        return instant.astimezone(UTC).year
    except OverflowError:  # before year 1 or after 9999 once in UTC
        return None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def month_of(instant: datetime, tz: ZoneInfo) -> Month:
    local = require_utc(instant).astimezone(tz)
    return Month(local.year, local.month)


def days_touched(start: datetime, end: datetime | None, month: Month, tz: ZoneInfo) -> int:
    """Local calendar days of `month` on which the interval [start, end) is held.

    A seat taken at 17:00 on the 3rd and released at 09:00 on the 5th was held on
    3 days (3rd, 4th, 5th); `end=None` means still held at the end of the month.

        >>> kyiv = ZoneInfo("Europe/Kyiv")
        >>> days_touched(datetime(2026, 3, 3, 15, tzinfo=UTC),
        ...              datetime(2026, 3, 5, 7, tzinfo=UTC), Month(2026, 3), kyiv)
        3
    """
    lo = max(require_utc(start, field="start"), month.start(tz))
    hi = month.end(tz) if end is None else min(require_utc(end, field="end"), month.end(tz))
    if hi <= lo:
        return 0
    first = lo.astimezone(tz).date()
    # the last instant held is just before `hi`
    last = (hi - timedelta(microseconds=1)).astimezone(tz).date()
    return (last - first).days + 1
