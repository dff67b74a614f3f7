"""The consume fast path: when nothing changed, pay from the same source as last time.

Most actions look like the one before: the same sources, the same month, and
the source that paid last still has room. For those, consume needs no
waterfall read: one conditional upsert (`used + q <= granted`) both checks
and takes the room, like the minimal statement a hand-written meter runs.
Why the shortcut gives the full path's answer:

* `accounts.revision` changes whenever a subscription or grant changes, and
  the account row is read under the lock anyway; a route learned under
  another revision is ignored.
* Within one month a limited source never regains room (counters only grow;
  a new or resumed grant changes the revision), so "the first source with
  room" only moves down the waterfall. The conditional upsert notices the
  moment it fills, and the full path takes over and learns the next route.
* A route holds for one calendar month, and only inside the window in which
  no grant or subscription of the metric starts or ends: both are spans of
  UTC instants, so the route keeps their intersection `[starts, ends)` and
  checking an instant is two comparisons.

The full path (`sources.waterfall` + `core.allocation.allocate`) stays the
definition; tests run random histories with and without the shortcut and
compare the ledgers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from allot.core.allocation import Decision, Outcome, SourceKind, overflow
from allot.core.periods import Month, zone
from allot.usage.sources import Waterfall


@dataclass(frozen=True, slots=True)
class Route:
    revision: int
    timezone: str
    period: str
    starts: datetime  # the route holds for instants in [starts, ends): inside `period`
    ends: datetime  # and inside the waterfall's validity window
    source: str
    kind: SourceKind
    granted: int | None  # None: the policy's unlimited source
    outcome: Outcome
    reason: str
    prompt: tuple[str, ...]


_routes: dict[tuple[int, str, str], Route] = {}
_lock = threading.Lock()
_enabled = True


def _key(conn: Connection, account_id: str, metric: str) -> tuple[int, str, str]:
    return (id(conn.engine), account_id, metric)


def route(conn: Connection, *, account_id: str, metric: str, at: datetime) -> Route | None:
    """The learned route, if it holds for this month and instant.

    Whether the account is still at the route's revision is checked by the
    database, in the statement that locks the account and records the event.
    """
    if not _enabled:
        return None
    found = _routes.get(_key(conn, account_id, metric))
    if found is None or not found.starts <= at < found.ends:
        return None
    return found


def learn(
    conn: Connection,
    *,
    account_id: str,
    metric: str,
    timezone: str,
    revision: int,
    period: str,
    fall: Waterfall,
    decision: Decision,
) -> None:
    """After a full-path decision, remember which source pays next."""
    key = _key(conn, account_id, metric)
    drawn = {d.source: d.quantity for d in decision.draws}
    tz = zone(timezone)
    month = Month.parse(period)
    starts, ends = month.start(tz), month.end(tz)
    if fall.valid_from is not None:
        starts = max(starts, fall.valid_from)
    if fall.valid_until is not None:
        ends = min(ends, fall.valid_until)
    learned: Route | None = None
    for src in sorted(fall.sources, key=lambda s: s.priority):
        if src.remaining - drawn.get(src.source, 0) > 0:
            learned = Route(
                revision,
                timezone,
                period,
                starts,
                ends,
                src.source,
                src.kind,
                fall.granted[src.source],
                Outcome.ALLOWED,
                "within_allowance",
                (),
            )
            break
    else:
        past = overflow(fall.policy)
        if past is not None:
            learned = Route(
                revision,
                timezone,
                period,
                starts,
                ends,
                past.kind.value,
                past.kind,
                None,
                past.outcome,
                past.reason,
                past.prompt,
            )
    with _lock:
        if learned is None:
            _routes.pop(key, None)
        else:
            _routes[key] = learned


def forget(conn: Connection, *, account_id: str, metric: str) -> None:
    with _lock:
        _routes.pop(_key(conn, account_id, metric), None)


@contextmanager
def disabled() -> Iterator[None]:
    """Run without the shortcut (tests compare both ways)."""
    global _enabled
    _enabled = False
    try:
        yield
    finally:
        _enabled = True
