"""What every API route needs: the database, the clock, the caller, and idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection

from allot.apikey.service import Principal, authenticate, remember_request, replay_request
from allot.kit.clock import Clock
from allot.kit.db import Database

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
    with database(request).read() as conn:
        return authenticate(conn, None if credentials is None else credentials.credentials)


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
    """Run `work` in one transaction; with a key, store its response there and replay it.

    Two concurrent requests with one key: both may start, but the second one's
    record collides with the first's on commit, its transaction (and effect)
    rolls back, and it answers with the first response.
    """
    request_hash = body_hash(body)

    def attempt() -> tuple[int, Any]:
        with db.transaction() as conn:
            if key is not None:
                found = replay_request(conn, caller, key, request_hash)
                if found is not None:
                    return found
            status, response = work(conn)
            response = jsonable_encoder(response)
            if key is not None:
                remember_request(conn, now, caller, key, request_hash, status, response)
            return status, response

    try:
        status, response = attempt()
    except sa.exc.IntegrityError:
        if key is None:
            raise
        status, response = attempt()  # the first request's record is visible now
    return JSONResponse(jsonable_encoder(response), status_code=status)
