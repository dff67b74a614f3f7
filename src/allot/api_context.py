"""What every API route needs: the database, the clock, the caller, and idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection

from allot.apikey.service import Principal, authenticate, claim_request, complete_request
from allot.core.errors import RateLimited
from allot.kit.clock import Clock, monotonic
from allot.kit.db import Database
from allot.kit.ratelimit import Buckets

bearer = HTTPBearer(auto_error=False, description="An allot API key: `Bearer allot_…`")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def clock(request: Request) -> Clock:
    found: Clock = request.app.state.clock
    return found


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, authenticated and within its key's rate limit (429 with Retry-After)."""
    with database(request).read() as conn:
        caller = authenticate(conn, None if credentials is None else credentials.credentials)
    limiter: Buckets = request.app.state.limiter
    wait = limiter.take(str(caller.key_id), now=monotonic())
    if wait > 0:
        raise RateLimited(wait)
    return caller


Db = Annotated[Database, Depends(database)]
Now = Annotated[Clock, Depends(clock)]
Caller = Annotated[Principal, Depends(principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retries with the same key and body get the first response (kept 24 h+).",
    ),
]


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(jsonable_encoder(body), sort_keys=True).encode()).hexdigest()


def idempotent(
    db: Database,
    now: Clock,
    caller: Principal,
    key: str | None,
    body: Any,
    work: Callable[[Connection], tuple[int, Any]],
) -> JSONResponse:
    """Run `work` in one transaction; with a key, keep its response there and replay it.

    The key is claimed first, so a concurrent request with the same key waits
    for the first to finish and then answers with its response: one effect.
    A refusal rolls the claim back with everything else, so a retry may succeed.
    """
    with db.transaction() as conn:
        if key is not None:
            earlier = claim_request(conn, now, caller, key, body_hash(body))
            if earlier is not None:
                status, response = earlier
                return JSONResponse(response, status_code=status)
        status, response = work(conn)
        response = jsonable_encoder(response)
        if key is not None:
            complete_request(conn, caller, key, status, response)
    return JSONResponse(response, status_code=status)
