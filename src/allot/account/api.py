"""/v1/accounts: read, list and change accounts (creating one is `allot.billing.api`: it may
attribute a referral)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from allot.account.repository import AccountRow
from allot.account.schemas import (
    AccountPage,
    AccountRead,
    AccountUpdate,
    BillingDetailsBody,
)
from allot.account.service import get_account, list_accounts, update_account
from allot.api_context import Caller, Db, Now
from allot.apikey.service import Principal
from allot.core.money import Money

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
        billing_details=BillingDetailsBody.model_validate(row.billing_details or {}),
        credit_balance=str(Money.from_minor(row.credit_balance_minor, row.currency).amount),
        created_at=row.created_at,
    )


def operator_on(account_id: str, principal: Principal) -> None:
    """Another tenant's account is a 404 before it is a 403."""
    principal.require_account(account_id)
    principal.require_operator()


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
    """Change name, time zone, locale, billing channel, tax rate or billing details (operator)."""
    with db.transaction() as conn:
        operator_on(account_id, caller.check(conn))
        changes = body.model_dump(exclude_unset=True, exclude={"billing_details"})
        if body.billing_details is not None:
            changes["billing_details"] = body.billing_details.wire()
        return account_read(update_account(conn, now, account_id=account_id, **changes))
