"""Webhook use cases: register endpoints, emit events into the outbox, read the log, redeliver.

`emit` is what other domains call, in their own transaction, right where the
change happens: the event leaves only if that transaction commits (outbox),
and `allot worker` sends it afterwards.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from allot import audit
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.kit import validate
from allot.kit.clock import Clock
from allot.webhook import repository as repo
from allot.webhook.events import EVENT_TYPES
from allot.webhook.guard import check_url
from allot.webhook.repository import AttemptRow, DeliveryRow, EndpointRow

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # generated secrets; Standard Webhooks asks for 24-64 bytes
MAX_PAYLOAD = 64 * 1024


def checked(type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The one check of every event bound for the outbox: a known type, a JSON payload within
    MAX_PAYLOAD. `emit` applies it; so does the invoice statement that writes its event with
    the invoice (`allot.invoice.service.issue`)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}: add it to EVENT_TYPES")
    data = dict(payload)
    if len(json.dumps(data, allow_nan=False)) > MAX_PAYLOAD:  # also refuses what is not JSON
        raise ValueError(f"webhook payload of {type!r} is over {MAX_PAYLOAD} bytes")
    return data


def emit(
    conn: Connection,
    clock: Clock,
    *,
    type: str,  # as on the wire; shadows the builtin here only
    payload: Mapping[str, Any],
    account_id: str | None,
) -> int:
    """Put an event in the outbox, with one pending delivery per subscribed endpoint.

    Runs in the caller's transaction; returns the event id. `payload` becomes the
    body's `data` and must be JSON (datetimes as ISO strings, money as strings).
    """
    data = checked(type, payload)
    now = clock.now()
    event_id = repo.insert_event(conn, event_type=type, account_id=account_id, payload=data, at=now)
    repo.insert_deliveries(conn, event_id=event_id, event_type=type, at=now)
    return event_id


def create_endpoint(
    conn: Connection,
    clock: Clock,
    *,
    url: str,
    event_types: Sequence[str],
    secret: str | None = None,
    description: str = "",
    allow_private: bool | None = None,
) -> EndpointRow:
    """Register an endpoint; without a secret one is generated (the row carries it).

    `allow_private=None` reads ALLOT_WEBHOOKS_ALLOW_PRIVATE.
    """
    types = _event_types(event_types)
    signing = new_secret() if secret is None else check_secret(secret)
    text = _description(description)
    checked = check_url(url, allow_private=allow_private)
    endpoint_id = repo.insert_endpoint(
        conn,
        url=checked.url,
        event_types=types,
        secret=signing,
        description=text,
        at=clock.now(),
    )
    made = get_endpoint(conn, endpoint_id)
    _log(conn, clock, "webhook_endpoint.created", None, made)
    return made


def _log(
    conn: Connection, clock: Clock, change: str, was: EndpointRow | None, now: EndpointRow
) -> None:
    audit.record(
        conn, clock, change=change, subject_kind="webhook_endpoint", subject_id=now.id,
        before=was, after=now, hide=("secret",),
    )  # fmt: skip


def _event_types(event_types: Sequence[str]) -> list[str]:
    if isinstance(event_types, str) or not event_types:
        raise InvalidInput(
            "required", f"name at least one of {', '.join(EVENT_TYPES)}", field="event_types"
        )
    unique: list[str] = []
    for name in event_types:
        if name not in EVENT_TYPES:
            raise InvalidInput(
                "unknown_event_type",
                f"{name!r} is not one of {', '.join(EVENT_TYPES)}",
                field="event_types",
            )
        if name not in unique:
            unique.append(name)
    return unique


def _description(description: str) -> str:
    if description is None or description == "":
        return ""
    if not isinstance(description, str) or not description.isprintable():
        raise InvalidInput(
            "invalid_text", "must be printable text on one line", field="description"
        )
    return validate.text(description, field="description", max_length=200)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_secret(secret: str) -> str:
    """A Standard Webhooks secret: `whsec_` and 24-64 bytes in base64."""
    invalid = InvalidInput(
        "invalid_webhook_secret",
        "must be 'whsec_' followed by 24-64 random bytes in base64",
        field="secret",
    )
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise invalid
    try:
        encoded = secret[len(SECRET_PREFIX) :]
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not 24 <= len(raw) <= 64:
        raise invalid
    return secret


def get_endpoint(conn: Connection, endpoint_id: int, *, lock: bool = False) -> EndpointRow:
    found = repo.get_endpoint(conn, endpoint_id, lock=lock)
    if found is None:
        raise NotFound(
            "webhook_endpoint_not_found", f"no webhook endpoint {endpoint_id}", field="endpoint_id"
        )
    return found


def list_endpoints(conn: Connection, *, include_disabled: bool = False) -> list[EndpointRow]:
    return repo.list_endpoints(conn, include_disabled=include_disabled)


def remove_endpoint(conn: Connection, clock: Clock, *, endpoint_id: int) -> EndpointRow:
    """Stop sending to an endpoint: it is disabled (its log stays) and what was pending fails."""
    found = get_endpoint(conn, endpoint_id, lock=True)
    if not found.disabled:
        repo.disable_endpoint(conn, endpoint_id)
        repo.fail_pending(conn, endpoint_id=endpoint_id, error="endpoint removed")
    gone = get_endpoint(conn, endpoint_id)
    _log(conn, clock, "webhook_endpoint.removed", found, gone)
    return gone


def get_delivery(conn: Connection, delivery_id: int, *, lock: bool = False) -> DeliveryRow:
    found = repo.get_delivery(conn, delivery_id, lock=lock)
    if found is None:
        raise NotFound(
            "webhook_delivery_not_found", f"no webhook delivery {delivery_id}", field="delivery_id"
        )
    return found


def list_deliveries(
    conn: Connection,
    *,
    endpoint_id: int | None = None,
    event_id: int | None = None,
    state: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    if state is not None and state not in repo.STATES:
        raise InvalidInput(
            "invalid_state", f"state must be one of {', '.join(repo.STATES)}", field="state"
        )
    if not 1 <= limit <= 1000:
        raise InvalidInput("invalid_limit", "limit must be 1-1000", field="limit")
    return repo.list_deliveries(
        conn, endpoint_id=endpoint_id, event_id=event_id, state=state, before=before, limit=limit
    )


def delivery_attempts(conn: Connection, delivery_id: int) -> list[AttemptRow]:
    get_delivery(conn, delivery_id)
    return repo.attempts_of(conn, delivery_id)


def redeliver(conn: Connection, clock: Clock, *, delivery_id: int) -> DeliveryRow:
    """Send a delivery again: pending, due now, on a fresh retry schedule (its log stays)."""
    endpoint = get_endpoint(conn, get_delivery(conn, delivery_id).endpoint_id, lock=True)
    found = get_delivery(conn, delivery_id, lock=True)  # a worker's lease skips it meanwhile
    if endpoint.disabled:
        raise Conflict(
            "webhook_endpoint_disabled",
            f"webhook endpoint {endpoint.id} was removed",
            field="delivery_id",
        )
    now = clock.now()
    if found.state == repo.PENDING and found.lease_until is not None and found.lease_until > now:
        raise Conflict(
            "webhook_delivery_in_flight",
            f"webhook delivery {delivery_id} is being sent right now",
            field="delivery_id",
        )
    repo.restart(conn, delivery_id=delivery_id, at=now)
    again = get_delivery(conn, delivery_id)
    audit.record(
        conn, clock, change="webhook_delivery.redelivered", subject_kind="webhook_delivery",
        subject_id=delivery_id, account_id=again.account_id,
        before=_delivery_seen(found), after=_delivery_seen(again),
    )  # fmt: skip
    return again


def _delivery_seen(row: DeliveryRow) -> dict[str, object]:
    return {
        "event_id": row.event_id,
        "event_type": row.event_type,
        "endpoint_id": row.endpoint_id,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_status_code": row.last_status_code,
    }
