"""/v1/accounts and their subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.engine import Connection

from allot.account.repository import AccountRow
from allot.account.schemas import (
    AccountCreate,
    AccountPage,
    AccountRead,
    AccountUpdate,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
)
from allot.account.service import create_account, get_account, list_accounts, update_account
from allot.api_context import Caller, Db, IdempotencyKey, Now, PathId, idempotent
from allot.apikey.service import Principal
from allot.referral.service import attribute
from allot.subscription import repository as subscription_repo
from allot.subscription.repository import LiveSubscription
from allot.subscription.service import change_quantity, subscribe

router = APIRouter(prefix="/accounts", tags=["accounts"])


def account_read(row: AccountRow) -> AccountRead:
    return AccountRead(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        timezone_before=row.timezone_before,
        timezone_since=row.timezone_since,
        currency=row.currency,
        locale=row.locale,
        billing_channel=row.billing_channel,
        tax_rate=str(row.tax_rate),
        created_at=row.created_at,
    )


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


def _operator_on(account_id: str, principal: Principal) -> None:
    """Another tenant's account is a 404 before it is a 403."""
    principal.require_account(account_id)
    principal.require_operator()


@router.post("", status_code=201, response_model=AccountRead)
def post_account(
    body: AccountCreate, db: Db, now: Now, caller: Caller, key: IdempotencyKey = None
) -> object:
    """Create an account (operator)."""

    def work(conn: Connection, principal: Principal) -> tuple[int, AccountRead]:
        principal.require_operator()
        account = create_account(
            conn,
            now,
            account_id=body.id,
            name=body.name,
            timezone=body.timezone,
            currency=body.currency,
            locale=body.locale,
            billing_channel=body.billing_channel,
            tax_rate=body.tax_rate,
        )
        if body.referral_code is not None:
            attribute(conn, now, account_id=account.id, code=body.referral_code)
        return 201, account_read(account)

    return idempotent(db, now, caller, key, body, work)


@router.get("", response_model=AccountPage)
def get_accounts(
    db: Db,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> AccountPage:
    """List accounts by id (operator)."""
    with db.read() as conn:
        caller.check(conn).require_operator()
        rows = list_accounts(conn, limit=limit, after=after)
    return AccountPage(
        data=[account_read(r) for r in rows], next_after=rows[-1].id if len(rows) == limit else None
    )


@router.get("/{account_id}", response_model=AccountRead)
def get_one(account_id: str, db: Db, caller: Caller) -> AccountRead:
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        return account_read(get_account(conn, account_id))


@router.patch("/{account_id}", response_model=AccountRead)
def patch_account(
    account_id: str, body: AccountUpdate, db: Db, now: Now, caller: Caller
) -> AccountRead:
    """Change name, time zone, locale, billing channel or tax rate (operator)."""
    with db.transaction() as conn:
        _operator_on(account_id, caller.check(conn))
        return account_read(
            update_account(conn, now, account_id=account_id, **body.model_dump(exclude_unset=True))
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
        _operator_on(account_id, principal)
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


@router.patch("/{account_id}/subscriptions/{subscription_id}", response_model=SubscriptionRead)
def patch_subscription(
    account_id: str,
    subscription_id: PathId,
    body: SubscriptionUpdate,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """Change the quantity (locations) of a subscription (operator): an increase now, with its
    prorated charge invoiced at once; a decrease at the renewal (`pending_quantity`). The
    same change as `POST …/quantity-change`, answered with the subscription."""

    def work(conn: Connection, principal: Principal) -> tuple[int, SubscriptionRead]:
        _operator_on(account_id, principal)
        change_quantity(
            conn,
            now,
            account_id=account_id,
            subscription_id=subscription_id,
            quantity=body.quantity,
        )
        sub = next(s for s in subscription_repo.live(conn, account_id) if s.id == subscription_id)
        return 200, subscription_read(sub)

    request = {
        "action": "subscription.update",  # not a replay of `POST …/quantity-change`'s answer
        "account": account_id,
        "subscription": subscription_id,
        **body.model_dump(),
    }
    return idempotent(db, now, caller, key, request, work)
