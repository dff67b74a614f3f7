"""/v1/webhooks: endpoints, the delivery log and redelivery (operator only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.engine import Connection

from allot.api_context import Caller, Db, IdempotencyKey, Now, idempotent
from allot.apikey.service import Principal
from allot.webhook.repository import AttemptRow, DeliveryRow, EndpointRow
from allot.webhook.schemas import (
    AttemptRead,
    DeliveryDetail,
    DeliveryPage,
    DeliveryRead,
    EndpointCreate,
    EndpointCreated,
    EndpointRead,
)
from allot.webhook.service import (
    create_endpoint,
    delivery_attempts,
    get_delivery,
    list_deliveries,
    list_endpoints,
    redeliver,
    remove_endpoint,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

MAX_ID = 2**63 - 1  # BIGINT
EndpointId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]


def endpoint_read(row: EndpointRow) -> EndpointRead:
    return EndpointRead(
        id=row.id,
        url=row.url,
        event_types=list(row.event_types),
        description=row.description,
        disabled=row.disabled,
        created_at=row.created_at,
    )


def delivery_read(row: DeliveryRow) -> DeliveryRead:
    return DeliveryRead(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        account_id=row.account_id,
        endpoint_id=row.endpoint_id,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


def attempt_read(row: AttemptRow) -> AttemptRead:
    return AttemptRead(
        at=row.at, status_code=row.status_code, error=row.error, duration_ms=row.duration_ms
    )


@router.post("/endpoints", status_code=201, response_model=EndpointCreated)
def post_endpoint(
    body: EndpointCreate, db: Db, now: Now, caller: Caller, key: IdempotencyKey = None
) -> object:
    """Register an endpoint; the response carries its signing secret, shown this once."""

    def work(conn: Connection, principal: Principal) -> tuple[int, EndpointCreated]:
        principal.require_operator()
        row = create_endpoint(
            conn,
            now,
            url=body.url,
            event_types=body.event_types,
            secret=body.secret,
            description=body.description,
        )
        return 201, EndpointCreated(**endpoint_read(row).model_dump(), secret=row.secret)

    return idempotent(db, now, caller, key, body, work)


@router.get("/endpoints", response_model=list[EndpointRead])
def get_endpoints(db: Db, caller: Caller, include_disabled: bool = False) -> list[EndpointRead]:
    """Registered endpoints (secrets are never shown again)."""
    with db.read() as conn:
        caller.check(conn).require_operator()
        return [endpoint_read(r) for r in list_endpoints(conn, include_disabled=include_disabled)]


@router.delete("/endpoints/{endpoint_id}", status_code=204)
def delete_endpoint(endpoint_id: EndpointId, db: Db, now: Now, caller: Caller) -> Response:
    """Stop sending to an endpoint; what it still had pending is marked failed."""
    with db.transaction() as conn:
        caller.check(conn).require_operator()
        remove_endpoint(conn, now, endpoint_id=endpoint_id)
    return Response(status_code=204)


@router.get("/deliveries", response_model=DeliveryPage)
def get_deliveries(
    db: Db,
    caller: Caller,
    endpoint_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    event_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    state: Annotated[str | None, Query(pattern=r"^(pending|delivered|failed)$")] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeliveryPage:
    """The delivery log, newest first."""
    with db.read() as conn:
        caller.check(conn).require_operator()
        rows = list_deliveries(
            conn,
            endpoint_id=endpoint_id,
            event_id=event_id,
            state=state,
            before=before,
            limit=limit,
        )
    return DeliveryPage(
        data=[delivery_read(r) for r in rows],
        next_before=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail)
def get_one_delivery(delivery_id: DeliveryId, db: Db, caller: Caller) -> DeliveryDetail:
    """One delivery with every attempt: when, the HTTP status, the error, how long it took."""
    with db.read() as conn:
        caller.check(conn).require_operator()
        row = get_delivery(conn, delivery_id)
        log = delivery_attempts(conn, delivery_id)
    return DeliveryDetail(**delivery_read(row).model_dump(), log=[attempt_read(a) for a in log])


@router.post("/deliveries/{delivery_id}/redeliver", response_model=DeliveryRead)
def post_redeliver(delivery_id: DeliveryId, db: Db, now: Now, caller: Caller) -> DeliveryRead:
    """Send again: due now, on a fresh retry schedule."""
    with db.transaction() as conn:
        caller.check(conn).require_operator()
        return delivery_read(redeliver(conn, now, delivery_id=delivery_id))
