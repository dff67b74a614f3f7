"""/v1/accounts/{id}/orders, …/reviews, …/review-requests, …/top-up (R1-R5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.engine import Connection

from allot.api_context import Caller, Db, Now, Tolerance
from allot.kit.clock import Clock
from allot.reviews.schemas import (
    AckRead,
    AckWrite,
    IngestRead,
    OrdersWrite,
    RequestPage,
    RequestRead,
    ReviewsRead,
    TopUpWrite,
)
from allot.reviews.service import (
    OrderIn,
    ReviewStatus,
    acknowledge,
    ingest_orders,
    list_requests,
    review_status,
    set_top_up_limit,
)

router = APIRouter(prefix="/accounts", tags=["reviews"])


def reviews_read(s: ReviewStatus) -> ReviewsRead:
    return ReviewsRead(
        month=s.month.key,
        plan=s.plan,
        order_limit=s.limit,
        orders=s.orders,
        within=s.within,
        topped_up=s.topped_up,
        top_up_spent=str(s.top_up_amount),
        top_up=s.top_up,
        top_up_cap=None if s.top_up_cap is None else str(s.top_up_cap),
        top_up_orders=s.top_up_orders,
        requests=s.states,
    )


@router.post("/{account_id}/orders", response_model=IngestRead)
def post_orders(
    account_id: str, body: OrdersWrite, db: Db, now: Now, caller: Caller, tolerance: Tolerance
) -> IngestRead:
    """Report up to 10,000 orders (R1, U5); an order already reported changes nothing."""
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        result = ingest_orders(
            conn,
            now,
            account_id=account_id,
            orders=[OrderIn(o.id, o.placed_at, o.excluded) for o in body.orders],
            future_tolerance=tolerance,
        )
    return IngestRead(
        received=result.received,
        new=result.new,
        duplicates=result.duplicates,
        outcomes=result.outcomes,
        released=result.released,
    )


def _status(conn: Connection, now: Clock, account_id: str) -> ReviewsRead:
    return reviews_read(review_status(conn, now, account_id=account_id))


@router.get("/{account_id}/reviews", response_model=ReviewsRead)
def get_reviews(account_id: str, db: Db, now: Now, caller: Caller) -> ReviewsRead:
    """This month's orders against the limit, the top-up, and the requests by state."""
    with db.transaction() as conn:  # the first call of a month releases the backlog (R4)
        caller.check(conn).require_account(account_id)
        return _status(conn, now, account_id)


@router.put("/{account_id}/top-up", response_model=ReviewsRead)
def put_top_up(account_id: str, body: TopUpWrite, db: Db, now: Now, caller: Caller) -> ReviewsRead:
    """Set the top-up limit (R2): refused on a free plan; raising it releases the backlog."""
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        set_top_up_limit(conn, now, account_id=account_id, mode=body.mode, cap=body.cap)
        return _status(conn, now, account_id)


@router.get("/{account_id}/review-requests", response_model=RequestPage)
def get_requests(
    account_id: str,
    db: Db,
    now: Now,
    caller: Caller,
    state: Annotated[str, Query(max_length=16)] = "to_send",
    after: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> RequestPage:
    """R5: requests to send, waiting, archived or sent, oldest placed first."""
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        rows = list_requests(
            conn, now, account_id=account_id, state=state, after=after, limit=limit
        )
    return RequestPage(
        data=[
            RequestRead(
                order_id=r.order_id,
                placed_at=r.placed_at,
                month=r.month,
                place=r.place,
                state=r.state or "",
                paid_by=r.paid_by,
                released_month=r.released_month,
                released_at=r.released_at,
                sent_at=r.sent_at,
            )
            for r in rows
        ],
        next_after=rows[-1].order_id if len(rows) == limit else None,
    )


@router.post("/{account_id}/review-requests/ack", response_model=AckRead)
def post_ack(account_id: str, body: AckWrite, db: Db, now: Now, caller: Caller) -> AckRead:
    """The platform confirms it sent these requests (R5)."""
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        done, others = acknowledge(conn, now, account_id=account_id, order_ids=body.order_ids)
    return AckRead(acknowledged=done, not_acknowledged=others)
