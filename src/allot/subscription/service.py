"""Subscription use cases: subscribe (A2), and the `subscription.updated` event.

An account has one live subscription per product line. CHOICE: two live
subscriptions may not meter the same metric (a store wanting reviews and
loyalty takes Full Suite), so every unit has exactly one plan behind it.

Plan and quantity changes, which invoice and release the backlog, are the
billing layer's (`allot.billing.changes`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Connection

from allot import audit
from allot.account.repository import AccountRow
from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core.catalog import Plan
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.kit import validate
from allot.kit.clock import Clock
from allot.subscription import repository as repo
from allot.subscription.repository import LiveSubscription
from allot.webhook.service import emit

MAX_QUANTITY = 100_000


def subscribe(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    plan_code: str,
    quantity: int = 1,
    started_on: date | None = None,
) -> LiveSubscription:
    account = get_account(conn, account_id, lock=True)
    validate.positive_int(quantity, field="quantity", maximum=MAX_QUANTITY)
    found = catalog_repo.latest_plan(conn, plan_code)
    if found is None:
        raise NotFound("plan_not_found", f"no plan {plan_code!r} in the catalog", field="plan")
    plan_id, plan = found
    _check_sellable(plan, plan_code, account, quantity)
    now = clock.now()
    today = now.astimezone(account.zones.at(now)).date()  # A5: a new zone from its month
    start = started_on or today
    _check_alone(conn, account_id, plan)
    sub_id = repo.insert(
        conn,
        account_id=account_id,
        product_line=plan.product_line,
        plan_id=plan_id,
        quantity=quantity,
        started_on=start,
        starts_at=account.zones.midnight(start),
        at=clock.now(),
    )
    created = LiveSubscription(
        sub_id,
        account_id,
        plan.product_line,
        plan_id,
        plan,
        quantity,
        start,
        account.zones.midnight(start),
        "active",
    )
    announce(conn, clock, created, change="created")
    return created


def _check_sellable(plan: Plan, plan_code: str, account: AccountRow, quantity: int) -> None:
    """Refuse what the account cannot take as asked: a plan priced by agreement, in
    another currency, or more than one of a plan not sold per location."""
    if plan.by_agreement:
        raise InvalidInput(
            "plan_by_agreement",
            f"{plan.name} is priced by agreement; the operator adds a plan with the agreed price",
            field="plan",
        )
    if plan.currency != account.currency:
        raise InvalidInput(
            "currency_mismatch",
            f"plan {plan_code!r} is in {plan.currency}, account {account.id!r} pays in "
            f"{account.currency}",
            field="plan",
        )
    if quantity > 1 and not plan.per_quantity:
        raise InvalidInput(
            "quantity_not_supported", f"{plan.name} is not sold per location", field="quantity"
        )


def _check_alone(conn: Connection, account_id: str, plan: Plan) -> None:
    """One live subscription per product line, and one plan behind every metric."""
    for sub in repo.live(conn, account_id):
        if sub.product_line == plan.product_line:
            raise Conflict(
                "already_subscribed",
                f"account {account_id!r} already has {sub.plan.name} on {plan.product_line}; "
                "change that plan instead",
                field="plan",
            )
        shared = set(sub.plan.rules) & set(plan.rules)
        if shared:
            raise Conflict(
                "metric_already_metered",
                f"{sorted(shared)} already metered by {sub.plan.name}; one plan per metric",
                field="plan",
            )


def seen(sub: LiveSubscription) -> dict[str, object]:
    """What a subscription is, as its webhook and the audit log tell it."""
    return {
        "subscription_id": sub.id,
        "account_id": sub.account_id,
        "product_line": sub.product_line,
        "plan": sub.plan.code,
        "plan_version": sub.plan.version,
        "quantity": sub.quantity,
        "pending_quantity": sub.pending_quantity,
        "pending_quantity_on": (
            None if sub.pending_quantity_on is None else sub.pending_quantity_on.isoformat()
        ),
        "started_on": sub.started_on.isoformat(),
        "state": sub.state,
    }


def announce(
    conn: Connection,
    clock: Clock,
    sub: LiveSubscription,
    *,
    change: str,
    before: LiveSubscription | None = None,
) -> None:
    """`subscription.updated` to the webhooks' outbox and `subscription.<change>` to the
    audit log (with `before`, when the caller had it), in the same transaction."""
    after = seen(sub)
    emit(
        conn,
        clock,
        type="subscription.updated",
        account_id=sub.account_id,
        payload={"change": change, **after},
    )
    audit.record(
        conn, clock, change=f"subscription.{change}", subject_kind="subscription",
        subject_id=sub.id, account_id=sub.account_id,
        before=None if before is None else seen(before), after=after,
    )  # fmt: skip
