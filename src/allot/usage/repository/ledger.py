"""The ledger's writes and reads: usage events, their entries, the counters they move."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.usage.models import usage_counters, usage_entries, usage_events


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


# The hot path's statements are built once: SQLAlchemy then reuses their
# compiled form and cache key instead of rebuilding them on every call.
_FIND_EVENT = sa.select(usage_events).where(
    usage_events.c.account_id == sa.bindparam("account_id"),
    usage_events.c.idempotency_key == sa.bindparam("key"),
)
_INSERT_EVENT = sa.insert(usage_events).returning(usage_events.c.id)
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


def reported_late(
    conn: Connection, account_id: str, period: str, after: datetime
) -> dict[str, int]:
    """Units of each counter metric of `period` recorded at or after `after` (its end).

    Read only for months that are over; the current month's page reads counters alone.
    """
    rows = conn.execute(
        sa.select(usage_entries.c.metric, sa.func.sum(usage_entries.c.quantity))
        .join(usage_events, usage_events.c.id == usage_entries.c.event_id)
        .where(
            usage_entries.c.account_id == account_id,  # ix_usage_entries_account_period
            usage_entries.c.period == period,
            usage_events.c.recorded_at >= after,
            # actions reported late; a backlog release moves units, it reports none
            usage_events.c.action == "consume",
        )
        .group_by(usage_entries.c.metric)
    )
    return {r[0]: int(r[1]) for r in rows}


def entry_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(usage_entries)).scalar_one())


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
