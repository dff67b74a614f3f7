"""Every query of the usage domain: events, ledger entries, counters, seat holds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.kit.db import insert_for
from allot.kit.rawsql import Statement, instant
from allot.usage.models import (
    seat_holds,
    usage_alerts,
    usage_counters,
    usage_entries,
    usage_events,
)


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    account_id: str
    idempotency_key: str
    request_hash: str
    action: str
    metric: str
    quantity: int
    holder: str | None
    period: str
    occurred_at: datetime
    recorded_at: datetime
    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class Line:
    """One source's part of an event: a ledger entry and its counter delta."""

    source: str
    source_kind: str
    quantity: int  # negative for a gauge release
    granted: int | None = None  # the source's limit, when it has one


@dataclass(frozen=True, slots=True)
class HoldRow:
    id: int
    holder: str
    source: str
    source_kind: str
    taken_at: datetime
    released_at: datetime | None


# The hot path's statements are built once: SQLAlchemy then reuses their
# compiled form and cache key instead of rebuilding them on every call.
_FIND_EVENT = sa.select(usage_events).where(
    usage_events.c.account_id == sa.bindparam("account_id"),
    usage_events.c.idempotency_key == sa.bindparam("key"),
)
_INSERT_EVENT = sa.insert(usage_events).returning(usage_events.c.id)
_COUNTERS = sa.select(usage_counters.c.source, usage_counters.c.used).where(
    usage_counters.c.account_id == sa.bindparam("account_id"),
    usage_counters.c.metric == sa.bindparam("metric"),
    usage_counters.c.period == sa.bindparam("period"),
)
_INSERT_ENTRIES = sa.insert(usage_entries)
_RELEASE = (
    sa.update(usage_counters)
    .where(
        usage_counters.c.account_id == sa.bindparam("b_account_id"),
        usage_counters.c.metric == sa.bindparam("b_metric"),
        usage_counters.c.period == sa.bindparam("b_period"),
        usage_counters.c.source == sa.bindparam("b_source"),
    )
    .values(used=usage_counters.c.used + sa.bindparam("delta"))
)
# Written as text because SQLAlchemy cannot cache a dialect ON CONFLICT statement;
# the same SQL runs on SQLite and PostgreSQL.
_ADD_TO_COUNTER = sa.text(
    "INSERT INTO usage_counters (account_id, metric, period, source, source_kind, used, granted)"
    " VALUES (:account_id, :metric, :period, :source, :source_kind, :used, :granted)"
    " ON CONFLICT (account_id, metric, period, source) DO UPDATE"
    " SET used = usage_counters.used + excluded.used, granted = excluded.granted"
)


def find_event(conn: Connection, account_id: str, key: str) -> EventRow | None:
    row = conn.execute(_FIND_EVENT, {"account_id": account_id, "key": key}).one_or_none()
    return None if row is None else EventRow(**row._mapping)


def insert_event(conn: Connection, **values: Any) -> int:
    return int(conn.execute(_INSERT_EVENT, values).scalar_one())


def event_lines(conn: Connection, event_id: int) -> list[Line]:
    rows = conn.execute(
        sa.select(usage_entries.c.source, usage_entries.c.source_kind, usage_entries.c.quantity)
        .where(usage_entries.c.event_id == event_id)
        .order_by(usage_entries.c.seq)
    )
    return [Line(r.source, r.source_kind, int(r.quantity)) for r in rows]


def counters(conn: Connection, account_id: str, metric: str, period: str) -> dict[str, int]:
    rows = conn.execute(_COUNTERS, {"account_id": account_id, "metric": metric, "period": period})
    return {source: int(used) for source, used in rows}


def post(
    conn: Connection,
    *,
    event_id: int,
    account_id: str,
    metric: str,
    period: str,
    occurred_at: datetime,
    lines: Sequence[Line],
) -> None:
    """Append the ledger entries of one event and move their counters by the same amounts."""
    if not lines:
        return
    conn.execute(
        _INSERT_ENTRIES,
        [
            {
                "event_id": event_id,
                "account_id": account_id,
                "metric": metric,
                "period": period,
                "source": ln.source,
                "source_kind": ln.source_kind,
                "quantity": ln.quantity,
                "occurred_at": occurred_at,
            }
            for ln in lines
        ],
    )
    # Releases first, so a seat moving within one event never crosses a limit midway.
    for ln in lines:
        if ln.quantity < 0:
            # a release: the counter row exists (the seat was taken); never INSERT a negative
            conn.execute(
                _RELEASE,
                {
                    "b_account_id": account_id,
                    "b_metric": metric,
                    "b_period": period,
                    "b_source": ln.source,
                    "delta": ln.quantity,
                },
            )
    adds = [ln for ln in lines if ln.quantity > 0]
    if adds:
        conn.execute(
            _ADD_TO_COUNTER,
            [
                {
                    "account_id": account_id,
                    "metric": metric,
                    "period": period,
                    "source": ln.source,
                    "source_kind": ln.source_kind,
                    "used": ln.quantity,
                    "granted": ln.granted,
                }
                for ln in adds
            ],
        )


def counters_for_periods(
    conn: Connection, account_id: str, periods: Iterable[str]
) -> list[tuple[str, str, str, str, int, int | None]]:
    """(metric, period, source, kind, used, granted) for the billing page."""
    rows = conn.execute(
        sa.select(
            usage_counters.c.metric,
            usage_counters.c.period,
            usage_counters.c.source,
            usage_counters.c.source_kind,
            usage_counters.c.used,
            usage_counters.c.granted,
        )
        .where(
            usage_counters.c.account_id == account_id,
            usage_counters.c.period.in_(list(periods)),
        )
        .order_by(usage_counters.c.metric, usage_counters.c.source)
    )
    return [
        (
            r.metric,
            r.period,
            r.source,
            r.source_kind,
            int(r.used),
            None if r.granted is None else int(r.granted),
        )
        for r in rows
    ]


# --- seats -------------------------------------------------------------------


def _hold(row: Any) -> HoldRow:
    return HoldRow(row.id, row.holder, row.source, row.source_kind, row.taken_at, row.released_at)


def open_holds(conn: Connection, account_id: str, metric: str) -> list[HoldRow]:
    rows = conn.execute(
        sa.select(seat_holds)
        .where(
            seat_holds.c.account_id == account_id,
            seat_holds.c.metric == metric,
            seat_holds.c.released_at.is_(None),
        )
        .order_by(seat_holds.c.id)
    )
    return [_hold(r) for r in rows]


def open_hold_of(conn: Connection, account_id: str, metric: str, holder: str) -> HoldRow | None:
    row = conn.execute(
        sa.select(seat_holds).where(
            seat_holds.c.account_id == account_id,
            seat_holds.c.metric == metric,
            seat_holds.c.holder == holder,
            seat_holds.c.released_at.is_(None),
        )
    ).one_or_none()
    return None if row is None else _hold(row)


def insert_hold(
    conn: Connection,
    *,
    account_id: str,
    metric: str,
    holder: str,
    source: str,
    source_kind: str,
    at: datetime,
) -> int:
    return int(
        conn.execute(
            sa.insert(seat_holds)
            .values(
                account_id=account_id,
                metric=metric,
                holder=holder,
                source=source,
                source_kind=source_kind,
                taken_at=at,
            )
            .returning(seat_holds.c.id)
        ).scalar_one()
    )


def close_hold(conn: Connection, hold_id: int, at: datetime) -> None:
    conn.execute(sa.update(seat_holds).where(seat_holds.c.id == hold_id).values(released_at=at))


def holds_of_kind_between(
    conn: Connection, account_id: str, kind: str, start: datetime, end: datetime
) -> list[tuple[str, HoldRow]]:
    """(metric, hold) of holds from sources of `kind` that overlap [start, end)."""
    rows = conn.execute(
        sa.select(seat_holds).where(
            seat_holds.c.account_id == account_id,
            seat_holds.c.source_kind == kind,
            seat_holds.c.taken_at < end,
            sa.or_(seat_holds.c.released_at.is_(None), seat_holds.c.released_at > start),
        )
    )
    return [(r.metric, _hold(r)) for r in rows]


# --- verification ------------------------------------------------------------


def ledger_sums(conn: Connection) -> dict[tuple[str, str, str, str], int]:
    rows = conn.execute(
        sa.select(
            usage_entries.c.account_id,
            usage_entries.c.metric,
            usage_entries.c.period,
            usage_entries.c.source,
            sa.func.sum(usage_entries.c.quantity).label("total"),
        ).group_by(
            usage_entries.c.account_id,
            usage_entries.c.metric,
            usage_entries.c.period,
            usage_entries.c.source,
        )
    )
    return {(r.account_id, r.metric, r.period, r.source): int(r.total) for r in rows}


def all_counters(conn: Connection) -> dict[tuple[str, str, str, str], tuple[int, int | None]]:
    rows = conn.execute(sa.select(usage_counters))
    return {
        (r.account_id, r.metric, r.period, r.source): (
            int(r.used),
            None if r.granted is None else int(r.granted),
        )
        for r in rows
    }


def open_hold_counts(conn: Connection) -> dict[tuple[str, str, str], int]:
    rows = conn.execute(
        sa.select(
            seat_holds.c.account_id,
            seat_holds.c.metric,
            seat_holds.c.source,
            sa.func.count().label("n"),
        )
        .where(seat_holds.c.released_at.is_(None))
        .group_by(seat_holds.c.account_id, seat_holds.c.metric, seat_holds.c.source)
    )
    return {(r.account_id, r.metric, r.source): int(r.n) for r in rows}


def entry_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(usage_entries)).scalar_one())


def held_metrics(conn: Connection, account_id: str) -> list[str]:
    rows = conn.execute(
        sa.select(seat_holds.c.metric)
        .where(seat_holds.c.account_id == account_id, seat_holds.c.released_at.is_(None))
        .distinct()
        .order_by(seat_holds.c.metric)
    )
    return [r.metric for r in rows]


# --- the hot path: statements run on the driver (see allot.kit.rawsql) ---------

_LOCK_ACCOUNT = {
    "sqlite": Statement("SELECT timezone, revision FROM accounts WHERE id = :account_id"),
    "postgresql": Statement(
        "SELECT timezone, revision FROM accounts WHERE id = :account_id FOR UPDATE"
    ),
}
# The fast path's first statement locks the account, checks that its sources
# are the ones the route was learned from, and records the event — or does
# nothing at all (another revision, or a key seen before).
_EVENT_SELECT = (
    "INSERT INTO usage_events (account_id, idempotency_key, request_hash, action, metric,"
    " quantity, holder, period, occurred_at, recorded_at, outcome, reason)"
    " SELECT id, :idempotency_key, :request_hash, :action, :metric, :quantity, :holder,"
    " :period, :occurred_at, :recorded_at, :outcome, :reason"
    " FROM accounts WHERE id = :account_id AND revision = :revision"
)
_EVENT_IF_CURRENT = {
    "sqlite": Statement(f"{_EVENT_SELECT} ON CONFLICT (account_id, idempotency_key) DO NOTHING"),
    "postgresql": Statement(
        f"{_EVENT_SELECT} FOR UPDATE"
        " ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id"
    ),
}
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
_TAKE_ROOM_RETURNING = Statement(f"{_TAKE_ROOM.sqlite} RETURNING used")
_ADD_UNLIMITED_RETURNING = Statement(f"{_ADD_UNLIMITED.sqlite} RETURNING used")


def lock_account(conn: Connection, account_id: str) -> tuple[str, int] | None:
    """Lock the account for this transaction: (time zone, revision), or None if unknown.

    PostgreSQL locks the row; on SQLite the IMMEDIATE transaction already holds the lock.
    """
    row = _LOCK_ACCOUNT[conn.dialect.name].run(conn, {"account_id": account_id}).fetchone()
    return None if row is None else (row[0], int(row[1]))


def record_and_take(
    conn: Connection, *, revision: int, event: dict[str, Any], line: Line
) -> tuple[int | None, int | None]:
    """The fast path's writes: record the event if the account is at `revision`, then pay `line`.

    * (None, None): nothing written — the account changed (or is gone), or the
      key was used before; the caller takes the full path, which tells them apart.
    * (event_id, None): the event is recorded but `line`'s source has no room
      for it (a limited source is moved only if it stays within its grant).
    * (event_id, used): the counter moved and its entry is appended; `used` is
      the counter after the move.
    """
    sqlite = conn.dialect.name == "sqlite"
    occurred_at = instant(conn, event["occurred_at"])
    recorded_at = event["recorded_at"]
    # consume's default: the action happened when it is recorded; format that instant once
    recorded_at = occurred_at if recorded_at is event["occurred_at"] else instant(conn, recorded_at)
    cursor = _EVENT_IF_CURRENT[conn.dialect.name].run(
        conn,
        {**event, "revision": revision, "occurred_at": occurred_at, "recorded_at": recorded_at},
    )
    if sqlite:  # the id without RETURNING's buffering of the row
        event_id = cursor.lastrowid if cursor.rowcount == 1 else None
    else:
        row = cursor.fetchone()
        event_id = None if row is None else row[0]
    if event_id is None:
        return None, None
    if line.granted is not None and line.quantity > line.granted:
        return event_id, None  # cannot fit, and PostgreSQL checks the proposed row first
    params = {
        "event_id": event_id,
        "account_id": event["account_id"],
        "metric": event["metric"],
        "period": event["period"],
        "source": line.source,
        "source_kind": line.source_kind,
        "used": line.quantity,
        "granted": line.granted,
        "occurred_at": occurred_at,
    }
    limited = line.granted is not None
    if not sqlite:
        both = _TAKE_ROOM_AND_APPEND if limited else _ADD_UNLIMITED_AND_APPEND
        row = both.run(conn, params).fetchone()
        return event_id, None if row is None else int(row[0])
    counter = _TAKE_ROOM_RETURNING if limited else _ADD_UNLIMITED_RETURNING
    row = counter.run(conn, params).fetchone()
    if row is None:
        return event_id, None
    _APPEND_ENTRY.run(conn, params)
    return event_id, int(row[0])


def set_event_outcome(conn: Connection, event_id: int, *, outcome: str, reason: str) -> None:
    conn.execute(
        sa.update(usage_events)
        .where(usage_events.c.id == event_id)
        .values(outcome=outcome, reason=reason)
    )


def entries_page(
    conn: Connection,
    account_id: str,
    *,
    period: str | None,
    metric: str | None,
    source: str | None,
    after: int | None,
    limit: int,
) -> list[Any]:
    """The account's ledger entries in sequence order, optionally filtered."""
    stmt = (
        sa.select(
            usage_entries.c.seq,
            usage_entries.c.event_id,
            usage_entries.c.metric,
            usage_entries.c.period,
            usage_entries.c.source,
            usage_entries.c.source_kind,
            usage_entries.c.quantity,
            usage_entries.c.occurred_at,
        )
        .where(usage_entries.c.account_id == account_id)
        .order_by(usage_entries.c.seq)
        .limit(limit)
    )
    if period is not None:
        stmt = stmt.where(usage_entries.c.period == period)
    if metric is not None:
        stmt = stmt.where(usage_entries.c.metric == metric)
    if source is not None:
        stmt = stmt.where(usage_entries.c.source == source)
    if after is not None:
        stmt = stmt.where(usage_entries.c.seq > after)
    return list(conn.execute(stmt))


def record_alert(
    conn: Connection,
    *,
    account_id: str,
    metric: str,
    source: str,
    period: str,
    threshold: int,
    at: datetime,
) -> bool:
    """Remember that this alert was sent; False if it already was this month."""
    stmt = insert_for(conn, usage_alerts).values(
        account_id=account_id,
        metric=metric,
        source=source,
        period=period,
        threshold=threshold,
        sent_at=at,
    )
    return (
        conn.execute(stmt.on_conflict_do_nothing().returning(usage_alerts.c.threshold)).first()
        is not None
    )


def source_ever_used(conn: Connection, account_id: str, source: str) -> bool:
    """Whether any unit was ever paid from `source` (a code that was used cannot be revoked)."""
    return (
        conn.execute(
            sa.select(usage_entries.c.seq)
            .where(usage_entries.c.account_id == account_id, usage_entries.c.source == source)
            .limit(1)
        ).first()
        is not None
    )


def holders_from(
    conn: Connection, account_id: str, source: str, metric: str, start: datetime, end: datetime
) -> int:
    """Staff who held a seat from `source` at some time in [start, end)."""
    return int(
        conn.execute(
            sa.select(sa.func.count(sa.distinct(seat_holds.c.holder))).where(
                seat_holds.c.account_id == account_id,
                seat_holds.c.metric == metric,
                seat_holds.c.source == source,
                seat_holds.c.taken_at < end,
                sa.or_(seat_holds.c.released_at.is_(None), seat_holds.c.released_at > start),
            )
        ).scalar_one()
    )
