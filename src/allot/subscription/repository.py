"""Every query of the subscription domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.catalog.codec import plan_from_json
from allot.catalog.models import plans
from allot.core import calendar
from allot.core.catalog import Plan
from allot.subscription.models import (
    subscription_changes,
    subscription_quantity_changes,
    subscriptions,
)


@dataclass(frozen=True, slots=True)
class LiveSubscription:
    id: int
    account_id: str
    product_line: str
    plan_id: int
    plan: Plan
    quantity: int
    started_on: date
    starts_at: datetime
    state: str
    # the billing calendar (see subscriptions' columns)
    billed_months: int = 0
    next_bill_on: date | None = None
    usage_month: str = ""
    pending_plan_id: int | None = None
    # the quantity in force (see subscriptions' columns)
    quantity_from: datetime | None = None
    pending_quantity: int | None = None
    pending_quantity_at: datetime | None = None

    @property
    def source(self) -> str:
        """The waterfall's name for this subscription's included allowance."""
        return f"plan:{self.id}"

    def quantity_in_force(self, at: datetime) -> int:
        """The quantity at `at`, for instants from `quantity_from` on: a scheduled decrease
        counts from its renewal's first instant, even before the invoice run applies it.
        Earlier instants need the history (`quantity_span`)."""
        pending, starts = self.pending_quantity, self.pending_quantity_at
        if pending is not None and starts is not None and at >= starts:
            return pending
        return self.quantity

    @property
    def pending_quantity_on(self) -> date | None:
        """The renewal at which the scheduled decrease takes effect: the next charge's day
        (the run applies it when it charges that period)."""
        return None if self.pending_quantity is None else self.next_bill_on


_LIVE = sa.select(
    subscriptions.c.id,
    subscriptions.c.account_id,
    subscriptions.c.product_line,
    subscriptions.c.plan_id,
    subscriptions.c.quantity,
    subscriptions.c.started_on,
    subscriptions.c.starts_at,
    subscriptions.c.state,
    subscriptions.c.billed_months,
    subscriptions.c.next_bill_on,
    subscriptions.c.usage_month,
    subscriptions.c.pending_plan_id,
    subscriptions.c.quantity_from,
    subscriptions.c.pending_quantity,
    subscriptions.c.pending_quantity_at,
    plans.c.definition,
).join(plans, plans.c.id == subscriptions.c.plan_id)


# 'canceled' as a literal, not a parameter: PostgreSQL then plans the prepared statement once
# (on the live subscriptions' partial index) instead of at every execution.
_LIVE_OF_ACCOUNT = _LIVE.where(
    subscriptions.c.account_id == sa.bindparam("account_id"),
    subscriptions.c.state != sa.literal_column("'canceled'"),
).order_by(subscriptions.c.id)


def live(conn: Connection, account_id: str) -> list[LiveSubscription]:
    """The account's subscriptions that are not canceled, one per product line."""
    return _subscriptions(conn.execute(_LIVE_OF_ACCOUNT, {"account_id": account_id}))


def by_id(conn: Connection, subscription_id: int) -> LiveSubscription | None:
    """A subscription whatever its state (a canceled one too)."""
    found = _subscriptions(conn.execute(_LIVE.where(subscriptions.c.id == subscription_id)))
    return found[0] if found else None


def _subscriptions(rows: Any) -> list[LiveSubscription]:
    return [
        LiveSubscription(
            r.id,
            r.account_id,
            r.product_line,
            r.plan_id,
            plan_from_json(r.definition),
            r.quantity,
            r.started_on,
            r.starts_at,
            r.state,
            r.billed_months,
            r.next_bill_on,
            r.usage_month,
            r.pending_plan_id,
            r.quantity_from,
            r.pending_quantity,
            r.pending_quantity_at,
        )
        for r in rows
    ]


def insert(
    conn: Connection,
    *,
    account_id: str,
    product_line: str,
    plan_id: int,
    quantity: int,
    started_on: date,
    starts_at: datetime,
    at: datetime,
) -> int:
    first_charge, first_usage = calendar.opening(started_on)
    result = conn.execute(
        sa.insert(subscriptions)
        .values(
            account_id=account_id,
            product_line=product_line,
            plan_id=plan_id,
            quantity=quantity,
            started_on=started_on,
            starts_at=starts_at,
            state="active",
            created_at=at,
            next_bill_on=first_charge,
            usage_month=first_usage.key,
        )
        .returning(subscriptions.c.id)
    )
    return int(result.scalar_one())


def set_state(conn: Connection, subscription_id: int, state: str, *, at: datetime) -> None:
    """active ⇄ past_due (P2), → canceled (at `at`), canceled → active (resumed)."""
    canceled = {"canceled_at": at} if state == "canceled" else {"canceled_at": None}
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(state=state, **canceled)
    )


def resume(
    conn: Connection, subscription_id: int, *, billed_months: int, next_bill_on: date
) -> None:
    """A canceled subscription live again, its calendar moved past the months it was stopped."""
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(
            state="active", canceled_at=None, billed_months=billed_months, next_bill_on=next_bill_on
        )
    )


def set_quantity(conn: Connection, subscription_id: int, quantity: int, *, since: datetime) -> None:
    """`quantity` is in force from the instant `since`; no decrease is pending any more."""
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(
            quantity=quantity,
            quantity_from=since,
            pending_quantity=None,
            pending_quantity_at=None,
        )
    )


def set_pending_quantity(
    conn: Connection, subscription_id: int, quantity: int | None, *, at: datetime | None
) -> None:
    """Schedule a decrease to `quantity` from the instant `at` (None, None: no decrease)."""
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(pending_quantity=quantity, pending_quantity_at=at)
    )


@dataclass(frozen=True, slots=True)
class QuantityChangeRow:
    id: int
    subscription_id: int
    from_quantity: int
    to_quantity: int
    direction: str
    requested_at: datetime
    effective_on: date
    effective_at: datetime
    state: str


def insert_quantity_change(conn: Connection, **values: object) -> int:
    return int(
        conn.execute(
            sa.insert(subscription_quantity_changes)
            .values(**values)
            .returning(subscription_quantity_changes.c.id)
        ).scalar_one()
    )


def quantity_changes(
    conn: Connection, subscription_id: int, *, state: str | None = None
) -> list[QuantityChangeRow]:
    """The subscription's quantity changes, in the order they take effect."""
    c = subscription_quantity_changes.c
    stmt = (
        sa.select(*(c[f] for f in QuantityChangeRow.__dataclass_fields__))
        .where(c.subscription_id == subscription_id)
        .order_by(c.effective_at, c.id)
    )
    if state is not None:
        stmt = stmt.where(c.state == state)
    return [QuantityChangeRow(*r) for r in conn.execute(stmt)]


def set_quantity_change_state(conn: Connection, change_id: int, state: str) -> None:
    conn.execute(
        sa.update(subscription_quantity_changes)
        .where(subscription_quantity_changes.c.id == change_id)
        .values(state=state)
    )


@dataclass(frozen=True, slots=True)
class QuantitySpan:
    """The quantity in force at an instant, and the span [since, until) it holds over
    (None: unbounded on that side, as far as quantity changes go)."""

    quantity: int
    since: datetime | None
    until: datetime | None


def quantity_span(conn: Connection, sub: LiveSubscription, at: datetime) -> QuantitySpan:
    """The quantity in force at `at` (C3): what the waterfall sizes the plan's allowance by.

    From `quantity_from` on the subscription row answers, with a scheduled decrease
    counting from its renewal; only an instant before `quantity_from` (a late action)
    reads the applied changes.
    """
    if sub.quantity_from is None or at >= sub.quantity_from:
        pending = sub.pending_quantity_at if sub.pending_quantity is not None else None
        if pending is not None and at >= pending:
            return QuantitySpan(sub.quantity_in_force(at), pending, None)
        return QuantitySpan(sub.quantity, sub.quantity_from, pending)
    applied = quantity_changes(conn, sub.id, state="applied")
    before = [c for c in applied if c.effective_at <= at]
    after = [c for c in applied if c.effective_at > at]
    if before:
        quantity = before[-1].to_quantity
    elif after:
        quantity = after[0].from_quantity
    else:  # no history: the row's quantity was set before changes were recorded
        quantity = sub.quantity
    return QuantitySpan(
        quantity,
        before[-1].effective_at if before else None,
        after[0].effective_at if after else sub.quantity_from,
    )


# --- the billing calendar ------------------------------------------------------


def due_accounts(
    conn: Connection, *, by_day: date, usage_before: str, after: str | None, limit: int
) -> list[str]:
    """Accounts with a live subscription whose charge or usage invoice may be due.

    A coarse filter on dates only (`by_day` is a day no time zone has reached yet):
    the run checks each account in its own time zone.
    """
    stmt = (
        sa.select(subscriptions.c.account_id)
        .where(
            subscriptions.c.state != "canceled",
            sa.or_(
                subscriptions.c.next_bill_on <= by_day,
                subscriptions.c.usage_month < usage_before,
            ),
        )
        .group_by(subscriptions.c.account_id)
        .order_by(subscriptions.c.account_id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(subscriptions.c.account_id > after)
    return list(conn.execute(stmt).scalars())


Move = tuple[sa.Update, dict[str, Any]]
"""A move of a subscription's billing calendar: a statement and its parameters, made alone
(`advance`) or in the round trip of the invoice it goes with (`invoice.repository.Along`)."""


def advance(conn: Connection, move: Move) -> None:
    conn.execute(*move)


def period_move(subscription_id: int, *, billed_months: int, next_bill_on: date) -> Move:
    """Periods up to `billed_months` months of the contract are charged; the next is due on
    `next_bill_on`."""
    return _MOVE_PERIOD, {
        "along_subscription_id": subscription_id,
        "along_billed_months": billed_months,
        "along_next_bill_on": next_bill_on,
    }


def usage_move(subscription_id: int, *, usage_month: str) -> Move:
    """The months before `usage_month` have had their usage billed."""
    return _MOVE_USAGE, {"along_subscription_id": subscription_id, "along_usage_month": usage_month}


# Built once, as they run for every subscription billed; the parameters are named apart
# from an invoice's, whose statement may carry them (see `invoice.repository.Along`).
_CALENDAR_OF = sa.update(subscriptions).where(
    subscriptions.c.id == sa.bindparam("along_subscription_id", type_=sa.BigInteger)
)
_MOVE_PERIOD = _CALENDAR_OF.values(
    billed_months=sa.bindparam("along_billed_months", type_=sa.Integer),
    next_bill_on=sa.bindparam("along_next_bill_on", type_=sa.Date),
)
_MOVE_USAGE = _CALENDAR_OF.values(usage_month=sa.bindparam("along_usage_month", type_=sa.String))


def set_plan(
    conn: Connection, subscription_id: int, *, plan_id: int, pending_plan_id: int | None
) -> None:
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(plan_id=plan_id, pending_plan_id=pending_plan_id)
    )


def set_pending(conn: Connection, subscription_id: int, pending_plan_id: int | None) -> None:
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(pending_plan_id=pending_plan_id)
    )


@dataclass(frozen=True, slots=True)
class ChangeRow:
    id: int
    subscription_id: int
    from_plan_id: int
    to_plan_id: int
    direction: str
    requested_at: datetime
    effective_on: date
    state: str


def insert_change(conn: Connection, **values: object) -> int:
    return int(
        conn.execute(
            sa.insert(subscription_changes).values(**values).returning(subscription_changes.c.id)
        ).scalar_one()
    )


def changes(conn: Connection, subscription_id: int) -> list[ChangeRow]:
    rows = conn.execute(
        sa.select(*(subscription_changes.c[f] for f in ChangeRow.__dataclass_fields__))
        .where(subscription_changes.c.subscription_id == subscription_id)
        .order_by(subscription_changes.c.id)
    )
    return [ChangeRow(*r) for r in rows]


def set_change_state(conn: Connection, change_id: int, state: str) -> None:
    conn.execute(
        sa.update(subscription_changes)
        .where(subscription_changes.c.id == change_id)
        .values(state=state)
    )


def plan_of(conn: Connection, plan_id: int) -> Plan:
    definition = conn.execute(
        sa.select(plans.c.definition).where(plans.c.id == plan_id)
    ).scalar_one()
    return plan_from_json(definition)
