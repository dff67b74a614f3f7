"""An account's time zone over time: a change takes effect from the next month (A5).

Usage counts in calendar months of the account's time zone (U5). If a new
zone applied at once, an action reported late (an order from 31 January,
reported on 2 February) could land in another month than the one it would
have had, and the billing page would disagree with itself. So a change waits
for the next month, and switches at the instant **both** zones agree that
month has begun: the later of its first instant in the old zone and in the
new one. Before that instant months are the old zone's, after it the new
zone's, and they still tile time with no gap and no overlap:

* moving west (Kyiv → New York): Kyiv's February begins first; from then
  until New York's February begins, Kyiv's calendar says February already;
* moving east (New York → Kyiv): Kyiv's February has begun before New York's
  January ends; New York's calendar keeps January until its end.

    >>> from datetime import UTC
    >>> kyiv = Zones("Europe/Kyiv")
    >>> zones = kyiv.changed_to("America/New_York", datetime(2026, 1, 20, tzinfo=UTC))
    >>> zones.since.isoformat()
    '2026-02-01T05:00:00+00:00'
    >>> zones.month_of(datetime(2026, 2, 1, 2, tzinfo=UTC)).key  # 04:00 in Kyiv
    '2026-02'
    >>> zones.month_of(datetime(2026, 1, 31, 23, tzinfo=UTC)).key  # already 01:00 in Kyiv
    '2026-02'

Only the latest change is kept; an earlier zone matters only for actions
older than it, which late usage (B7) does not reach once a month has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from allot.core.periods import Month, local_midnight, month_of, zone


@dataclass(frozen=True, slots=True)
class Zones:
    timezone: str  # the zone in force from `since` (or always, when `since` is None)
    before: str | None = None  # the zone in force before `since`
    since: datetime | None = None

    def at(self, instant: datetime) -> ZoneInfo:
        """The zone that dates `instant`."""
        if self.since is not None and self.before is not None and instant < self.since:
            return zone(self.before)
        return zone(self.timezone)

    def midnight(self, day: date) -> datetime:
        """The first instant of `day`, in the zone in force on that day.

        >>> z = Zones("UTC", "Asia/Bangkok", datetime(2026, 2, 1, tzinfo=ZoneInfo("UTC")))
        >>> z.midnight(date(2026, 1, 25)).isoformat(), z.midnight(date(2026, 3, 1)).isoformat()
        ('2026-01-24T17:00:00+00:00', '2026-03-01T00:00:00+00:00')
        """
        new = local_midnight(day, zone(self.timezone))
        if self.since is None or self.before is None or new >= self.since:
            return new
        return local_midnight(day, zone(self.before))

    def month_of(self, instant: datetime) -> Month:
        return month_of(instant, self.at(instant))

    def span(self, month: Month) -> tuple[datetime, datetime]:
        """The instants `[start, end)` that fall in `month` (in the zone of each instant)."""
        if self.since is None or self.before is None:
            tz = zone(self.timezone)
            return month.start(tz), month.end(tz)
        old, new = zone(self.before), zone(self.timezone)
        pieces = [
            (month.start(old), min(month.end(old), self.since)),
            (max(month.start(new), self.since), month.end(new)),
        ]
        found = [(a, b) for a, b in pieces if a < b]
        if not found:  # a month skipped by the switch has no instants
            return self.since, self.since
        return min(a for a, _ in found), max(b for _, b in found)

    def changed_to(self, timezone: str, now: datetime) -> Zones:
        """The zones after a change to `timezone` asked for at `now`: from the next month."""
        zone(timezone)  # a bad name is refused
        if self.since is not None and self.since > now and self.before is not None:
            base = self.before  # a change still waiting is replaced
        else:
            base = self.timezone
        if timezone == base:
            return self if base == self.timezone else Zones(base)
        following = month_of(now, zone(base)).next()
        since = max(following.start(zone(base)), following.start(zone(timezone)))
        return Zones(timezone, base, since)
