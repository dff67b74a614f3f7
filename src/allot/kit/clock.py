"""The only place in allot that reads the time.

Services receive a `Clock`; core functions receive `as_of`. Tests and the demo
use `FixedClock` and move it by hand, so a month (or a year) passes in a
millisecond and every date in a test is one a reader can check.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta


class Clock(ABC):
    """Nominal on purpose: a `datetime` has a `now()` too, and must not pass for a clock."""

    @abstractmethod
    def now(self) -> datetime: ...


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that only moves when told to (thread-safe, always UTC)."""

    def __init__(self, at: datetime) -> None:
        self._lock = threading.Lock()
        self._at = _utc(at)

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = _utc(at)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._at += delta


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("FixedClock needs an aware datetime")
    return at.astimezone(UTC)


def monotonic() -> float:
    """Seconds from an arbitrary origin, for measuring durations only."""
    import time

    return time.perf_counter()
