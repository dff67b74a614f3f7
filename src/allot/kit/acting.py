"""Who is acting in a transaction: an API key, a user, a business's page, the CLI, the system.

The audit log (S1) labels every change with its actor. The entry point knows who acts
and owns the transaction, so it names the actor on the transaction's connection
(`act_as`); a use case that records a change reads it there (`actor`). Passing it as an
argument would thread a parameter that no rule reads through every use case.

`Database.transaction()` names, at every begin, the actor of the request it runs in (if
one was identified) or else the database's own default (the CLI's user, the system): so
an actor never carries over to the next transaction on a pooled connection, and a use
case that opens transactions of its own (a card saved around a provider's call) still
records who asked. The request's actor lives in a context variable that an API key's or
a page session's check sets (`identify`); every ASGI request, and every call into the
thread pool, runs in a copy of the context, so it ends with the request. Nothing here
decides anything: it only labels.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

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


_request: ContextVar[Actor | None] = ContextVar("allot_request_actor", default=None)


def act_as(conn: Connection, actor: Actor) -> None:
    """Name who makes this transaction's changes (until the transaction ends)."""
    conn.info[_KEY] = actor


def identify(conn: Connection, actor: Actor) -> None:
    """The request's caller is known (a key, a session): it makes this transaction's
    changes and those of every transaction the request opens after it."""
    act_as(conn, actor)
    _request.set(actor)


def request_actor() -> Actor | None:
    return _request.get()


def actor(conn: Connection) -> Actor:
    found: Actor = conn.info.get(_KEY, SYSTEM)
    return found
