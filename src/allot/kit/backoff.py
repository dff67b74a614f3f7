"""When to try an outside party again: the schedule webhooks and e-mails share.

Eleven attempts over about three days (2 days 21.6 hours), close together at
first (a blip) and then further apart (an outage), so a receiver or a mail
server that is down for a weekend still gets what it was sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=14),
    timedelta(hours=14),
)


def next_try(attempt: int, now: datetime) -> datetime | None:
    """After failed attempt number `attempt` (1 = the first), when to try again; None: give up."""
    if attempt > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[attempt - 1]
