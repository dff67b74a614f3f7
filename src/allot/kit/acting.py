"""Who is acting in a transaction: an API key, a user, a business's page, the CLI, the system.

The audit log (S1) labels every change with its actor. The entry point knows who acts
and owns the transaction, so it names the actor on the transaction's connection
(`act_as`); a use case that records a change reads it there (`actor`). Passing it as an
argument would thread a parameter that no rule reads through every use case.

`Database.transaction()` names, at every begin, the actor of the request it runs in (if
one was identified) or else the database's own default (the CLI's user, the system): so
an actor never carries over to the next transaction on a pooled connection, and a use
case that opens transactions of its own (a card saved around a provider's call) still
records who asked. The request's actor is kept for the request alone: the ASGI app
opens a scope per request (`ActorScope`), and an API key's or a page session's check
fills it (`identify`). Outside a request — the CLI, the worker, a test calling a use
case — there is no scope, and `identify` names the actor of its own transaction only.
Nothing here decides anything: it only labels.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_KEY = "allot.actor"


class ActorKind(StrEnum):
    API_KEY = "api_key"  # id: the key's id; role and `acting_for` its own
    USER = "user"  # a signed-in operator or partner user; id: the user name
    PORTAL = "portal"  # a business on its billing page; id: the account
    CLI = "cli"  # the operator at the command line; id: the system user
    SYSTEM = "system"  # the worker, the invoice run, a provider's webhook


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str
    role: str  # operator, operator-admin, operator-support, partner, account, system
    acting_for: str | None = None  # the partner or account a key or user acts for


SYSTEM = Actor(ActorKind.SYSTEM, "allot", "system")


# The request's scope: a one-slot holder that `ActorScope` installs for one request. A
# holder, not the actor itself, since a sync route runs in a copy of the request's context
# (the thread pool's): what it puts in the shared holder is seen by the whole request.
_request: ContextVar[list[Actor] | None] = ContextVar("allot_request_actor", default=None)


def act_as(conn: Connection, actor: Actor) -> None:
    """Name who makes this transaction's changes (until the transaction ends)."""
    conn.info[_KEY] = actor


def identify(conn: Connection, actor: Actor) -> None:
    """The request's caller is known (a key, a session): it makes this transaction's
    changes and, within a request, those of every transaction the request opens after it."""
    act_as(conn, actor)
    holder = _request.get()
    if holder is not None:
        holder[:] = [actor]


def request_actor() -> Actor | None:
    holder = _request.get()
    return holder[0] if holder else None


class ActorScope:
    """ASGI middleware: each HTTP request gets an empty scope of its own, gone when it ends."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _request.set([])
        try:
            await self.app(scope, receive, send)
        finally:
            _request.reset(token)


def actor(conn: Connection) -> Actor:
    found: Actor = conn.info.get(_KEY, SYSTEM)
    return found
