"""Simulation mode: moving a database's own clock (`allot.kit.simclock`), into the audit log.

The API's `/v1/clock` and `allot clock` both come here, so a move of the clock — which
every later bill of that database reads — is recorded with who moved it, from when to when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from allot import audit
from allot.kit import simclock
from allot.kit.clock import Clock


def set_clock(conn: Connection, clock: Clock, *, at: datetime | None) -> datetime | None:
    """Freeze the database's clock at `at`, or give it back to real time (`None`)."""
    was = simclock.stored(conn)
    simclock.store(conn, at)
    audit.record(
        conn, clock, change="clock.reset" if at is None else "clock.set", subject_kind="clock",
        subject_id="database", before={"now": was}, after={"now": at},
    )  # fmt: skip
    return at


def advance_clock(
    conn: Connection, clock: Clock, *, months: int = 0, days: int = 0, hours: int = 0
) -> datetime:
    """Move the clock forward, from real time if it was not set."""
    base = simclock.stored(conn) or clock.now()
    at = simclock.advanced(base, months=months, days=days, hours=hours)
    set_clock(conn, clock, at=at)
    return at
