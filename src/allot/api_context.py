"""What every API route needs: the database, the clock, the caller, and idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection
from starlette.datastructures import State

from allot.apikey.service import Principal, authenticate, claim_request, complete_request
from allot.core.errors import RateLimited
from allot.kit.acting import Actor, ActorKind, identify
from allot.kit.clock import Clock, monotonic
from allot.kit.db import Database
from allot.kit.ratelimit import Buckets

bearer = HTTPBearer(auto_error=False, description="An allot API key: `Bearer allot_…`")


# The dependencies below do no I/O, so they are `async`: FastAPI then runs
# only the route itself in its thread pool — one hop per request. The key is
# checked inside the route's own transaction (`caller.check(conn)`), so a
# request costs one database transaction, not two.


async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def clock(request: Request) -> Clock:
    found: Clock = request.app.state.clock
    return found


@dataclass(frozen=True, slots=True)
class Credentials:
    """The presented API key, checked against the database when the route opens its transaction."""

    secret: str | None
    limiter: Buckets

    def check(self, conn: Connection) -> Principal:
        """Who is calling (401 if nobody), within its key's rate limit (429 + Retry-After)."""
        caller = authenticate(conn, self.secret)
        identify(conn, Actor(ActorKind.API_KEY, str(caller.key_id), caller.role, caller.subject))
        wait = self.limiter.take(str(caller.key_id), now=monotonic())
        if wait > 0:
            raise RateLimited(wait)
        return caller


async def credentials(
    request: Request,
    presented: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Credentials:
    return Credentials(
        None if presented is None else presented.credentials, request.app.state.limiter
    )


async def future_tolerance(request: Request) -> timedelta:
    """How far ahead of the clock an action may be dated (U8; ALLOT_FUTURE_TOLERANCE)."""
    found: timedelta = request.app.state.future_tolerance
    return found


@dataclass(frozen=True, slots=True)
class Context:
    """The same four things, for a route served without FastAPI (`allot.hot`)."""

    db: Database
    clock: Clock
    caller: Credentials
    tolerance: timedelta


def context(state: State, secret: str | None) -> Context:
    return Context(
        state.db, state.clock, Credentials(secret, state.limiter), state.future_tolerance
    )


Db = Annotated[Database, Depends(database)]
Now = Annotated[Clock, Depends(clock)]
Tolerance = Annotated[timedelta, Depends(future_tolerance)]
Caller = Annotated[Credentials, Depends(credentials)]
# Ids in paths: bounded, so an absurd number is a 422, not a database overflow.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
IDEMPOTENCY_KEY_MAX = 255
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=IDEMPOTENCY_KEY_MAX,
        description="Retries with the same key and body get the first response (kept 24 h+).",
    ),
]


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(jsonable_encoder(body), sort_keys=True).encode()).hexdigest()


def idempotent(
    db: Database,
    now: Clock,
    caller: Credentials,
    key: str | None,
    body: Any,
    work: Callable[[Connection, Principal], tuple[int, Any]],
) -> JSONResponse:
    """Check the key, then run `work` in one transaction; with an Idempotency-Key, keep
    its response there and replay it.

    The key is claimed first, so a concurrent request with the same key waits
    for the first to finish and then answers with its response: one effect.
    A refusal rolls the claim back with everything else, so a retry may succeed.
    """
    with db.transaction() as conn:
        principal = caller.check(conn)
        if key is not None:
            earlier = claim_request(conn, now, principal, key, body_hash(body))
            if earlier is not None:
                status, response = earlier
                return JSONResponse(response, status_code=status)
        status, response = work(conn, principal)
        response = jsonable_encoder(response)
        if key is not None:
            complete_request(conn, principal, key, status, response)
    return JSONResponse(response, status_code=status)
