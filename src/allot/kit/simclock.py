"""A database's own clock, for living through months in seconds (simulation mode).

When an operator sets it (`allot clock set|advance`, or the API), every entry
point on that database reads the stored instant instead of the system time: the
demo and the scenarios move a year forward and the invoice run issues what a
year would have issued. The stored clock does not tick by itself; resetting it
returns the database to real time.

The stored clock stays in the engine's years (`allot.core.periods.ENGINE_YEARS`):
setting it outside them is `date_out_of_range` (field `now`), moving it past
them `clock_out_of_range` (field `advance`); nothing is stored then.

A process re-reads the stored instant at most every `ttl` seconds, so the hot
path pays for a query only once a second; a change made through this process
is seen at once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.core.calendar import anniversary
from allot.core.errors import InvalidInput
from allot.core.periods import ENGINE_YEARS, in_range
from allot.kit.clock import Clock, SystemClock, monotonic
from allot.kit.db import Database
from allot.kit.schema import metadata
from allot.kit.types import UTCDateTime

simulated_clock = sa.Table(
    "simulated_clock",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("now", UTCDateTime, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)


def stored(conn: Connection) -> datetime | None:
    return conn.execute(sa.select(simulated_clock.c.now)).scalar_one_or_none()


def store(conn: Connection, at: datetime | None) -> None:
    """Set the clock to `at` (in the engine's years), or back to real time (`None`)."""
    if at is not None:
        in_range(at, field="now")
    conn.execute(sa.delete(simulated_clock))
    if at is not None:
        conn.execute(sa.insert(simulated_clock).values(id=1, now=at))


class StoredClock(Clock):
    def __init__(self, db: Database, *, system: Clock | None = None, ttl: float = 1.0) -> None:
        self._db = db
        self._system = system or SystemClock()
        self._ttl = ttl
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._simulated: datetime | None = None

    def refresh(self, value: datetime | None = None, *, known: bool = False) -> None:
        """Forget the cached instant, or take `value` as the stored one (`known=True`)."""
        with self._lock:
            if known:
                self._simulated, self._read_at = value, monotonic()
            else:
                self._read_at = None

    @property
    def simulated(self) -> datetime | None:
        with self._lock:
            fresh = self._read_at is not None and monotonic() - self._read_at < self._ttl
            if fresh:
                return self._simulated
        with self._db.read() as conn:  # never the write lock: callers may hold it
            value = stored(conn)
        with self._lock:
            self._simulated, self._read_at = value, monotonic()
        return value

    def now(self) -> datetime:
        return self.simulated or self._system.now()


def moved(at: datetime, *, months: int = 0, days: int = 0, hours: int = 0) -> datetime:
    """`at` moved forward (or back) by calendar months, then days and hours, in UTC.

    A month keeps the day of month where it can (31 Jan + 1 month = 28/29 Feb).
    """
    day = anniversary(at.date(), months)
    return datetime.combine(day, at.timetz()) + timedelta(days=days, hours=hours)


def advanced(at: datetime, *, months: int = 0, days: int = 0, hours: int = 0) -> datetime:
    """`moved` forward, refused (`clock_out_of_range`) where it would leave the engine's years."""
    try:
        moved_to = moved(at.astimezone(UTC), months=months, days=days, hours=hours)
    except (OverflowError, ValueError):
        moved_to = None
    if moved_to is None or moved_to.year not in ENGINE_YEARS:
        raise InvalidInput(
            "clock_out_of_range",
            f"the clock would pass {ENGINE_YEARS[-1]}",
            field="advance",
        )
    return moved_to
