"""Every query of the subscription domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.catalog.codec import plan_from_json
from allot.catalog.models import plans
from allot.core.catalog import Plan
from allot.subscription.models import subscriptions


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
    plans.c.definition,
).join(plans, plans.c.id == subscriptions.c.plan_id)


_LIVE_OF_ACCOUNT = _LIVE.where(
    subscriptions.c.account_id == sa.bindparam("account_id"), subscriptions.c.state != "canceled"
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
