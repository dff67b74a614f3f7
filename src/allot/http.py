"""The one table from domain errors to HTTP, rendered as RFC 9457 problem+json.

Every refusal the rules foresee has a stable `code`; the status comes from the
error's family, so a new error code needs no new mapping:

    InvalidInput, IdempotencyMismatch → 422    NotFound → 404
    Conflict → 409      Refused → 409           Unauthenticated → 401
    Forbidden → 403     TooLarge → 413          RateLimited → 429 (+ Retry-After)

A problem looks like:

    {"type": "https://allot.dev/problems/unknown_time_zone", "title": "Unknown time zone",
     "status": 422, "code": "unknown_time_zone", "detail": "'Mars/Olympus' is not an IANA
     time zone", "errors": [{"field": "timezone", "code": "unknown_time_zone", ...}]}
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allot.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    IdempotencyMismatch,
    InvalidInput,
    NotFound,
    RateLimited,
    Refused,
    TooLarge,
    Unauthenticated,
)
from allot.kit.ratelimit import retry_after_header
from allot.kit.validate import DOMAIN_CODE

PROBLEM = "application/problem+json"


class FieldProblem(BaseModel):
    field: str
    code: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable `code` and the fields at fault."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[FieldProblem] | None = None


def _documented(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


# Declared on every /v1 route, so the OpenAPI document tells clients the truth.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _documented("No valid API key"),
    403: _documented("This key's role may not do this"),
    404: _documented("No such object for this key"),
    409: _documented("Conflicts with the current state"),
    413: _documented("Request body too large"),
    422: _documented("Invalid input; `errors` names the fields"),
    429: _documented("Rate limited; see Retry-After"),
}

# Most specific first: IdempotencyMismatch is a Conflict but answers 422.
STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (IdempotencyMismatch, 422),
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Refused, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (TooLarge, 413),
    (RateLimited, 429),
)


def status_of(error: DomainError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://allot.dev/problems/{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_body(error: DomainError) -> dict[str, Any]:
    """A problem as a JSON object (the batch endpoint embeds one per failed action)."""
    body: dict[str, Any] = {"status": status_of(error), "code": error.code, "detail": error.message}
    if error.field:
        body["errors"] = [{"field": error.field, "code": error.code, "detail": error.message}]
    return body


def domain_problem(error: DomainError) -> JSONResponse:
    errors = (
        [{"field": error.field, "code": error.code, "detail": error.message}]
        if error.field
        else None
    )
    headers = None
    if isinstance(error, Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(error, RateLimited):
        headers = {"Retry-After": retry_after_header(error.retry_after)}
    return problem(status_of(error), error.code, error.message, errors=errors, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    """The input's path as the services name it: `orders[3].placed_at`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in ("body", "query", "path", "header"):
            out += f".{part}" if out else str(part)
    return out or "body"


MAX_BODY = 2 * 1024 * 1024  # a 1,000-action batch is ~150 KB; a catalog well under 1 MB


class _TooLong(Exception):
    pass


class BodyLimit:
    """413 for a body over `limit` bytes, declared or streamed (a plain ASGI middleware:
    Starlette's BaseHTTPMiddleware costs a task and a stream copy per request)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLong
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLong:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413, "request_too_large", f"request bodies are limited to {self.limit} bytes"
        )
        await response(scope, receive, send)


def error_response(exc: Exception) -> JSONResponse | None:
    """The problem for an error a route may raise on purpose or by a race; None for a bug."""
    if isinstance(exc, DomainError):
        return domain_problem(exc)
    if isinstance(exc, sa.exc.IntegrityError):
        # A constraint caught two requests racing for the same thing; the loser retries.
        return problem(409, "concurrent_change", "another request changed this first; retry")
    if isinstance(exc, sa.exc.DataError):
        # A value the database cannot hold (a NUL character in PostgreSQL text): the
        # transaction rolled back, nothing was written; the caller's input is at fault.
        return problem(422, "invalid_value", "a value cannot be stored (e.g. a NUL character)")
    return None


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json, and the size limit."""

    app.add_middleware(BodyLimit, limit=MAX_BODY)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        found = exc.errors()
        errors = [
            {
                "field": _field(tuple(e.get("loc", ()))),
                "code": e.get("type", "invalid"),
                "detail": e.get("msg", "invalid"),
            }
            for e in found
        ]
        first = errors[0] if errors else {"field": "body", "detail": "invalid request"}
        # A domain rule applied to the body (`allot.kit.validate.on_the_wire`) keeps its code.
        by_rule = bool(found) and bool((found[0].get("ctx") or {}).get(DOMAIN_CODE))
        code = str(first["code"]) if by_rule else "invalid_request"
        return problem(422, code, f"{first['field']}: {first['detail']}", errors=errors)

    async def _known(_request: Request, exc: Exception) -> JSONResponse:
        found = error_response(exc)
        assert found is not None  # registered only for the kinds error_response knows
        return found

    for kind in (DomainError, sa.exc.IntegrityError, sa.exc.DataError):
        app.add_exception_handler(kind, _known)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
        code = codes.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, code, str(exc.detail), headers=headers)
