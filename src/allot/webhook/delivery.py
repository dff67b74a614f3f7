"""Sending webhooks: lease what is due, POST it signed, record the attempt, back off.

One round (`deliver_due`) is three steps, and no transaction is open while
the HTTP request is on the wire:

1. one transaction leases up to `limit` due deliveries (`lease_until`), so no
   other worker takes them;
2. each one is checked against the SSRF guard again, signed per Standard
   Webhooks and POSTed (10 s timeouts, redirects are not followed);
3. one transaction per delivery records the attempt: 2xx → delivered;
   otherwise the next try is scheduled by `allot.kit.backoff`, and after the last one
   the delivery is failed.

A worker that dies mid-round loses nothing: its leases run out and another
worker sends those deliveries again (at least once; receivers deduplicate on
`webhook-id`, which every attempt of an event shares).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Connection
from standardwebhooks import Webhook

from allot import __version__
from allot.core.errors import DomainError
from allot.kit.backoff import next_try
from allot.kit.clock import Clock, monotonic
from allot.kit.db import Database
from allot.kit.rounds import DEFAULT_BATCH
from allot.webhook import repository as repo
from allot.webhook.guard import allow_private_from_env, check_url, pinned
from allot.webhook.repository import Claim

REQUEST_TIMEOUT = 10.0  # seconds, per connect / write / read
LEASE = timedelta(minutes=5)  # a round of `limit` requests must finish well within it
MAX_ERROR = 500  # characters of an error or a refusal's body kept in the log
USER_AGENT = f"allot-webhooks/{__version__}"


def new_http_client() -> httpx.Client:
    """The client the worker sends with; ignores proxy settings, which would bypass the guard."""
    return httpx.Client(
        timeout=REQUEST_TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def message_id(event_id: int) -> str:
    """`webhook-id`: the same for every attempt and every endpoint of one event."""
    return f"msg_{event_id}"


def body_of(claim: Claim) -> str:
    """The Standard Webhooks body; built from the stored event, so it is the same on every try."""
    stamp = claim.event_created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"type": claim.event_type, "timestamp": stamp, "data": claim.payload},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def signed_headers(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    at = at.astimezone(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(math.floor(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def send(http: httpx.Client, claim: Claim, *, signed_at: datetime, allow_private: bool) -> Outcome:
    """One attempt. Never raises: every failure is an outcome to log and retry."""
    started = monotonic()

    def took() -> int:
        return round((monotonic() - started) * 1000)

    try:
        target = pinned(check_url(claim.url, allow_private=allow_private))
    except DomainError as exc:
        return Outcome(None, _clip(str(exc)), took())
    body = body_of(claim)
    headers = signed_headers(claim.secret, message_id(claim.event_id), signed_at, body)
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
    try:
        with http.stream(
            "POST",
            target.url,
            content=body.encode(),
            headers={**headers, **target.headers},
            extensions=extensions,
        ) as response:
            code = response.status_code
            detail = None if 200 <= code < 300 else _refusal(code, _read_some(response))
    except Exception as exc:  # a receiver's failure of any kind is logged, never fatal
        return Outcome(None, _clip(f"{type(exc).__name__}: {exc}"), took())
    return Outcome(code, detail, took())


def _refusal(code: int, body: str) -> str:
    return _clip(f"HTTP {code}: {body}" if body else f"HTTP {code}")


def _read_some(response: httpx.Response, limit: int = MAX_ERROR) -> str:
    got = b""
    for chunk in response.iter_bytes():
        got += chunk
        if len(got) >= limit:
            break
    return got[:limit].decode("utf-8", "replace").strip()


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def record(conn: Connection, clock: Clock, claim: Claim, outcome: Outcome) -> str:
    """Log the attempt and move the delivery on; returns its new state."""
    now = clock.now()
    repo.insert_attempt(
        conn,
        delivery_id=claim.delivery_id,
        at=now,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
    )
    attempt = claim.attempts + 1
    values: dict[str, Any]
    if outcome.ok:
        values = {"state": repo.DELIVERED, "delivered_at": now, "next_attempt_at": None}
    elif (again := next_try(attempt, now)) is None:
        values = {"state": repo.FAILED, "next_attempt_at": None}
    else:
        values = {"state": repo.PENDING, "next_attempt_at": again}
    repo.settle(
        conn,
        delivery_id=claim.delivery_id,
        attempts_before=claim.attempts,
        attempts=attempt,
        last_status_code=outcome.status_code,
        last_error=outcome.error,
        **values,
    )
    return str(values["state"])


def lease(db: Database, clock: Clock, *, limit: int) -> list[Claim]:
    with db.transaction() as conn:
        now = clock.now()
        ids = repo.lease_due(conn, now=now, until=now + LEASE, limit=limit)
        return repo.claims(conn, ids) if ids else []


def deliver_due(
    db: Database,
    clock: Clock,
    *,
    http: httpx.Client,
    limit: int = DEFAULT_BATCH,
    allow_private: bool | None = None,
    signing_clock: Clock | None = None,
) -> int:
    """One round: send up to `limit` due deliveries; returns how many were attempted.

    `clock` schedules (due times, backoff, the log). `signing_clock` stamps
    `webhook-timestamp`, which receivers compare with their own wall clock
    (5 minutes' tolerance): the same clock in production, the real one in tests
    that move `clock` by hand. `allow_private=None` reads ALLOT_WEBHOOKS_ALLOW_PRIVATE.
    """
    allow = allow_private_from_env() if allow_private is None else allow_private
    stamp = signing_clock or clock
    claimed = lease(db, clock, limit=limit)
    for claim in claimed:
        outcome = send(http, claim, signed_at=stamp.now(), allow_private=allow)
        with db.transaction() as conn:
            record(conn, clock, claim, outcome)
    return len(claimed)
