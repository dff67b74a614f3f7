"""The consume fast path: when nothing changed, pay from the same source as last time.

Most actions look like the one before: the same sources, the same month, and
the source that paid last still has room. For those, consume needs no
waterfall read: one conditional upsert (`used + q <= granted`) both checks
and takes the room, like the minimal statement a hand-written meter runs.

After each full-path decision the waterfall's own rule says who pays the next
unit (`allot.core.allocation.next_payer`); that answer is the **route**, kept
in `usage_routes` and written in the same transaction (U8). So a rolled-back
transaction takes its route back with it, and every process, restarted or
not, reads the same route: there is no decision state outside the database.
Why following the route gives the full path's answer:

* A route is learned under the account's `revision`, which database triggers
  bump whenever a grant or its allowances, a subscription or the time zone
  changes (whatever code changes them). The statement that locks the
  account reads the route only if it was learned under the current revision.
* Within one month a limited source never regains room (counters only grow;
  a new or resumed grant changes the revision), so "the first source with
  room" only moves down the waterfall. The conditional upsert notices the
  moment the route's source fills, and the full path takes over and learns
  the next route.
* A route holds for one calendar month, and only inside the window in which
  no grant or subscription of the metric starts or ends: both are spans of
  UTC instants, so the route keeps their intersection `[starts, ends)` and
  the locking statement checks the instant with two comparisons. It also
  holds only while the month is open to late usage (`closes`, B7).

* A route exists only for a counter: it is learned after the full path checked
  the metric's kind, in the same transaction, and a metric never changes kind
  nor leaves the catalog. So the route's statement is the kind check too, and
  only the paths without a route read the metric.

* A route never pays a top-up. Orders of a Reviews plan that the gate lets
  through on the merchant's top-up (`review_gates`, which no trigger watches)
  come with `top_up` and always take the full path; the route learned after
  them says who pays the next unit *without* a top-up (the plan, or the
  backlog), which is what an order the gate did not top up gets. A backlog
  release adds to the plan's counter of its month, so a plan route's
  conditional upsert sees the room it took.

The full path (`sources.waterfall` + `core.allocation.allocate`) stays the
definition; tests run random histories with and without the shortcut —
rolled-back transactions, plan and quantity changes, codes claimed, paused
and revoked, new months, two processes — and compare the ledgers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from allot.core.allocation import Decision, next_payer
from allot.core.periods import Month
from allot.core.reporting import closes_at
from allot.core.timezones import Zones
from allot.usage.repository import routes as route_repo
from allot.usage.repository.routes import Route
from allot.usage.sources import Waterfall


class _Switch:
    enabled = True


def enabled() -> bool:
    return _Switch.enabled


def learn(
    conn: Connection,
    *,
    account_id: str,
    metric: str,
    zones: Zones,
    revision: int,
    period: str,
    grace_days: int,
    fall: Waterfall,
    decision: Decision,
) -> None:
    """After a full-path decision, store who pays the next unit (or that nobody would)."""
    following = next_payer(fall.sources, fall.policy, decision) if _Switch.enabled else None
    if following is None:
        route_repo.save_route(
            conn, account_id=account_id, metric=metric, revision=revision, route=None
        )
        return
    (draw,) = following.draws
    month = Month.parse(period)
    starts, ends = zones.span(month)
    if fall.valid_from is not None:
        starts = max(starts, fall.valid_from)
    if fall.valid_until is not None:
        ends = min(ends, fall.valid_until)
    route = Route(
        period,
        starts,
        ends,
        closes_at(month, zones, grace_days),
        draw.source,
        draw.kind.value,
        fall.granted[draw.source] if draw.kind.limited else None,
        following.outcome.value,
        following.reason,
    )
    route_repo.save_route(
        conn, account_id=account_id, metric=metric, revision=revision, route=route
    )


@contextmanager
def disabled() -> Iterator[None]:
    """Run without the shortcut: no route is learned, so every consume takes the full path.

    A test switch only (the differential tests run each history both ways).
    """
    _Switch.enabled = False
    try:
        yield
    finally:
        _Switch.enabled = True
