"""/v1/partners, their codes, and claiming a code for an account."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from allot.api_context import Caller, Db, IdempotencyKey, Now, PathId, idempotent
from allot.apikey.service import Principal
from allot.code.service import (
    assign_code,
    claim_code,
    code_state,
    issue_code,
    list_codes,
    partner_code,
    pause_code,
    revoke_code,
)
from allot.core.codes import display
from allot.core.errors import RateLimited
from allot.core.periods import Month
from allot.grant.repository import GrantRow
from allot.kit.clock import monotonic
from allot.kit.ratelimit import Buckets
from allot.kit.validate import Instant
from allot.partner.inventory import Stock, stock, top_up
from allot.partner.reporting import PartnerMonth, partner_month
from allot.partner.repository import PartnerRow
from allot.partner.service import enroll_partner, get_partner, list_partners

router = APIRouter(tags=["partners and codes"])
_STRICT = ConfigDict(extra="forbid")


class PartnerCreate(BaseModel):
    model_config = _STRICT
    id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(
        max_length=32, description="agency, consultant, pos_vendor, restaurant_consultant"
    )
    contact: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    wholesale_discount: Decimal = Field(
        description="0.30 = 30 % off", max_digits=6, decimal_places=4
    )
    prices: dict[str, Decimal] = Field(
        default_factory=dict, description="Price per resource per month, before the discount."
    )


class PartnerRead(BaseModel):
    id: str
    name: str
    kind: str
    contact: str
    currency: str
    wholesale_discount: str
    prices: dict[str, str]
    created_at: datetime


class CodeIssue(BaseModel):
    model_config = _STRICT
    allowances: dict[str, Annotated[int, Field(ge=1, le=1_000_000_000)]] = Field(
        description="The package: monthly allowance per metric.",
        examples=[{"staff_seats": 36, "card_operations": 18}],
    )
    starts_at: Instant | None = None
    ends_at: Instant | None = Field(None, description="Fixed-term end; none: lifetime.")


class CodeClaim(BaseModel):
    model_config = _STRICT
    code: str = Field(max_length=64, examples=["7K2M-9QXD-4HRT-PV0C-8"])


class CodeAssign(BaseModel):
    model_config = _STRICT
    account_id: str = Field(max_length=64)


class CodeRead(BaseModel):
    number: int
    label: str
    code: str
    state: str = Field(description="issued, claimed, paused, ended or revoked")
    account_id: str | None
    allowances: dict[str, int]
    issued_at: datetime
    claimed_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None


class ClaimedRead(BaseModel):
    """What a business sees after claiming: the code's number and package, not its owner's."""

    label: str
    allowances: dict[str, int]
    ends_at: datetime | None


def partner_read(p: PartnerRow) -> PartnerRead:
    return PartnerRead(
        id=p.id,
        name=p.name,
        kind=p.kind,
        contact=p.contact,
        currency=p.currency,
        wholesale_discount=str(p.wholesale_discount),
        prices={m: str(v) for m, v in p.prices.items()},
        created_at=p.created_at,
    )


def code_read(code: GrantRow, now: datetime) -> CodeRead:
    assert code.number is not None
    return CodeRead(
        number=code.number,
        label=code.label,
        code=display(code.code or ""),
        state=code_state(code, now),
        account_id=code.account_id,
        allowances=dict(code.allowances),
        issued_at=code.issued_at,
        claimed_at=code.claimed_at,
        starts_at=code.starts_at,
        ends_at=code.ends_at,
    )


@router.post("/partners", status_code=201, response_model=PartnerRead)
def post_partner(
    body: PartnerCreate, db: Db, now: Now, caller: Caller, key: IdempotencyKey = None
) -> object:
    """Enrol a partner with its wholesale terms (operator)."""

    def work(conn: Connection, principal: Principal) -> tuple[int, PartnerRead]:
        principal.require_operator()
        return 201, partner_read(
            enroll_partner(
                conn,
                now,
                partner_id=body.id,
                name=body.name,
                kind=body.kind,
                contact=body.contact,
                currency=body.currency,
                wholesale_discount=body.wholesale_discount,
                prices=body.prices,
            )
        )

    return idempotent(db, now, caller, key, body, work)


@router.get("/partners", response_model=list[PartnerRead])
def get_partners(db: Db, caller: Caller) -> list[PartnerRead]:
    with db.read() as conn:
        caller.check(conn).require_operator()
        return [partner_read(p) for p in list_partners(conn)]


@router.get("/partners/{partner_id}", response_model=PartnerRead)
def get_one_partner(partner_id: str, db: Db, caller: Caller) -> PartnerRead:
    with db.read() as conn:
        caller.check(conn).require_partner(partner_id)
        return partner_read(get_partner(conn, partner_id))


class StockRead(BaseModel):
    metric: str
    bought: int = Field(description="Monthly units bought for the partner's codes.")
    held: int = Field(description="Held by its live codes (issued, claimed or paused).")
    left: int = Field(description="What the next codes may hold.")


class InventoryTopUp(BaseModel):
    model_config = _STRICT
    add: dict[str, Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]] = Field(
        description="Monthly units per resource; negative gives back units no code holds.",
        examples=[{"staff_seats": 100, "card_operations": 500}],
    )
    note: str = Field("", max_length=200)


def stock_read(items: list[Stock]) -> list[StockRead]:
    return [StockRead(metric=s.metric, bought=s.bought, held=s.held, left=s.left) for s in items]


@router.get("/partners/{partner_id}/inventory", response_model=list[StockRead])
def get_inventory(partner_id: str, db: Db, now: Now, caller: Caller) -> list[StockRead]:
    """A3: per resource, what the partner bought, what its codes hold, what is left."""
    with db.read() as conn:
        caller.check(conn).require_partner(partner_id)
        return stock_read(stock(conn, now, partner_id=partner_id))


@router.post("/partners/{partner_id}/inventory", response_model=list[StockRead])
def post_inventory(
    partner_id: str,
    body: InventoryTopUp,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """Top the partner's inventory up (operator); codes past it are refused."""

    def work(conn: Connection, principal: Principal) -> tuple[int, list[StockRead]]:
        principal.require_partner(partner_id)  # another tenant's: the 404 of a missing one
        principal.require_operator()
        done = top_up(conn, now, partner_id=partner_id, quantities=body.add, note=body.note)
        return 200, stock_read(done)

    return idempotent(db, now, caller, key, {"partner": partner_id, **body.model_dump()}, work)


@router.post("/partners/{partner_id}/codes", status_code=201, response_model=CodeRead)
def post_code(
    partner_id: str, body: CodeIssue, db: Db, now: Now, caller: Caller, key: IdempotencyKey = None
) -> object:
    """Issue a code with a package (the partner, or the operator for it)."""

    def work(conn: Connection, principal: Principal) -> tuple[int, CodeRead]:
        principal.require_partner(partner_id)
        code = issue_code(
            conn,
            now,
            partner_id=partner_id,
            allowances=body.allowances,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
        )
        return 201, code_read(code, now.now())

    return idempotent(db, now, caller, key, {"partner": partner_id, **body.model_dump()}, work)


@router.get("/partners/{partner_id}/codes", response_model=list[CodeRead])
def get_codes(partner_id: str, db: Db, now: Now, caller: Caller) -> list[CodeRead]:
    with db.read() as conn:
        caller.check(conn).require_partner(partner_id)
        return [code_read(c, now.now()) for c in list_codes(conn, partner_id)]


@router.get("/partners/{partner_id}/codes/{number}", response_model=CodeRead)
def get_code(partner_id: str, number: PathId, db: Db, now: Now, caller: Caller) -> CodeRead:
    with db.read() as conn:
        caller.check(conn).require_partner(partner_id)
        return code_read(partner_code(conn, partner_id, number), now.now())


def _partner_action(db: Db, now: Now, caller: Caller, partner_id: str, action: object) -> CodeRead:
    with db.transaction() as conn:
        caller.check(conn).require_partner(partner_id)
        code: GrantRow = action(conn)  # type: ignore[operator]
        return code_read(code, now.now())


@router.post("/partners/{partner_id}/codes/{number}/pause", response_model=CodeRead)
def post_pause(partner_id: str, number: PathId, db: Db, now: Now, caller: Caller) -> CodeRead:
    """Pause: the waterfall skips the code from now on (K5)."""
    return _partner_action(
        db,
        now,
        caller,
        partner_id,
        lambda conn: pause_code(conn, now, partner_id=partner_id, number=number, paused=True),
    )


@router.post("/partners/{partner_id}/codes/{number}/resume", response_model=CodeRead)
def post_resume(partner_id: str, number: PathId, db: Db, now: Now, caller: Caller) -> CodeRead:
    return _partner_action(
        db,
        now,
        caller,
        partner_id,
        lambda conn: pause_code(conn, now, partner_id=partner_id, number=number, paused=False),
    )


@router.post("/partners/{partner_id}/codes/{number}/revoke", response_model=CodeRead)
def post_revoke(partner_id: str, number: PathId, db: Db, now: Now, caller: Caller) -> CodeRead:
    """Revoke a code its business never used; otherwise `code_in_use` (409)."""
    return _partner_action(
        db,
        now,
        caller,
        partner_id,
        lambda conn: revoke_code(conn, now, partner_id=partner_id, number=number),
    )


@router.post("/partners/{partner_id}/codes/{number}/assign", response_model=CodeRead)
def post_assign(
    partner_id: str, number: PathId, body: CodeAssign, db: Db, now: Now, caller: Caller
) -> CodeRead:
    """Give an unclaimed code to a business directly."""
    return _partner_action(
        db,
        now,
        caller,
        partner_id,
        lambda conn: assign_code(
            conn, now, partner_id=partner_id, number=number, account_id=body.account_id
        ),
    )


def throttle_claims(request: Request, *keys: str) -> None:
    """Claims are guessing-sensitive (K2): a small allowance per key and per account, which
    the API and the billing page share."""
    limiter: Buckets = request.app.state.claim_limiter
    for key in keys:
        wait = limiter.take(key, now=monotonic())
        if wait > 0:
            raise RateLimited(wait)


@router.post("/accounts/{account_id}/codes/claim", response_model=ClaimedRead)
def post_claim(
    account_id: str, body: CodeClaim, request: Request, db: Db, now: Now, caller: Caller
) -> ClaimedRead:
    """A business activates a code it was given (throttled per key and per account)."""
    with db.transaction() as conn:
        principal = caller.check(conn)
        principal.require_account(account_id)
        throttle_claims(request, f"key:{principal.key_id}", f"account:{account_id}")
        code = claim_code(conn, now, account_id=account_id, code=body.code)
        return ClaimedRead(label=code.label, allowances=dict(code.allowances), ends_at=code.ends_at)


class ResourceMonthRead(BaseModel):
    metric: str
    used: int
    available: int
    unit_price: str
    amount: str = Field(description="Exact, after the wholesale discount; rounded on invoices.")


class CodeMonthRead(BaseModel):
    number: int
    label: str
    account_id: str | None
    billed: bool
    resources: list[ResourceMonthRead]


class PartnerMonthRead(BaseModel):
    partner_id: str
    month: str
    currency: str
    wholesale_discount: str
    codes: list[CodeMonthRead]
    total: str = Field(description="Exact total for the month.")
    total_rounded: str


def month_read(report: PartnerMonth) -> PartnerMonthRead:
    return PartnerMonthRead(
        partner_id=report.partner_id,
        month=report.month,
        currency=report.currency,
        wholesale_discount=str(report.discount),
        codes=[
            CodeMonthRead(
                number=c.number,
                label=c.label,
                account_id=c.account_id,
                billed=c.billed,
                resources=[
                    ResourceMonthRead(
                        metric=r.metric,
                        used=r.used,
                        available=r.available,
                        unit_price=str(r.unit_price),
                        amount=str(r.amount),
                    )
                    for r in c.resources
                ],
            )
            for c in report.codes
        ],
        total=str(report.total.amount),
        total_rounded=str(report.total_rounded.amount),
    )


MonthParam = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])]


@router.get("/partners/{partner_id}/report", response_model=PartnerMonthRead)
def get_report(
    partner_id: str, month: MonthParam, db: Db, now: Now, caller: Caller
) -> PartnerMonthRead:
    """Per code and client: used / available for the month, and the wholesale charges."""
    with db.read() as conn:
        caller.check(conn).require_partner(partner_id)
        return month_read(
            partner_month(
                conn, now, partner_id=partner_id, month=Month.from_input(month), store=False
            )
        )


@router.post("/partners/{partner_id}/charges", response_model=PartnerMonthRead)
def post_charges(
    partner_id: str, month: MonthParam, db: Db, now: Now, caller: Caller
) -> PartnerMonthRead:
    """Compute and store the month's wholesale charges for invoicing (operator)."""
    with db.transaction() as conn:
        principal = caller.check(conn)
        principal.require_partner(partner_id)
        principal.require_operator()
        return month_read(
            partner_month(conn, now, partner_id=partner_id, month=Month.from_input(month))
        )
