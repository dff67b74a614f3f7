"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from allot.kit.db import Database
from allot.models import metadata


def test_migrated_schema_matches_the_tables_in_code(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == []


def test_U8_the_triggers_that_mark_an_accounts_sources_changed_are_in_place(db: Database) -> None:
    """The consume fast path relies on them (`allot.usage.fastpath`).

    On SQLite a batch migration that rebuilds `grants`, `grant_allowances`,
    `subscriptions` or `accounts` drops their triggers: this test notices.
    """
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
            )
        else:
            rows = conn.exec_driver_sql(
                "SELECT DISTINCT event_object_table, trigger_name FROM information_schema.triggers"
            )
        tables = {table for table, _ in rows}
    assert {"grants", "grant_allowances", "subscriptions", "accounts"} <= tables
