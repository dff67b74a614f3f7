"""The hot path's statements, run on the driver (see `allot.kit.rawsql`).

The account lock, and the route the fast path follows: who pays a metric's
next unit, as the full waterfall last decided (`allot.usage.fastpath`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.core.timezones import Zones
from allot.kit.db import insert_for
from allot.kit.rawsql import Statement, instant
from allot.usage.models import usage_routes

_ACCOUNT = "SELECT timezone, timezone_before, timezone_since, revision FROM accounts"
_LOCK_ACCOUNT = {
    "sqlite": Statement(f"{_ACCOUNT} WHERE id = :account_id"),
    "postgresql": Statement(f"{_ACCOUNT} WHERE id = :account_id FOR UPDATE"),
}


@dataclass(frozen=True, slots=True)
class Route:
    """Who pays a metric's next unit, as the full waterfall last decided (`usage.fastpath`)."""

    period: str
    starts: datetime  # the route holds for instants in [starts, ends): inside `period`
    ends: datetime  # and inside the waterfall's validity window
    closes: datetime  # and only while actions are recorded before the month closes (B7)
    source: str
    source_kind: str
    granted: int | None  # None: the policy's unlimited source
    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class Locked:
    """The account, locked for this transaction, with the route that holds for the instant."""

    zones: Zones
    revision: int
    route: Route | None  # None: no route was learned under this revision for this instant
    event_id: int | None  # the event recorded along the route; None: none (or a replay)
    period: str | None = None  # the month the event was recorded in, with `event_id`


@dataclass(frozen=True, slots=True)
class Paid:
    """A consume recorded and paid along its route: who paid, and the counter after."""

    event_id: int
    period: str
    source: str
    source_kind: str
    granted: int | None
    outcome: str
    reason: str
    used: int


# The route joins the account only if it was learned under the account's
# revision and holds for the instant. On PostgreSQL a statement that waited
# for the lock re-reads the locked account row but keeps the route row of its
# snapshot: a route replaced meanwhile under the same revision can only point
# at a source that has since filled (the conditional take notices), and any
# change of sources changes the revision, which is re-read.
_ROUTE_OF = (
    "SELECT acc.id, acc.timezone, acc.timezone_before, acc.timezone_since, acc.revision,"
    " r.period, r.starts, r.ends, r.closes,"
    " r.source, r.source_kind, r.granted, r.outcome, r.reason"
    " FROM accounts acc LEFT JOIN usage_routes r"
    " ON r.account_id = acc.id AND r.metric = :metric AND r.revision = acc.revision"
    " AND r.starts <= :occurred_at AND :occurred_at < r.ends AND :recorded_at < r.closes"
    " WHERE acc.id = :account_id"
)
_EVENT_COLUMNS = (
    "INSERT INTO usage_events (account_id, idempotency_key, request_hash, action, metric,"
    " quantity, holder, period, occurred_at, recorded_at, outcome, reason)"
)
_ROUTE_SQLITE = Statement(_ROUTE_OF)
# SQLite (the write lock already held): the event along the route, if one holds...
_EVENT_ALONG_SQLITE = Statement(
    f"{_EVENT_COLUMNS} SELECT acc.id, :idempotency_key, :request_hash, :action, :metric,"
    " :quantity, :holder, r.period, :occurred_at, :recorded_at, r.outcome, r.reason"
    " FROM accounts acc JOIN usage_routes r"
    " ON r.account_id = acc.id AND r.metric = :metric AND r.revision = acc.revision"
    " AND r.starts <= :occurred_at AND :occurred_at < r.ends AND :recorded_at < r.closes"
    " WHERE acc.id = :account_id"
    " ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id, period, outcome, reason"
)
# ... then the room from the route's source, only if it fits (0 rows: it does not)
_TAKE_ALONG_SQLITE = Statement(
    "INSERT INTO usage_counters (account_id, metric, period, source, source_kind, used, granted)"
    " SELECT r.account_id, r.metric, r.period, r.source, r.source_kind, :used, r.granted"
    " FROM usage_routes r WHERE r.account_id = :account_id AND r.metric = :metric"
    " AND (r.granted IS NULL OR :used <= r.granted)"
    " ON CONFLICT (account_id, metric, period, source) DO UPDATE"
    " SET used = usage_counters.used + excluded.used, granted = excluded.granted"
    " WHERE excluded.granted IS NULL OR usage_counters.used + excluded.used <= excluded.granted"
    " RETURNING used, source, source_kind, granted"
)
# PostgreSQL: lock, read the route and record the event along it in one round trip.
_ROUTE_AND_EVENT_POSTGRESQL = Statement(
    f"WITH a AS ({_ROUTE_OF} FOR UPDATE OF acc),"
    f" ev AS ({_EVENT_COLUMNS} SELECT id, :idempotency_key, :request_hash, :action, :metric,"
    " :quantity, :holder, period, :occurred_at, :recorded_at, outcome, reason"
    " FROM a WHERE source IS NOT NULL"
    " ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id)"
    " SELECT a.timezone, a.timezone_before, a.timezone_since, a.revision, a.period, a.starts,"
    " a.ends, a.closes, a.source, a.source_kind, a.granted, a.outcome, a.reason,"
    " (SELECT id FROM ev) FROM a"
)
# Takes room from a limited source only if it fits; 0 rows: it does not.
_TAKE_ROOM = Statement(
    "INSERT INTO usage_counters (account_id, metric, period, source, source_kind, used, granted)"
    " VALUES (:account_id, :metric, :period, :source, :source_kind, :used, :granted)"
    " ON CONFLICT (account_id, metric, period, source) DO UPDATE"
    " SET used = usage_counters.used + excluded.used, granted = excluded.granted"
    " WHERE usage_counters.used + excluded.used <= excluded.granted"
)
_ADD_UNLIMITED = Statement(
    "INSERT INTO usage_counters (account_id, metric, period, source, source_kind, used, granted)"
    " VALUES (:account_id, :metric, :period, :source, :source_kind, :used, NULL)"
    " ON CONFLICT (account_id, metric, period, source) DO UPDATE"
    " SET used = usage_counters.used + excluded.used"
)
_APPEND_ENTRY = Statement(
    "INSERT INTO usage_entries (event_id, account_id, metric, period, source, source_kind,"
    " quantity, occurred_at) VALUES (:event_id, :account_id, :metric, :period, :source,"
    " :source_kind, :used, :occurred_at)"
)


# PostgreSQL can take the room and append the entry in one round trip.
_ENTRY_FROM_TOOK = (
    "INSERT INTO usage_entries (event_id, account_id, metric, period, source, source_kind,"
    " quantity, occurred_at) SELECT :event_id, :account_id, :metric, :period, :source,"
    " :source_kind, :used, :occurred_at FROM took"
)
_TAKE_ROOM_AND_APPEND = Statement(
    f"WITH took AS ({_TAKE_ROOM.sqlite} RETURNING used), entry AS ({_ENTRY_FROM_TOOK})"
    " SELECT used FROM took"
)
_ADD_UNLIMITED_AND_APPEND = Statement(
    f"WITH took AS ({_ADD_UNLIMITED.sqlite} RETURNING used), entry AS ({_ENTRY_FROM_TOOK})"
    " SELECT used FROM took"
)


def lock_account(conn: Connection, account_id: str) -> tuple[Zones, int] | None:
    """Lock the account for this transaction: (its time zones, revision), or None if unknown.

    PostgreSQL locks the row; on SQLite the IMMEDIATE transaction already holds the lock.
    """
    row = _LOCK_ACCOUNT[conn.dialect.name].run(conn, {"account_id": account_id}).fetchone()
    if row is None:
        return None
    since = row[2] if row[2] is None or conn.dialect.name != "sqlite" else _from_text(row[2])
    return Zones(row[0], row[1], since), int(row[3])


def _route(row: Sequence[Any], conn: Connection) -> Route | None:
    period, starts, ends, closes, source, source_kind, granted, outcome, reason = row
    if source is None:
        return None
    if conn.dialect.name == "sqlite":  # the driver returns UTCDateTime's stored text
        starts, ends, closes = _from_text(starts), _from_text(ends), _from_text(closes)
    return Route(period, starts, ends, closes, source, source_kind, granted, outcome, reason)


def _from_text(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


def _params(conn: Connection, event: dict[str, Any]) -> dict[str, Any]:
    occurred_at = instant(conn, event["occurred_at"])
    recorded_at = event["recorded_at"]
    # consume's default: the action happened when it is recorded; format that instant once
    recorded_at = occurred_at if recorded_at is event["occurred_at"] else instant(conn, recorded_at)
    return {**event, "occurred_at": occurred_at, "recorded_at": recorded_at}


def pay_along_route(conn: Connection, event: dict[str, Any]) -> Paid | Locked | None:
    """Lock the account and, if a route holds for `event`'s instant, record and pay it along.

    `event` is a usage event's columns without its period, outcome and reason,
    which come from the route. The answer:

    * `Paid`: the event is recorded and its units taken from the route's source;
    * `Locked` with an `event_id`: recorded, but the source has no room left;
    * `Locked` with a `route` and no `event_id`: the key was used before (a replay);
    * `Locked` with neither: no route holds; the full waterfall decides;
    * None: no such account.
    """
    params = _params(conn, event)
    if conn.dialect.name != "sqlite":
        return _pay_along_postgresql(conn, params)
    # SQLite: the write lock is held already; record the event along the route if one
    # holds, then take the room, each one statement that reads the route itself
    recorded = _EVENT_ALONG_SQLITE.run(conn, params).fetchone()
    if recorded is None:
        row = _ROUTE_SQLITE.run(conn, params).fetchone()
        if row is None:
            return None
        since = None if row[3] is None else _from_text(row[3])
        return Locked(Zones(row[1], row[2], since), int(row[4]), _route(row[5:14], conn), None)
    event_id, period, outcome, reason = recorded
    took = _TAKE_ALONG_SQLITE.run(conn, {**params, "used": params["quantity"]}).fetchone()
    if took is None:
        found = lock_account(conn, event["account_id"])
        assert found is not None
        return Locked(found[0], found[1], None, event_id, period)
    used, source, source_kind, granted = took
    _APPEND_ENTRY.run(
        conn,
        {
            "event_id": event_id,
            "account_id": event["account_id"],
            "metric": event["metric"],
            "period": period,
            "source": source,
            "source_kind": source_kind,
            "used": params["quantity"],
            "occurred_at": params["occurred_at"],
        },
    )
    return Paid(event_id, period, source, source_kind, granted, outcome, reason, int(used))


def _pay_along_postgresql(conn: Connection, params: dict[str, Any]) -> Paid | Locked | None:
    row = _ROUTE_AND_EVENT_POSTGRESQL.run(conn, params).fetchone()
    if row is None:
        return None
    zones, revision, event_id = Zones(row[0], row[1], row[2]), int(row[3]), row[13]
    route = _route(row[4:13], conn)
    if route is None or event_id is None:
        return Locked(zones, revision, route, None)
    quantity = params["quantity"]
    if route.granted is None or quantity <= route.granted:  # PostgreSQL checks the new row first
        took = (
            (_TAKE_ROOM_AND_APPEND if route.granted is not None else _ADD_UNLIMITED_AND_APPEND)
            .run(
                conn,
                {
                    "event_id": event_id,
                    "account_id": params["account_id"],
                    "metric": params["metric"],
                    "period": route.period,
                    "source": route.source,
                    "source_kind": route.source_kind,
                    "used": quantity,
                    "granted": route.granted,
                    "occurred_at": params["occurred_at"],
                },
            )
            .fetchone()
        )
        if took is not None:
            return Paid(
                event_id,
                route.period,
                route.source,
                route.source_kind,
                route.granted,
                route.outcome,
                route.reason,
                int(took[0]),
            )
    return Locked(zones, revision, route, event_id, route.period)


def save_route(
    conn: Connection, *, account_id: str, metric: str, revision: int, route: Route | None
) -> None:
    """Remember who pays the metric's next unit (None: nobody to follow; forget any route)."""
    if route is None:
        conn.execute(
            sa.delete(usage_routes).where(
                usage_routes.c.account_id == account_id, usage_routes.c.metric == metric
            )
        )
        return
    values = {
        "revision": revision,
        "period": route.period,
        "starts": route.starts,
        "ends": route.ends,
        "closes": route.closes,
        "source": route.source,
        "source_kind": route.source_kind,
        "granted": route.granted,
        "outcome": route.outcome,
        "reason": route.reason,
    }
    stmt = insert_for(conn, usage_routes).values(account_id=account_id, metric=metric, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["account_id", "metric"], set_=values))
