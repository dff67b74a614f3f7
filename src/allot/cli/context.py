"""What every command needs: settings, the database, a clock, and error handling.

The command line starts at once: every module of `allot.cli` imports at its top
only the standard library, Typer, Rich's console and light allot modules (the
pure core, the plain clock, constants); the services, SQLAlchemy and the rest are
imported by the command that needs them, inside its body. `allot --help` so
loads no database code at all (`tests/cli/test_startup.py` checks it).
"""

from __future__ import annotations

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
    from allot.kit.db import Database

# Wide enough for the billing tables when output goes to a file or CI log.
console = Console(highlight=False, width=None if Console().is_terminal else 110)
err_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


_open: list[Database] = []


@contextmanager
def open_database() -> Iterator[Database]:
    from allot.config import Settings
    from allot.kit.db import Database

    settings = Settings.from_env()
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    _open.append(db)
    try:
        yield db
    finally:
        _open.remove(db)
        db.dispose()


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
