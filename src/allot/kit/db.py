"""Engines, transactions and dialect helpers for SQLite (default) and PostgreSQL.

The entry point owns the transaction (`Database.transaction()`); services get
the `Connection` and never commit. Writers are serialized per account:

* PostgreSQL: `SELECT … FOR UPDATE` on the account row (see `lock_account`);
  accounts proceed in parallel.
* SQLite: one writer at a time for the whole file — `BEGIN IMMEDIATE`, plus an
  in-process lock so threads queue on a mutex instead of SQLite's sleeping
  busy handler. Since only the lock's holder writes, write transactions share
  one connection, kept open between them (readers use the pool).

SQLite runs in WAL mode with `synchronous=FULL` by default: a committed usage
entry survives a power cut. `ALLOT_SQLITE_SYNCHRONOUS=NORMAL` trades that for
speed where the operator accepts it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, registry, sqlite
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import PoolProxiedConnection

from allot.kit.acting import SYSTEM, Actor, act_as, request_actor

SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

# How the next SQLite transaction begins: IMMEDIATE (take the write lock now)
# unless `Database.read()` asks for DEFERRED around its own begin.
_sqlite_begin: ContextVar[str] = ContextVar("sqlite_begin", default="BEGIN IMMEDIATE")


class SQLiteImmediateDialect(SQLiteDialect_pysqlite):
    """pysqlite whose transactions start with an explicit `BEGIN IMMEDIATE`.

    The driver runs in autocommit mode (`isolation_level = None`, set on
    connect) and SQLAlchemy's `do_begin` hook — the one meant for drivers
    that need help to begin — emits BEGIN. An engine-wide "begin" event did
    the same, but any engine event makes SQLAlchemy dispatch events on every
    connect, begin, commit and statement: ~10 µs a transaction, ~5 % of a
    consume (measured with bench/consume.py).
    """

    supports_statement_cache = True

    def do_begin(self, dbapi_connection: PoolProxiedConnection) -> None:
        dbapi_connection.driver_connection.execute(_sqlite_begin.get())  # type: ignore[union-attr]


registry.register("sqlite.allot", __name__, "SQLiteImmediateDialect")


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
    SQLite file). Here each waiter queues a lock of its own and sleeps on it;
    the holder, leaving, hands the mutex to the first in line by releasing
    that one lock — waking that thread alone, not every waiter.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()  # protects the two fields below
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            baton = threading.Lock()
            baton.acquire()
            self._waiters.append(baton)
        baton.acquire()  # until the holder hands over: `_held` stays True for us

    def __exit__(self, *_exc: object) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


class Database:
    def __init__(
        self,
        url: str | URL,
        *,
        sqlite_synchronous: str = "FULL",
        pool_size: int = 20,
        echo: bool = False,
        actor: Actor = SYSTEM,
    ) -> None:
        self.actor = actor  # who acts when the entry point names nobody (`kit.acting`)
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
        self._writer: Connection | None = None  # SQLite: used only under the write lock

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One read-write transaction: commit on success, roll back on any exception."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                act_as(conn, request_actor() or self.actor)
                yield conn
            return
        # SQLite: the lock's holder reuses the writer connection rather than
        # checking one out of the pool and back in (~25 µs a transaction).
        with self._write_lock:
            if self._writer is None or self._writer.closed:
                self._writer = self.engine.connect()
            conn = self._writer
            try:
                with conn.begin():
                    act_as(conn, request_actor() or self.actor)
                    yield conn
            except BaseException:
                # rolled back; the next transaction starts on a fresh connection, in case
                # this failure left this one unusable
                self._writer = None
                conn.close()
                raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot; on SQLite it does not take the write lock."""
        with self.engine.connect() as conn:
            deferred = _sqlite_begin.set("BEGIN DEFERRED")
            try:
                transaction = conn.begin()
            finally:
                _sqlite_begin.reset(deferred)
            with transaction:
                yield conn

    def dispose(self) -> None:
        with self._write_lock or nullcontext():
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.dispose()


def _sqlite_engine(url: URL, synchronous: str, pool_size: int, echo: bool) -> Engine:
    engine = sa.create_engine(
        url.set(drivername="sqlite+allot"),  # SQLiteImmediateDialect
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 60},
        pool_size=pool_size,
        max_overflow=pool_size,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let the dialect's do_begin emit BEGIN itself.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    return engine


def insert_for(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL do)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def for_update(conn: Connection, stmt: sa.Select[Any]) -> sa.Select[Any]:
    """Row lock on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the lock."""
    return stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt
