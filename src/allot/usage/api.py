"""/v1/accounts/{id}/consume, seats, usage and ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from allot.api_context import (
    IDEMPOTENCY_KEY_MAX,
    Caller,
    Credentials,
    Db,
    IdempotencyKey,
    Now,
    Tolerance,
    context,
)
from allot.core.allocation import SourceKind
from allot.core.errors import DomainError, InvalidInput
from allot.core.periods import Month
from allot.hot import HotRequest, HotRoute
from allot.http import problem_body
from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.usage import ledger
from allot.usage.actions import UsageResult
from allot.usage.schemas import (
    BatchProblem,
    BatchRequest,
    BatchResponse,
    BatchResult,
    ConsumeRequest,
    Decision,
    EntryPage,
    EntryRead,
    SeatRequest,
    UsageRead,
    decision,
    usage_read,
)
from allot.usage.seats import release_seat, take_seat
from allot.usage.service import consume
from allot.usage.summary import usage_summary

router = APIRouter(prefix="/accounts/{account_id}", tags=["usage"])


def _require_key(key: str | None) -> str:
    if key is None:
        raise InvalidInput(
            "idempotency_key_required",
            "send an Idempotency-Key header: a retry must never count twice",
            field="Idempotency-Key",
        )
    return key


def _consume(
    db: Database,
    now: Clock,
    caller: Credentials,
    tolerance: timedelta,
    account_id: str,
    body: ConsumeRequest,
    key: str | None,
) -> bytes:
    """The consume route's work: one transaction, the key checked inside it; the JSON answer.

    pydantic writes the JSON itself (no dict, no `json.dumps`): the same bytes
    FastAPI's JSONResponse would send, for a third of the CPU.
    """
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        result = _record(conn, now, tolerance, account_id, body, _require_key(key))
    return decision(result).model_dump_json().encode()


def _record(
    conn: Connection,
    now: Clock,
    tolerance: timedelta,
    account_id: str,
    action: ConsumeRequest,
    key: str,
) -> UsageResult:
    return consume(
        conn,
        now,
        account_id=account_id,
        metric=action.metric,
        quantity=action.quantity,
        idempotency_key=key,
        occurred_at=action.occurred_at,
        future_tolerance=tolerance,
    )


@router.post("/consume", response_model=Decision)
async def post_consume(
    account_id: str,
    body: ConsumeRequest,
    db: Db,
    now: Now,
    caller: Caller,
    tolerance: Tolerance,
    key: IdempotencyKey = None,
) -> Response:
    """May this action happen, and who pays for it? Records it if allowed (U1-U5).

    A refusal (policy *block*) is an answer, not an error: `allowed: false` with its reason.
    """
    # One hop to the thread pool, and the answer serialized once (FastAPI would
    # validate a returned model again, in a second hop). The common request
    # does not come here at all: `HOT` below serves it (`allot.hot`).
    work = partial(_consume, db, now, caller, tolerance, account_id, body, key)
    return Response(await run_in_threadpool(work), media_type="application/json")


def _hot_consume(request: HotRequest) -> bytes:
    ctx = context(request.state, request.secret)
    return _consume(
        ctx.db,
        ctx.clock,
        ctx.caller,
        ctx.tolerance,
        request.path["account_id"],
        request.body,
        request.headers.get("idempotency-key"),
    )


HOT = (
    HotRoute(
        "POST",
        "/v1/accounts/{account_id}/consume",
        ConsumeRequest,
        _hot_consume,
        headers={"idempotency-key": IDEMPOTENCY_KEY_MAX},
    ),
)


@router.post("/consume/batch", response_model=BatchResponse)
def post_batch(
    account_id: str, body: BatchRequest, db: Db, now: Now, caller: Caller, tolerance: Tolerance
) -> BatchResponse:
    """Up to 1,000 actions, each with its own idempotency key; one result per action.

    Each action is its own transaction: a bad action fails alone.
    """
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
    results = []
    for action in body.actions:
        try:
            with db.transaction() as conn:
                result = _record(conn, now, tolerance, account_id, action, action.idempotency_key)
            results.append(
                BatchResult(idempotency_key=action.idempotency_key, decision=decision(result))
            )
        except DomainError as exc:
            results.append(
                BatchResult(
                    idempotency_key=action.idempotency_key,
                    problem=BatchProblem(**problem_body(exc)),
                )
            )
    return BatchResponse(results=results)


def _seat(
    db: Db,
    now: Now,
    caller: Caller,
    account_id: str,
    body: SeatRequest,
    key: str | None,
    action: Callable[..., UsageResult],
) -> Decision:
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        return decision(
            action(
                conn,
                now,
                account_id=account_id,
                metric=body.metric,
                holder=body.holder,
                idempotency_key=_require_key(key),
            )
        )


@router.post("/seats/take", response_model=Decision)
def post_take(
    account_id: str, body: SeatRequest, db: Db, now: Now, caller: Caller, key: IdempotencyKey = None
) -> Decision:
    """Give a staff login a seat: codes, then the plan, then an extra seat (U6)."""
    return _seat(db, now, caller, account_id, body, key, take_seat)


@router.post("/seats/release", response_model=Decision)
def post_release(
    account_id: str, body: SeatRequest, db: Db, now: Now, caller: Caller, key: IdempotencyKey = None
) -> Decision:
    """Free a staff login's seat at once."""
    return _seat(db, now, caller, account_id, body, key, release_seat)


@router.get("/usage", response_model=UsageRead)
def get_usage(
    account_id: str,
    db: Db,
    now: Now,
    caller: Caller,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> UsageRead:
    """The billing page's numbers for a calendar month (default: this one)."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        return usage_read(
            usage_summary(
                conn,
                now,
                account_id=account_id,
                month=None if month is None else Month.from_input(month),
            )
        )


@router.get("/ledger", response_model=EntryPage)
def get_ledger(
    account_id: str,
    db: Db,
    caller: Caller,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntryPage:
    """Ledger entries in sequence order, filtered by month, metric or paying source."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        rows = ledger.entries(
            conn,
            account_id=account_id,
            month=month,
            metric=metric,
            source=source,
            after=after,
            limit=limit,
        )
    data = [
        EntryRead(
            seq=r.seq,
            event_id=r.event_id,
            metric=r.metric,
            period=r.period,
            source=r.source,
            source_kind=SourceKind(r.source_kind),
            quantity=r.quantity,
            occurred_at=r.occurred_at,
        )
        for r in rows
    ]
    return EntryPage(data=data, next_after=data[-1].seq if len(data) == limit else None)
