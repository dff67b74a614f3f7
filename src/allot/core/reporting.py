"""When usage may be reported, and where late usage is billed (U8, B7).

A unit counts in the calendar month in which it *happened* (U5), which is
not always the month in which it is reported. Three bounds keep that honest:

* **Not from the future** (U8): an action dated more than a few minutes ahead
  of the clock (5 by default: clocks drift) is refused, `occurred_in_future`.
* **Not before a plan** (U8): an action dated before the subscription that
  would meter it started — or, with none, before the account existed — is
  refused, `before_plan_started`: nothing was counting then.
* **Not after the month is closed** (B7): a month's usage invoice is issued
  early in the next month; usage reported after it is *late* and goes on the
  account's next usage invoice, priced as in its own month, until the grace
  window closes (35 days after the month ends by default, as Stripe allows
  for meter events). After that it is refused, `period_closed`.

    >>> closes_at(Month(2026, 1), Zones("UTC"), 35).isoformat()
    '2026-03-08T00:00:00+00:00'

A late unit is billed once because a usage invoice bills, for each earlier
month still open when it is issued, that month's billable units less those
already on earlier invoices (`late_units`) — never a count kept on the side.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from allot.core.errors import InvalidInput
from allot.core.periods import Month
from allot.core.timezones import Zones

FUTURE_TOLERANCE = timedelta(minutes=5)
DEFAULT_GRACE_DAYS = 35
MAX_GRACE_DAYS = 366


def check_not_future(
    at: datetime, now: datetime, *, tolerance: timedelta = FUTURE_TOLERANCE, field: str
) -> None:
    if at > now + tolerance:
        raise InvalidInput(
            "occurred_in_future",
            f"{at.isoformat()} is more than {_span(tolerance)} after now ({now.isoformat()})",
            field=field,
        )


def check_started(at: datetime, started: datetime, *, what: str, field: str) -> None:
    """Refuse an action dated before `started`, the first instant `what` was counting."""
    if at < started:
        raise InvalidInput(
            "before_plan_started",
            f"{at.isoformat()} is before {what} started ({started.isoformat()})",
            field=field,
        )


def closes_at(month: Month, zones: Zones, grace_days: int) -> datetime:
    """The instant after which no more usage of `month` is accepted."""
    return zones.span(month)[1] + timedelta(days=grace_days)


def check_open(
    at: datetime, month: Month, zones: Zones, grace_days: int, now: datetime, *, field: str
) -> None:
    closed = closes_at(month, zones, grace_days)
    if now >= closed:
        raise InvalidInput(
            "period_closed",
            f"{at.isoformat()} is in {month}, closed to late usage since {closed.isoformat()}",
            field=field,
        )


def open_months_before(month: Month, grace_days: int) -> list[Month]:
    """The months before `month` whose late usage may still be unbilled when it is invoiced.

    A month stays open `grace_days` after it ends, so at most that many days'
    worth of earlier months, oldest first:

        >>> [m.key for m in open_months_before(Month(2026, 3), 35)]
        ['2026-01', '2026-02']
    """
    back = grace_days // 28 + 1
    months = [month]
    for _ in range(back):
        months.insert(0, months[0].previous())
    return months[:-1]


def late_units(billable: int, already_billed: int) -> int:
    """What a usage invoice bills late for an earlier month: what is due less what was billed.

    >>> late_units(301, 300)
    1
    """
    return max(billable - already_billed, 0)


def _span(tolerance: timedelta) -> str:
    seconds = int(tolerance.total_seconds())
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
