"""Seat holds: who holds a gauge's seat, from which source, since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.usage.models import seat_holds


@dataclass(frozen=True, slots=True)
class HoldRow:
    id: int
    holder: str
    source: str
    source_kind: str
    taken_at: datetime
    released_at: datetime | None


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


def held_metrics(conn: Connection, account_id: str) -> list[str]:
    rows = conn.execute(
        sa.select(seat_holds.c.metric)
        .where(seat_holds.c.account_id == account_id, seat_holds.c.released_at.is_(None))
        .distinct()
        .order_by(seat_holds.c.metric)
    )
    return [r.metric for r in rows]


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
