"""Run Alembic migrations from code (`allot init`, tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from allot.kit.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False))
    return cfg


@contextmanager
def migrating(db: Database) -> Iterator[Connection]:
    """A connection to migrate on. On SQLite its foreign keys are off until it is done:
    a batch migration rebuilds a table, and dropping the old one would delete, through
    the keys that point at it, every row that refers to it (or refuse, as they are ON).
    The pragma works only outside a transaction, so it is set here, around it; the
    migration checks the keys itself before it commits (`migrations/env.py`)."""
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            yield conn
        finally:
            if raw is not None:
                conn.rollback()  # nothing left open: the pragma is refused inside one
                raw.execute("PRAGMA foreign_keys = ON")


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`, the newest by default (idempotent)."""
    cfg = alembic_config(db)
    with migrating(db) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to `revision` (the tests start from earlier heads)."""
    cfg = alembic_config(db)
    with migrating(db) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()
