"""What every command needs: settings, the database, a clock, and error handling.

The command line starts at once: every module of `allot.cli` imports at its top
only the standard library, Typer, Rich's console and light allot modules (the
pure core, the plain clock, constants); the services, SQLAlchemy and the rest are
imported by the command that needs them, inside its body. `allot --help` so
loads no database code at all (`tests/cli/test_startup.py` checks it).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from allot.core.errors import DomainError
from allot.kit.clock import Clock, SystemClock

if TYPE_CHECKING:
    from allot.kit.acting import Actor
    from allot.kit.db import Database

# Wide enough for the billing tables when output goes to a file or CI log.
console = Console(highlight=False, width=None if Console().is_terminal else 110)
err_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


_open: list[Database] = []


@contextmanager
def open_database(*, as_system: bool = False) -> Iterator[Database]:
    """The configured database; what its commands change is the operator's at this terminal
    in the audit log (the worker's rounds, `as_system`, the system's)."""
    from allot.config import Settings
    from allot.kit.acting import SYSTEM
    from allot.kit.db import Database

    settings = Settings.from_env()
    db = Database(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        actor=SYSTEM if as_system else _operator(),
    )
    _open.append(db)
    try:
        yield db
    finally:
        _open.remove(db)
        db.dispose()


def _operator() -> Actor:
    from allot.kit.acting import Actor, ActorKind

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid-{os.getuid()}"
    return Actor(ActorKind.CLI, user[:64], "operator")


def clock() -> Clock:
    """The open database's clock: its simulated time when one is set (`allot clock`)."""
    if _open:
        from allot.kit.simclock import StoredClock

        return StoredClock(_open[-1])
    return SystemClock()


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def domain_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a DomainError into a one-line message naming its code and field, exit status 2."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            raise fail(str(exc)) from None

    return wrapper
