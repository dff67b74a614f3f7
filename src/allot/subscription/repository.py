"""Every query of the subscription domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.catalog.codec import plan_from_json
from allot.catalog.models import plans
from allot.core.catalog import Plan
from allot.subscription.models import subscription_changes, subscriptions


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

    @property
    def source(self) -> str:
        """The waterfall's name for this subscription's included allowance."""
        return f"plan:{self.id}"


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
    rows = conn.execute(_LIVE_OF_ACCOUNT, {"account_id": account_id})
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
            next_bill_on=started_on,
            usage_month=f"{started_on.year:04d}-{started_on.month:02d}",
        )
        .returning(subscriptions.c.id)
    )
    return int(result.scalar_one())


def set_quantity(conn: Connection, subscription_id: int, quantity: int) -> None:
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(quantity=quantity)
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
