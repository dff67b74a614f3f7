"""The hot routes: served straight from ASGI, around the same work as their FastAPI routes.

`POST /v1/accounts/{id}/consume` runs once per billable action. On it,
FastAPI's per-request machinery — matching the path against every route,
solving each dependency, its own middlewares — costs more CPU than the consume
itself (a few hundred µs against a few hundred), and a caller pays it on every
action. A hot route is still declared once as a FastAPI route: that gives the
OpenAPI document, and it answers every request that is not the common one.
`HotRoutes` serves only the common one — the route's method and path, a JSON
body (`Content-Type: application/json`) that parses and that the route's
model accepts, headers within their declared lengths — by calling the same
work function on the same thread pool, and rendering its errors with the
same table (`allot.http.error_response`). Anything else goes on to FastAPI
with the body replayed, so every validation error a client can see comes
from one place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from re import Pattern
from typing import Any

from fastapi.responses import Response
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allot.http import error_response


@dataclass(frozen=True, slots=True)
class HotRequest:
    """What a hot route's work gets: the app's state, the path's values, the checked body."""

    state: State
    path: Mapping[str, str]
    body: Any
    secret: str | None  # the bearer credentials, as FastAPI's HTTPBearer reads them
    headers: Mapping[str, str]  # the declared headers that were sent


@dataclass(frozen=True, slots=True)
class HotRoute:
    """`work` runs in the thread pool and returns the JSON answer's bytes (status 200)."""

    method: str
    path: str  # a Starlette path template, as on the FastAPI route
    body: type[BaseModel]
    work: Callable[[HotRequest], bytes]
    headers: Mapping[str, int] = field(default_factory=dict)  # lower-case name → max length
    regex: Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_path(self.path)[0])


class HotRoutes:
    """ASGI middleware: serves `routes` when a request is the common case, else passes it on."""

    def __init__(self, app: ASGIApp, *, routes: tuple[HotRoute, ...]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                if scope["method"] == route.method and (found := route.regex.match(scope["path"])):
                    await self._serve(route, found.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(
        self, route: HotRoute, path: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: FastAPI handles that
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break
        request = _common(route, path, scope, b"".join(m.get("body", b"") for m in chunks))
        if request is None:
            await self.app(scope, _replay(chunks, None, receive), send)
            return
        try:
            response: Response = Response(
                await run_in_threadpool(route.work, request), media_type="application/json"
            )
        except Exception as exc:
            known = error_response(exc)
            if known is None:
                raise
            response = known
        await response(scope, receive, send)


def _common(route: HotRoute, path: dict[str, str], scope: Scope, body: bytes) -> HotRequest | None:
    """The request as the route's work takes it, or None where FastAPI should answer."""
    headers: dict[str, str] = {}
    authorization = content_type = None
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1")
        if name in headers or (name == "authorization" and authorization is not None):
            continue  # like Starlette, the first of repeated headers counts
        value = raw_value.decode("latin-1")
        if name == "authorization":
            authorization = value
        elif name == "content-type":
            content_type = content_type or value
        elif name in route.headers:
            if len(value) > route.headers[name]:
                return None
            headers[name] = value
    if content_type is None or content_type.split(";")[0].strip().lower() != "application/json":
        return None
    try:
        checked = route.body.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError included
        return None
    scheme, credentials = get_authorization_scheme_param(authorization)
    secret = credentials if authorization and credentials and scheme.lower() == "bearer" else None
    return HotRequest(scope["app"].state, path, checked, secret, headers)


def _replay(chunks: list[Message], last: Message | None, receive: Receive) -> Receive:
    """A receive that gives back what was already read, then reads on."""
    pending = [*chunks, *([last] if last is not None else [])]

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
