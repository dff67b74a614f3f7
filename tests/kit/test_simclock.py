"""Simulation mode: a database's own clock (issue: live through a year in seconds)."""

from __future__ import annotations

from datetime import UTC, datetime

from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.kit.simclock import StoredClock, moved, store, stored

REAL = datetime(2026, 11, 21, 12, tzinfo=UTC)


def test_real_time_until_the_database_clock_is_set_then_back(db: Database) -> None:
    system = FixedClock(REAL)
    clock = StoredClock(db, system=system, ttl=0)
    assert clock.now() == REAL
    with db.transaction() as conn:
        store(conn, datetime(2026, 1, 31, 9, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 31, 9, tzinfo=UTC)
    with db.transaction() as conn:
        store(conn, None)
        assert stored(conn) is None
    assert clock.now() == REAL


def test_a_process_sees_its_own_change_at_once_and_others_within_the_ttl(db: Database) -> None:
    clock = StoredClock(db, system=FixedClock(REAL), ttl=3600)
    assert clock.now() == REAL  # read once, cached for an hour
    at = datetime(2027, 1, 1, tzinfo=UTC)
    with db.transaction() as conn:
        store(conn, at)
    assert clock.now() == REAL  # another process's change: not yet
    clock.refresh()
    assert clock.now() == at
    later = datetime(2028, 1, 1, tzinfo=UTC)
    clock.refresh(later, known=True)  # this process's own change
    assert clock.now() == later


def test_moving_by_months_keeps_the_day_where_it_can() -> None:
    jan31 = datetime(2026, 1, 31, 9, tzinfo=UTC)
    assert moved(jan31, months=1) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert moved(jan31, months=13) == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert moved(jan31, months=1200) == datetime(2126, 1, 31, 9, tzinfo=UTC)  # no limit
    assert moved(jan31, days=1, hours=15) == datetime(2026, 2, 2, 0, tzinfo=UTC)
