"""/v1/accounts/{id}/subscriptions: the live subscriptions, and subscribing (A2)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.engine import Connection

from allot.account.api import operator_on
from allot.account.schemas import SubscriptionCreate, SubscriptionRead
from allot.account.service import get_account
from allot.api_context import Caller, Db, IdempotencyKey, Now, idempotent
from allot.apikey.service import Principal
from allot.subscription import repository as subscription_repo
from allot.subscription.repository import LiveSubscription
from allot.subscription.service import subscribe

router = APIRouter(prefix="/accounts", tags=["accounts"])


def subscription_read(sub: LiveSubscription) -> SubscriptionRead:
    return SubscriptionRead(
        id=sub.id,
        account_id=sub.account_id,
        product_line=sub.product_line,
        plan=sub.plan.code,
        plan_version=sub.plan.version,
        plan_name=sub.plan.name,
        quantity=sub.quantity,
        started_on=sub.started_on,
        state=sub.state,
        pending_quantity=sub.pending_quantity,
        pending_quantity_on=sub.pending_quantity_on,
    )


@router.get("/{account_id}/subscriptions", response_model=list[SubscriptionRead])
def get_subscriptions(account_id: str, db: Db, caller: Caller) -> list[SubscriptionRead]:
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        get_account(conn, account_id)
        return [subscription_read(s) for s in subscription_repo.live(conn, account_id)]


@router.post("/{account_id}/subscriptions", status_code=201, response_model=SubscriptionRead)
def post_subscription(
    account_id: str,
    body: SubscriptionCreate,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """Subscribe the account to the newest version of a plan (operator)."""

    def work(conn: Connection, principal: Principal) -> tuple[int, SubscriptionRead]:
        operator_on(account_id, principal)
        return 201, subscription_read(
            subscribe(
                conn,
                now,
                account_id=account_id,
                plan_code=body.plan,
                quantity=body.quantity,
                started_on=body.started_on,
            )
        )

    return idempotent(db, now, caller, key, {"account": account_id, **body.model_dump()}, work)
