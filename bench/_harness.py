"""Shared helpers for the benchmarks: throwaway databases, a bench catalog, timing, tables.

The benchmarks are scripts, not tests: they print figures and never fail the
build. Each makes its own databases and removes them afterwards:

* SQLite: a file in a temporary directory, with allot's own engine settings
  (WAL, `synchronous=FULL`, `BEGIN IMMEDIATE`).
* PostgreSQL: a database created on the server named by
  `ALLOT_BENCH_POSTGRES_URL` (default: the test server) and dropped after.
  Where the server cannot be reached, a loud notice says so and the bench
  runs on SQLite only.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import pstats
import secrets
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from allot.account.service import create_account
from allot.catalog.service import load_catalog
from allot.code.grants import grant
from allot.core.catalog import (
    Catalog,
    Interval,
    Metric,
    MetricKind,
    MetricRule,
    OveragePolicy,
    Plan,
    ProductLine,
)
from allot.kit.clock import FixedClock, monotonic
from allot.kit.db import Database
from allot.kit.migrate import upgrade
from allot.subscription.service import subscribe

__all__ = [
    "BENCH_ALLOWANCE",
    "BENCH_NOW",
    "METRIC",
    "PG_URL",
    "Database",
    "FixedClock",
    "backend",
    "bench_catalog",
    "commit_timer",
    "databases",
    "env_float",
    "env_int",
    "fixed_clock",
    "machine_note",
    "make_accounts",
    "monotonic",
    "percentile",
    "postgres_database",
    "print_profile",
    "print_table",
    "psycopg_conninfo",
    "raw_sqlite",
    "sqlite_database",
]

PG_URL = os.environ.get(
    "ALLOT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BENCH_NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
METRIC = "card_operations"
BENCH_ALLOWANCE = 500_000_000  # per month, per source: the hot path never leaves "within allowance"


def fixed_clock(at: datetime = BENCH_NOW) -> FixedClock:
    return FixedClock(at)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


# --- databases ---------------------------------------------------------------


@contextmanager
def sqlite_database(*, synchronous: str = "FULL") -> Iterator[Database]:
    """A migrated SQLite file database in a temporary directory, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="allot-bench-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'allot.db'}", sqlite_synchronous=synchronous)
        try:
            upgrade(db)
            yield db
        finally:
            db.dispose()


class PostgresUnavailable(RuntimeError):
    pass


@contextmanager
def postgres_database(admin_url: str = PG_URL) -> Iterator[Database]:
    """A migrated PostgreSQL database created for the run and dropped after it."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"allot_bench_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise PostgresUnavailable(
            f"PostgreSQL is not reachable at {admin_url}: {exc.orig}"
        ) from exc
    db = Database(sa.make_url(admin_url).set(database=name))
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def loud_notice(message: str) -> None:
    bar = "!" * 78
    print(bar, file=sys.stderr)
    print(f"!!! {message}", file=sys.stderr)
    print("!!! PostgreSQL figures are MISSING from this run: SQLite only.", file=sys.stderr)
    print(bar, file=sys.stderr, flush=True)


@contextmanager
def _maybe_postgres() -> Iterator[Database | None]:
    try:
        with postgres_database() as db:
            yield db
    except PostgresUnavailable as exc:
        loud_notice(str(exc))
        yield None


def databases(only: str | None = None, *, synchronous: str = "FULL") -> Iterator[Database]:
    """SQLite, then PostgreSQL (unless unreachable, or `only` names one of them)."""
    if only in (None, "sqlite"):
        with sqlite_database(synchronous=synchronous) as db:
            yield db
    if only in (None, "postgresql"):
        with _maybe_postgres() as pg:
            if pg is not None:
                yield pg


def raw_sqlite(db: Database, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A bare sqlite3 connection to allot's file, with the same pragmas as allot's engine."""
    assert db.is_sqlite
    assert db.url.database
    conn = sqlite3.connect(db.url.database, check_same_thread=False, timeout=60)
    conn.isolation_level = None  # we write BEGIN IMMEDIATE / COMMIT ourselves
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=60000")
    return conn


def psycopg_conninfo(db: Database) -> str:
    """The libpq URL of allot's PostgreSQL database, for a bare psycopg connection."""
    return db.url.set(drivername="postgresql").render_as_string(hide_password=False)


# --- catalog and accounts ----------------------------------------------------


def bench_catalog() -> Catalog:
    """One counter metric on a plan whose allowance the bench never exhausts."""
    metrics = {METRIC: Metric(METRIC, "Card operations", MetricKind.COUNTER)}
    plans = {
        "bench": Plan(
            "bench",
            "Bench",
            "cards",
            "EUR",
            Decimal(29),
            Interval.MONTH,
            {METRIC: MetricRule(METRIC, BENCH_ALLOWANCE, OveragePolicy.BILL, Decimal("0.02"))},
        )
    }
    lines = {"cards": ProductLine("cards", "Cards", ("bench",))}
    return Catalog("bench", metrics, lines, plans)


def make_accounts(
    db: Database,
    clock: FixedClock,
    ids: Sequence[str],
    *,
    with_grant: bool = True,
    started_on: date = date(2015, 1, 1),
) -> None:
    """Load the bench catalog (once) and give each account the plan and, by default, a grant.

    With the grant, a consume walks the whole waterfall (grant first, plan behind
    it) and is paid by the grant: the normal "within allowance" path.
    """
    with db.transaction() as conn:
        if conn.exec_driver_sql("SELECT count(*) FROM plans").scalar_one() == 0:
            load_catalog(conn, clock, catalog=bench_catalog())
    for account_id in ids:
        with db.transaction() as conn:
            create_account(
                conn,
                clock,
                account_id=account_id,
                name=f"Bench {account_id}",
                timezone="Europe/Paris",
                currency="EUR",
            )
            subscribe(conn, clock, account_id=account_id, plan_code="bench", started_on=started_on)
            if with_grant:
                grant(
                    conn,
                    clock,
                    account_id=account_id,
                    allowances={METRIC: BENCH_ALLOWANCE},
                    label="Bench grant",
                )


# --- figures -----------------------------------------------------------------


def machine_note() -> str:
    """CPUs and load average: figures taken on a busy machine are not comparable."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    note = f"{os.cpu_count()} CPUs, load average {load}; Python {sys.version.split()[0]}"
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        note += "  <-- busy (or a bench just ran): compare with care"
    return f"{note}\ncode: {_code_state()}"


def _code_state() -> str:
    """The commit measured, and whether src/ had uncommitted changes (figures follow the code)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown (no git)"
    return f"{head or 'unknown'}{' + uncommitted changes in src/' if dirty else ''}"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "") -> None:
    """Plain aligned columns: text left, numbers right."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False
        for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    if title:
        print()
        print(title)
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))
    sys.stdout.flush()


def backend(name: str) -> contextlib.AbstractContextManager[Database]:
    """A fresh database of the named kind: `sqlite` or `postgresql`."""
    return sqlite_database() if name == "sqlite" else postgres_database()


@contextmanager
def commit_timer(db: Database, edges: dict[str, float]) -> Iterator[None]:
    """Add the time COMMIT takes in the driver to `edges["commit"]` (wraps `do_commit`)."""
    dialect = db.engine.dialect
    plain = dialect.do_commit

    def timed(dbapi_connection: Any) -> None:
        t0 = monotonic()
        plain(dbapi_connection)
        edges["commit"] += monotonic() - t0

    dialect.do_commit = timed  # type: ignore[method-assign]
    try:
        yield
    finally:
        del dialect.do_commit


def _part(filename: str, func: str) -> str:
    if filename == "~":
        if "sqlite3" in func or "psycopg" in func or "pq" in func:
            return "driver (C)"
        return "builtins"
    for marker, part in (
        ("/allot/core/", "allot.core"),
        ("/allot/", "allot services/repos"),
        ("/sqlalchemy/", "sqlalchemy"),
        ("/psycopg", "driver (python)"),
        ("sqlite3", "driver (python)"),
        ("zoneinfo", "zoneinfo"),
        ("json", "json"),
        ("threading", "threading"),
    ):
        if marker in filename:
            return part
    return "other stdlib"


def print_profile(stats: pstats.Stats, *, scale: float, unit: str, dialect: str) -> None:
    """cProfile's own time grouped by part (allot, SQLAlchemy, driver...), `scale` per `unit`."""
    by_part: Counter[str] = Counter()
    raw: Any = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_part[_part(filename, func)] += tt
    total = sum(by_part.values())
    print_table(
        ["cProfile own time by part", unit, "share"],
        [[p, t * scale, t / total] for p, t in by_part.most_common()],
        title=f"{dialect}: cProfile (profiler overhead included)",
    )
    print()


def int_list(text: str) -> list[int]:
    """An argparse type: '10_000,100000' → [10000, 100000]."""
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def backend_list(text: str) -> list[str]:
    """An argparse type: 'sqlite,postgresql', each name checked."""
    names = [x.strip() for x in text.split(",") if x.strip()]
    for x in names:
        if x not in ("sqlite", "postgresql"):
            raise argparse.ArgumentTypeError(f"unknown backend {x!r}")
    return names


def mark(ok: bool) -> str:
    """How a bar line ends: PASS or FAIL."""
    return "PASS" if ok else "FAIL"
