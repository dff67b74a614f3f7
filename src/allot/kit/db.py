"""Engines, transactions and dialect helpers for SQLite (default) and PostgreSQL.

The entry point owns the transaction (`Database.transaction()`); services get
the `Connection` and never commit. Writers are serialized per account:

* PostgreSQL: `SELECT … FOR UPDATE` on the account row (see `lock_account`);
  accounts proceed in parallel.
* SQLite: one writer at a time for the whole file — `BEGIN IMMEDIATE`, plus an
  in-process lock so threads queue on a mutex instead of SQLite's sleeping
  busy handler.

SQLite runs in WAL mode with `synchronous=FULL` by default: a committed usage
entry survives a power cut. `ALLOT_SQLITE_SYNCHRONOUS=NORMAL` trades that for
speed where the operator accepts it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url

SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def normalize_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:/// or postgresql://"
        )
    return parsed


class FairLock:
    """A mutex handed over in arrival order.

    `threading.Lock` lets a releasing thread grab it again at once, so under
    load some callers wait many turns (p99 of ~100 ms with 8 threads on one
    SQLite file); tickets keep every caller's wait to one queue's length.
    """

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._turn:
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket != self._serving:
                self._turn.wait()

    def __exit__(self, *_exc: object) -> None:
        with self._turn:
            self._serving += 1
            self._turn.notify_all()


class Database:
    def __init__(
        self,
        url: str | URL,
        *,
        sqlite_synchronous: str = "FULL",
        pool_size: int = 20,
        echo: bool = False,
    ) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if sqlite_synchronous.upper() not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"sqlite synchronous must be one of {SQLITE_SYNCHRONOUS}")
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, sqlite_synchronous.upper(), pool_size, echo)
        else:
            self.engine = sa.create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                echo=echo,
                pool_pre_ping=False,
            )
        self._write_lock = FairLock() if self.is_sqlite else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One read-write transaction: commit on success, roll back on any exception."""
        with self._write_lock or nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot; on SQLite it does not take the write lock."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: URL, synchronous: str, pool_size: int, echo: bool) -> Engine:
    engine = sa.create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 60},
        pool_size=pool_size,
        max_overflow=pool_size,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event (below) emit BEGIN itself.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # straight to the driver: this runs once per transaction, on the hot path
        conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            "BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN DEFERRED"
        )

    return engine


def insert_for(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL do)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def for_update(conn: Connection, stmt: sa.Select[Any]) -> sa.Select[Any]:
    """Row lock on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the lock."""
    return stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt
