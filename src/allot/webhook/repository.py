"""Every query of the webhook domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.kit.types import UTCDateTime
from allot.webhook.models import (
    DeliveryState,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)

PENDING, DELIVERED, FAILED = DeliveryState.PENDING, DeliveryState.DELIVERED, DeliveryState.FAILED
STATES = tuple(DeliveryState)


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: int
    url: str
    event_types: tuple[str, ...]
    secret: str
    description: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    event_id: int
    event_type: str
    account_id: str | None
    endpoint_id: int
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    lease_until: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: int
    delivery_id: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a worker leased, with all it needs to send it outside a transaction."""

    delivery_id: int
    attempts: int
    endpoint_id: int
    url: str
    secret: str
    event_id: int
    event_type: str
    payload: dict[str, Any]
    event_created_at: datetime


def _endpoint(row: sa.Row[Any]) -> EndpointRow:
    m = row._mapping
    return EndpointRow(
        id=m["id"],
        url=m["url"],
        event_types=tuple(m["event_types"]),
        secret=m["secret"],
        description=m["description"],
        disabled=bool(m["disabled"]),
        created_at=m["created_at"],
    )


def insert_endpoint(
    conn: Connection,
    *,
    url: str,
    event_types: Sequence[str],
    secret: str,
    description: str,
    at: datetime,
) -> int:
    return int(
        conn.execute(
            sa.insert(webhook_endpoints)
            .values(
                url=url,
                event_types=list(event_types),
                secret=secret,
                description=description,
                disabled=False,
                created_at=at,
            )
            .returning(webhook_endpoints.c.id)
        ).scalar_one()
    )


def get_endpoint(conn: Connection, endpoint_id: int, *, lock: bool = False) -> EndpointRow | None:
    stmt = sa.select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    row = conn.execute(stmt.with_for_update() if lock else stmt).one_or_none()
    return None if row is None else _endpoint(row)


def list_endpoints(conn: Connection, *, include_disabled: bool = False) -> list[EndpointRow]:
    stmt = sa.select(webhook_endpoints).order_by(webhook_endpoints.c.id)
    if not include_disabled:
        stmt = stmt.where(webhook_endpoints.c.disabled.is_(False))
    return [_endpoint(r) for r in conn.execute(stmt)]


def disable_endpoint(conn: Connection, endpoint_id: int) -> None:
    conn.execute(
        sa.update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(disabled=True)
    )


def insert_event(
    conn: Connection,
    *,
    event_type: str,
    account_id: str | None,
    payload: dict[str, Any],
    at: datetime,
) -> int:
    values = {"type": event_type, "account_id": account_id, "payload": payload, "created_at": at}
    return int(conn.execute(_INSERT_EVENT, values).scalar_one())


# Built once: a statement built per call costs SQLAlchemy a new cache key each time.
_INSERT_EVENT = sa.insert(webhook_events).returning(webhook_events.c.id)


def insert_deliveries(conn: Connection, *, event_id: int, event_type: str, at: datetime) -> None:
    """One pending delivery of the event per enabled endpoint subscribed to its type.

    The endpoints are chosen by the INSERT itself, so emitting an event costs no read.
    """
    conn.execute(
        _DELIVERIES[conn.dialect.name],
        {"event_id": event_id, "event_type": event_type, "at": at},
    )


def _subscribed(dialect: str) -> sa.ColumnElement[bool]:
    """The endpoint's `event_types` (a JSON list) names `:event_type`."""
    elements = sa.func.json_each if dialect == "sqlite" else sa.func.json_array_elements_text
    names = elements(webhook_endpoints.c.event_types).table_valued("value")
    return sa.exists().where(names.c.value == sa.bindparam("event_type", type_=sa.String))


def _deliveries_of(
    event_id: sa.ColumnElement[int], dialect: str, events: sa.FromClause | None = None
) -> sa.Insert:
    """INSERT … SELECT: a pending delivery of each event (of `events`) per subscriber."""
    at = sa.bindparam("at", type_=UTCDateTime)
    endpoints: sa.FromClause = webhook_endpoints
    if events is not None:
        endpoints = sa.join(events, webhook_endpoints, sa.true())
    return sa.insert(webhook_deliveries).from_select(
        ["event_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at"],
        sa.select(event_id, webhook_endpoints.c.id, sa.literal(PENDING), sa.literal(0), at, at)
        .select_from(endpoints)
        .where(webhook_endpoints.c.disabled.is_(False), _subscribed(dialect)),
    )


# Built once per dialect: SQLAlchemy then finds the compiled form by its cache key.
_DELIVERIES = {
    dialect: _deliveries_of(sa.bindparam("event_id", type_=sa.BigInteger), dialect)
    for dialect in ("sqlite", "postgresql")
}


def outbox_ctes(events: sa.Select[Any], *, name: str) -> tuple[sa.CTE, sa.CTE]:
    """The outbox writes of a statement that also writes what the events report (PostgreSQL).

    `events` selects (type, account_id, payload, created_at) rows; the first CTE
    inserts them, the second a pending delivery of each per subscribed endpoint
    (as `insert_deliveries`: its statement needs `:event_type` and `:at` bound).
    Attach both with `add_cte`: PostgreSQL runs a data-modifying CTE whether or
    not the statement reads it.
    """
    inserted = (
        sa.insert(webhook_events)
        .from_select(["type", "account_id", "payload", "created_at"], events)
        .returning(webhook_events.c.id)
        .cte(f"{name}_events")
    )
    deliveries = _deliveries_of(inserted.c.id, "postgresql", inserted).cte(f"{name}_deliveries")
    return inserted, deliveries


_DELIVERY = sa.select(
    webhook_deliveries.c.id,
    webhook_deliveries.c.event_id,
    webhook_events.c.type.label("event_type"),
    webhook_events.c.account_id,
    webhook_deliveries.c.endpoint_id,
    webhook_deliveries.c.state,
    webhook_deliveries.c.attempts,
    webhook_deliveries.c.next_attempt_at,
    webhook_deliveries.c.last_status_code,
    webhook_deliveries.c.last_error,
    webhook_deliveries.c.delivered_at,
    webhook_deliveries.c.lease_until,
    webhook_deliveries.c.created_at,
).join_from(webhook_deliveries, webhook_events)


def get_delivery(conn: Connection, delivery_id: int, *, lock: bool = False) -> DeliveryRow | None:
    stmt = _DELIVERY.where(webhook_deliveries.c.id == delivery_id)
    if lock:
        stmt = stmt.with_for_update(of=webhook_deliveries)
    row = conn.execute(stmt).one_or_none()
    return None if row is None else DeliveryRow(**row._mapping)


def list_deliveries(
    conn: Connection,
    *,
    endpoint_id: int | None = None,
    event_id: int | None = None,
    state: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """Newest first; page with `before` (the last id of the previous page)."""
    stmt = _DELIVERY.order_by(webhook_deliveries.c.id.desc()).limit(limit)
    if endpoint_id is not None:
        stmt = stmt.where(webhook_deliveries.c.endpoint_id == endpoint_id)
    if event_id is not None:
        stmt = stmt.where(webhook_deliveries.c.event_id == event_id)
    if state is not None:
        stmt = stmt.where(webhook_deliveries.c.state == state)
    if before is not None:
        stmt = stmt.where(webhook_deliveries.c.id < before)
    return [DeliveryRow(**r._mapping) for r in conn.execute(stmt)]


def attempts_of(conn: Connection, delivery_id: int) -> list[AttemptRow]:
    stmt = (
        sa.select(webhook_attempts)
        .where(webhook_attempts.c.delivery_id == delivery_id)
        .order_by(webhook_attempts.c.id)
    )
    return [AttemptRow(**r._mapping) for r in conn.execute(stmt)]


def _due(now: datetime) -> sa.ColumnElement[bool]:
    d = webhook_deliveries.c
    return sa.and_(
        d.state == PENDING,
        d.next_attempt_at <= now,
        sa.or_(d.lease_until.is_(None), d.lease_until <= now),
    )


def lease_due(conn: Connection, *, now: datetime, until: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due deliveries, oldest first.

    PostgreSQL: rows another worker is leasing right now are skipped, not waited
    for (SKIP LOCKED), so workers share the queue. SQLite: the IMMEDIATE
    transaction holds the database's write lock, so leasing is serialized.
    """
    d = webhook_deliveries.c
    stmt = (
        sa.select(d.id)
        .where(_due(now))
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [int(i) for i in conn.execute(stmt).scalars()]
    if ids:
        conn.execute(sa.update(webhook_deliveries).where(d.id.in_(ids)).values(lease_until=until))
    return ids


def claims(conn: Connection, delivery_ids: Sequence[int]) -> list[Claim]:
    d, e, ep = webhook_deliveries.c, webhook_events.c, webhook_endpoints.c
    stmt = (
        sa.select(
            d.id.label("delivery_id"),
            d.attempts,
            d.endpoint_id,
            ep.url,
            ep.secret,
            d.event_id,
            e.type.label("event_type"),
            e.payload,
            e.created_at.label("event_created_at"),
        )
        .join_from(webhook_deliveries, webhook_events)
        .join(webhook_endpoints, ep.id == d.endpoint_id)
        .where(d.id.in_(delivery_ids))
        .order_by(d.next_attempt_at, d.id)
    )
    return [Claim(**r._mapping) for r in conn.execute(stmt)]


def insert_attempt(
    conn: Connection,
    *,
    delivery_id: int,
    at: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    conn.execute(
        sa.insert(webhook_attempts).values(
            delivery_id=delivery_id,
            at=at,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
    )


def settle(conn: Connection, *, delivery_id: int, attempts_before: int, **values: Any) -> bool:
    """Record an attempt's outcome, unless someone else settled this delivery meanwhile.

    The `attempts` guard makes the update conditional: a worker whose lease ran
    out (and whose delivery another worker took over and settled) changes nothing.
    """
    d = webhook_deliveries.c
    result = conn.execute(
        sa.update(webhook_deliveries)
        .where(d.id == delivery_id, d.state == PENDING, d.attempts == attempts_before)
        .values(lease_until=None, **values)
    )
    return result.rowcount == 1


def fail_pending(conn: Connection, *, endpoint_id: int, error: str) -> None:
    d = webhook_deliveries.c
    conn.execute(
        sa.update(webhook_deliveries)
        .where(d.endpoint_id == endpoint_id, d.state == PENDING)
        .values(state=FAILED, next_attempt_at=None, lease_until=None, last_error=error)
    )


def restart(conn: Connection, *, delivery_id: int, at: datetime) -> None:
    conn.execute(
        sa.update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(
            state=PENDING,
            attempts=0,
            next_attempt_at=at,
            lease_until=None,
            delivered_at=None,
        )
    )
