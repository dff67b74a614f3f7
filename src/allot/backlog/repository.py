"""Every query of the orders and the Reviews gate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.backlog.models import orders, review_gates, review_months

_IN_CHUNK = 2000  # ids per IN (...) list: well under SQLite's variable limit


@dataclass(frozen=True, slots=True)
class GateRow:
    account_id: str
    top_up: str  # none | defined | unlimited
    top_up_cap: Decimal | None
    waiting: int
    month: str
    updated_at: datetime


@dataclass
class MonthRow:
    account_id: str
    month: str
    orders: int = 0
    within: int = 0
    topped_up: int = 0
    top_up_amount: Decimal = Decimal(0)
    exists: bool = False


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: str
    placed_at: datetime
    month: str
    place: int
    excluded: bool
    outcome: str
    state: str | None
    paid_by: str | None
    released_month: str | None
    released_at: datetime | None
    sent_at: datetime | None


def gate(conn: Connection, account_id: str) -> GateRow | None:
    row = conn.execute(
        sa.select(review_gates).where(review_gates.c.account_id == account_id)
    ).one_or_none()
    return None if row is None else GateRow(**row._mapping)


def insert_gate(conn: Connection, row: GateRow) -> None:
    conn.execute(sa.insert(review_gates).values(**_gate_values(row)))


def update_gate(conn: Connection, row: GateRow) -> None:
    values = _gate_values(row)
    del values["account_id"]
    conn.execute(
        sa.update(review_gates).where(review_gates.c.account_id == row.account_id).values(**values)
    )


def _gate_values(row: GateRow) -> dict[str, Any]:
    return {
        "account_id": row.account_id,
        "top_up": row.top_up,
        "top_up_cap": row.top_up_cap,
        "waiting": row.waiting,
        "month": row.month,
        "updated_at": row.updated_at,
    }


def month_row(conn: Connection, account_id: str, month: str) -> MonthRow:
    row = conn.execute(
        sa.select(review_months).where(
            review_months.c.account_id == account_id, review_months.c.month == month
        )
    ).one_or_none()
    if row is None:
        return MonthRow(account_id, month)
    return MonthRow(**row._mapping, exists=True)


def save_month(conn: Connection, row: MonthRow) -> None:
    values = {
        "orders": row.orders,
        "within": row.within,
        "topped_up": row.topped_up,
        "top_up_amount": row.top_up_amount,
    }
    if row.exists:
        conn.execute(
            sa.update(review_months)
            .where(review_months.c.account_id == row.account_id, review_months.c.month == row.month)
            .values(**values)
        )
    else:
        conn.execute(
            sa.insert(review_months).values(account_id=row.account_id, month=row.month, **values)
        )
        row.exists = True


def months(conn: Connection, account_id: str, month_keys: Sequence[str]) -> list[MonthRow]:
    rows = conn.execute(
        sa.select(review_months).where(
            review_months.c.account_id == account_id, review_months.c.month.in_(month_keys)
        )
    )
    return [MonthRow(**r._mapping, exists=True) for r in rows]


def known_ids(conn: Connection, account_id: str, order_ids: Sequence[str]) -> set[str]:
    """Which of `order_ids` the account already reported."""
    found: set[str] = set()
    for i in range(0, len(order_ids), _IN_CHUNK):
        chunk = order_ids[i : i + _IN_CHUNK]
        found.update(
            conn.execute(
                sa.select(orders.c.order_id).where(
                    orders.c.account_id == account_id, orders.c.order_id.in_(chunk)
                )
            ).scalars()
        )
    return found


def insert_orders(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(orders), list(rows))


def waiting_ids(conn: Connection, account_id: str, *, limit: int, newest_first: bool) -> list[str]:
    """Waiting requests, oldest placed first (R4 at a month's start) or newest first."""
    order = (
        (orders.c.placed_at.desc(), orders.c.order_id.desc())
        if newest_first
        else (orders.c.placed_at, orders.c.order_id)
    )
    return list(
        conn.execute(
            sa.select(orders.c.order_id)
            .where(orders.c.account_id == account_id, orders.c.state == "waiting")
            .order_by(*order)
            .limit(limit)
        ).scalars()
    )


def set_states(
    conn: Connection, account_id: str, order_ids: Sequence[str], **values: object
) -> None:
    for i in range(0, len(order_ids), _IN_CHUNK):
        conn.execute(
            sa.update(orders)
            .where(
                orders.c.account_id == account_id,
                orders.c.order_id.in_(order_ids[i : i + _IN_CHUNK]),
            )
            .values(**values)
        )


def acknowledge(
    conn: Connection, account_id: str, order_ids: Sequence[str], *, at: datetime
) -> int:
    done = 0
    for i in range(0, len(order_ids), _IN_CHUNK):
        done += conn.execute(
            sa.update(orders)
            .where(
                orders.c.account_id == account_id,
                orders.c.order_id.in_(order_ids[i : i + _IN_CHUNK]),
                orders.c.state == "to_send",
            )
            .values(state="sent", sent_at=at)
        ).rowcount
    return done


def states_of(conn: Connection, account_id: str, order_ids: Sequence[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for i in range(0, len(order_ids), _IN_CHUNK):
        rows = conn.execute(
            sa.select(orders.c.order_id, orders.c.state).where(
                orders.c.account_id == account_id,
                orders.c.order_id.in_(order_ids[i : i + _IN_CHUNK]),
            )
        )
        found.update({r.order_id: r.state for r in rows})
    return found


def requests(
    conn: Connection, account_id: str, *, state: str, after: str | None, limit: int
) -> list[OrderRow]:
    """Requests in `state`, oldest placed first, paged by order id after `after`'s place."""
    stmt = (
        sa.select(*[c for c in orders.c if c.name not in ("account_id", "recorded_at")])
        .where(orders.c.account_id == account_id, orders.c.state == state)
        .order_by(orders.c.placed_at, orders.c.order_id)
        .limit(limit)
    )
    if after is not None:
        mark = conn.execute(
            sa.select(orders.c.placed_at).where(
                orders.c.account_id == account_id, orders.c.order_id == after
            )
        ).scalar_one_or_none()
        if mark is not None:
            stmt = stmt.where(
                sa.or_(
                    orders.c.placed_at > mark,
                    sa.and_(orders.c.placed_at == mark, orders.c.order_id > after),
                )
            )
    return [OrderRow(**r._mapping) for r in conn.execute(stmt)]


def state_counts(conn: Connection, account_id: str) -> dict[str, int]:
    rows = conn.execute(
        sa.select(orders.c.state, sa.func.count())
        .where(orders.c.account_id == account_id, orders.c.state.is_not(None))
        .group_by(orders.c.state)
    )
    return {str(r[0]): int(r[1]) for r in rows}
