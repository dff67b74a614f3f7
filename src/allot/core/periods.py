"""Calendar months in an account's time zone, contract anniversaries, day counts.

Usage is counted per *calendar month in the account's time zone* (U5): an
order placed at 23:30 on 31 January in Kyiv belongs to January even if it is
reported on 2 February. A month is a half-open interval of UTC instants
`[start, end)` computed with zoneinfo, so DST and UTC+14 / UTC-11 accounts
need no special cases.

Contract anniversaries keep the day of month (B1): a start on the 31st falls
on the last day of shorter months and returns to the 31st when it can.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from allot.core.errors import InvalidInput


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
        try:
            year, month = text.split("-")
            return cls(int(year), int(month))
        except ValueError:
            raise InvalidInput("invalid_month", f"{text!r} is not YYYY-MM", field="month") from None

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


def anniversary(anchor: date, periods: int, *, months_per_period: int = 1) -> date:
    """The date `periods` billing periods after `anchor`, keeping the day of month.

    >>> [str(anniversary(date(2026, 1, 31), n)) for n in range(4)]
    ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']
    """
    total = anchor.month - 1 + periods * months_per_period
    year, month0 = divmod(total, 12)
    year += anchor.year
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def billing_period(anchor: date, index: int, *, months: int = 1) -> tuple[date, date]:
    """The `index`-th billing period of a contract started on `anchor`, as [start, end).

    Periods tile: each ends on the day the next starts (B1).

    >>> [tuple(map(str, billing_period(date(2026, 1, 31), n))) for n in (0, 1)]
    [('2026-01-31', '2026-02-28'), ('2026-02-28', '2026-03-31')]
    """
    return (
        anniversary(anchor, index, months_per_period=months),
        anniversary(anchor, index + 1, months_per_period=months),
    )


def period_index(anchor: date, day: date, *, months: int = 1) -> int:
    """The index of the billing period that contains `day` (on or after `anchor`).

    >>> period_index(date(2026, 1, 31), date(2026, 3, 30))   # [28 Feb, 31 Mar)
    1
    """
    if day < anchor:
        raise InvalidInput("before_contract", f"{day} is before the contract date", field="day")
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    index = max(elapsed // months, 0)
    # the anniversary in `day`'s month may still be ahead of it
    while anniversary(anchor, index, months_per_period=months) > day:
        index -= 1
    return index


def remaining_share(start: date, end: date, on: date) -> tuple[int, int]:
    """Days left in the period [start, end) counting `on` itself, and the period's days.

    A change on 11 June in the period [1 June, 1 July) leaves 20 of 30 days.

    >>> remaining_share(date(2026, 6, 1), date(2026, 7, 1), date(2026, 6, 11))
    (20, 30)
    """
    if not start <= on < end:
        raise InvalidInput("outside_period", f"{on} is not in [{start}, {end})", field="on")
    return (end - on).days, (end - start).days
