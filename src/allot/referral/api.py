"""/v1/accounts/{id}/referral: switch referral on or off (operator), read it (its business)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.api_context import Caller, Db, Now
from allot.core.money import Money
from allot.referral.schemas import ReferralRead, ReferredRead
from allot.referral.service import (
    ReferralPage,
    disable_referral,
    enable_referral,
    referral_page,
)

router = APIRouter(prefix="/accounts", tags=["referral"])


def referral_read(page: ReferralPage, currency: str) -> ReferralRead:
    def money(minor: int) -> str:
        return str(Money.from_minor(minor, currency).amount)

    return ReferralRead(
        account_id=page.program.account_id,
        enabled=page.program.enabled,
        code=page.code,
        link=page.link,
        currency=currency,
        earned=money(page.earned_minor),
        credited=money(page.applied_minor),
        balance=money(page.balance_minor),
        referred=[
            ReferredRead(
                account_id=r.referred_account_id,
                name=r.referred_name,
                signed_up_at=r.attributed_at,
                state="signed_up" if r.earned_at is None else "rewarded",
                rewarded_at=r.earned_at,
                reward=None if r.reward_minor is None else money(r.reward_minor),
                credited=money(r.applied_minor),
            )
            for r in page.referred
        ],
    )


def _page(request: Request, conn: Connection, account_id: str) -> ReferralRead:
    page = referral_page(conn, account_id=account_id, link_template=request.app.state.referral_link)
    return referral_read(page, get_account(conn, account_id).currency)


@router.get("/{account_id}/referral", response_model=ReferralRead)
def get_referral(account_id: str, request: Request, db: Db, caller: Caller) -> ReferralRead:
    """The account's referral link, who signed up through it and the rewards (A4)."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        return _page(request, conn, account_id)


def _switch(
    account_id: str, request: Request, db: Db, now: Now, caller: Caller, *, on: bool
) -> ReferralRead:
    with db.transaction() as conn:
        principal = caller.check(conn)
        principal.require_account(account_id)
        principal.require_operator()
        (enable_referral if on else disable_referral)(conn, now, account_id=account_id)
        return _page(request, conn, account_id)


@router.put("/{account_id}/referral", response_model=ReferralRead)
def put_referral(
    account_id: str, request: Request, db: Db, now: Now, caller: Caller
) -> ReferralRead:
    """Switch referral on for the account (operator); it keeps its code if it had one."""
    return _switch(account_id, request, db, now, caller, on=True)


@router.delete("/{account_id}/referral", response_model=ReferralRead)
def delete_referral(
    account_id: str, request: Request, db: Db, now: Now, caller: Caller
) -> ReferralRead:
    """Switch referral off (operator): no new sign-ups are attributed; earned rewards stay."""
    return _switch(account_id, request, db, now, caller, on=False)
