"""Shared fixtures: a fixed clock and a migrated database on SQLite *and* PostgreSQL.

Every test that takes `db` runs twice, once per backend. PostgreSQL tests get
a database of their own, created for the run and dropped after it. Where
PostgreSQL is unreachable they are skipped with a loud banner — unless
ALLOT_REQUIRE_POSTGRES=1 (as in CI), where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.kit.migrate import upgrade
from allot.models import metadata

pytest_plugins = ["tests.mailserver"]  # the `mail_server` fixture: a real local SMTP server

PG_ADMIN_URL = os.environ.get(
    "ALLOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("ALLOT_REQUIRE_POSTGRES") == "1"
_pg_skipped: list[str] = []


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"allot_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.orig}"
        if REQUIRE_PG:
            pytest.fail(message + " (ALLOT_REQUIRE_POSTGRES=1)")
        _pg_skipped.append(message)
        pytest.skip(message)
    yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def make_database(backend: str, tmp_dir: Path, request: pytest.FixtureRequest) -> Database:
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_dir / 'allot.db'}")
    else:
        db = Database(request.getfixturevalue("postgres_url"))
    upgrade(db)
    return db


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    db = make_database(request.param, tmp_path_factory.mktemp(request.param), request)
    yield db
    db.dispose()


def wipe(db: Database) -> None:
    """Every table emptied between tests, the append-only audit log too: its triggers
    are set aside for this (SQLite: dropped and made again; PostgreSQL: a superuser's
    session that fires no triggers), as no application connection can."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'audit_events'"
            ).all()
            for name, _sql in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
def db(database: Database) -> Database:
    """A clean, migrated database (SQLite, then PostgreSQL)."""
    wipe(database)
    return database


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _pg_skipped:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            "PostgreSQL TESTS WERE SKIPPED: " + _pg_skipped[0], red=True, bold=True
        )
        terminalreporter.write_line(bar, red=True, bold=True)


@pytest.fixture(autouse=True)
def _sandbox_books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox payment provider keeps its books in each test's own directory."""
    monkeypatch.setenv("ALLOT_SANDBOX_PATH", str(tmp_path / "sandbox.db"))
