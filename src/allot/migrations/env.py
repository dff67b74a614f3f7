"""Alembic environment: migrates the database given by the caller or ALLOT_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from allot.kit.db import Database
from allot.kit.migrate import migrating
from allot.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "ALLOT_DATABASE_URL", "sqlite:///var/allot.db"
    )
    db = Database(url)
    try:
        with migrating(db) as conn:
            _run(conn)
            conn.commit()
    finally:
        db.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # foreign keys were off while tables were rebuilt (allot.kit.migrate): prove
            # every reference still holds before the migration commits
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("allot migrations run online only (allot init)")
run_migrations_online()
