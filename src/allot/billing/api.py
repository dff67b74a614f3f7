"""The routes of the use cases that span domains: creating an account (with the referral it
came by), changing a subscription's plan (EDIT TARIFF PLAN) or quantity, and upgrade advice.

The account itself may do all three, as well as the operator: the preview shows
the charge before anything changes, and confirming it charges exactly that.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.engine import Connection

from allot.account.api import account_read, operator_on
from allot.account.schemas import AccountCreate, AccountRead, SubscriptionRead, SubscriptionUpdate
from allot.account.service import create_account
from allot.api_context import Caller, Db, IdempotencyKey, Now, PathId, idempotent
from allot.apikey.service import Principal
from allot.billing.advice import upgrade_advice
from allot.billing.changes import (
    change_plan,
    change_quantity,
    preview_change,
    preview_quantity_change,
)
from allot.billing.schemas import (
    MonthAdviceRead,
    PlanChange,
    PlanChangePreviewRead,
    PlanChangeRead,
    QuantityChange,
    QuantityChangePreviewRead,
    QuantityChangeRead,
    advice_read,
    preview_fields,
    quantity_preview_fields,
)
from allot.core.periods import Month
from allot.invoice import repository as invoice_repo
from allot.invoice.schemas import invoice_read
from allot.referral.service import attribute
from allot.subscription import repository as subscription_repo
from allot.subscription.api import subscription_read

router = APIRouter(prefix="/accounts/{account_id}", tags=["plans"])
accounts = APIRouter(prefix="/accounts", tags=["accounts"])
CHANGE = "/subscriptions/{subscription_id}/plan-change"
QUANTITY = "/subscriptions/{subscription_id}/quantity-change"


@router.post(f"{CHANGE}/preview", response_model=PlanChangePreviewRead)
def post_preview(
    account_id: str, subscription_id: PathId, body: PlanChange, db: Db, now: Now, caller: Caller
) -> PlanChangePreviewRead:
    """What changing to `plan` would do now: the prorated charge, or the renewal date of a
    downgrade, and the months whose overage an upgrade waives. Nothing changes."""
    with db.transaction() as conn:  # the preview reads under the account's lock, like the change
        caller.check(conn).require_account(account_id)
        preview = preview_change(
            conn, now, account_id=account_id, subscription_id=subscription_id, plan_code=body.plan
        )
        return PlanChangePreviewRead.model_validate(preview_fields(preview))


@router.post(CHANGE, response_model=PlanChangeRead)
def post_change(
    account_id: str,
    subscription_id: PathId,
    body: PlanChange,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """Upgrade now with a prorated charge (invoiced at once), or downgrade at the renewal."""

    def work(conn: Connection, principal: Principal) -> tuple[int, PlanChangeRead]:
        principal.require_account(account_id)
        preview, invoice = change_plan(
            conn, now, account_id=account_id, subscription_id=subscription_id, plan_code=body.plan
        )
        issued = None
        if invoice is not None:
            issued = invoice_read(invoice, invoice_repo.credit_notes_of(conn, invoice.id))
        return 200, PlanChangeRead.model_validate({**preview_fields(preview), "invoice": issued})

    request = {"account": account_id, "subscription": subscription_id, **body.model_dump()}
    return idempotent(db, now, caller, key, request, work)


@router.post(f"{QUANTITY}/preview", response_model=QuantityChangePreviewRead)
def post_quantity_preview(
    account_id: str,
    subscription_id: PathId,
    body: QuantityChange,
    db: Db,
    now: Now,
    caller: Caller,
) -> QuantityChangePreviewRead:
    """What changing to `quantity` locations would do now: an increase's prorated charge, or
    the renewal a decrease waits for, and any scheduled decrease it replaces. Nothing changes."""
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        preview = preview_quantity_change(
            conn,
            now,
            account_id=account_id,
            subscription_id=subscription_id,
            quantity=body.quantity,
        )
        return QuantityChangePreviewRead.model_validate(quantity_preview_fields(preview))


@router.post(QUANTITY, response_model=QuantityChangeRead)
def post_quantity_change(
    account_id: str,
    subscription_id: PathId,
    body: QuantityChange,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """An increase now with a prorated charge (invoiced at once), or a decrease at the
    renewal; asking for what the subscription already does changes nothing."""

    def work(conn: Connection, principal: Principal) -> tuple[int, QuantityChangeRead]:
        principal.require_account(account_id)
        preview, invoice = change_quantity(
            conn,
            now,
            account_id=account_id,
            subscription_id=subscription_id,
            quantity=body.quantity,
        )
        issued = None
        if invoice is not None:
            issued = invoice_read(invoice, invoice_repo.credit_notes_of(conn, invoice.id))
        return 200, QuantityChangeRead.model_validate(
            {**quantity_preview_fields(preview), "invoice": issued}
        )

    request = {"account": account_id, "subscription": subscription_id, **body.model_dump()}
    return idempotent(db, now, caller, key, request, work)


@router.get("/advice", response_model=list[MonthAdviceRead])
def get_advice(
    account_id: str,
    db: Db,
    now: Now,
    caller: Caller,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])] = None,
) -> list[MonthAdviceRead]:
    """Per metric, this month to date and last month (or `month`): the cost of staying
    against each plan above, the cheapest, the saving and the breakeven (V1)."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        found = upgrade_advice(
            conn,
            now,
            account_id=account_id,
            month=None if month is None else Month.from_input(month),
        )
    return [advice_read(item) for item in found]


@accounts.post("", status_code=201, response_model=AccountRead)
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
            billing_details=None if body.billing_details is None else body.billing_details.wire(),
        )
        if body.referral_code is not None:
            attribute(conn, now, account_id=account.id, code=body.referral_code)
        return 201, account_read(account)

    return idempotent(db, now, caller, key, body, work)


@accounts.patch("/{account_id}/subscriptions/{subscription_id}", response_model=SubscriptionRead)
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
        operator_on(account_id, principal)
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
