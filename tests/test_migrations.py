"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from allot.account.service import create_account
from allot.backlog.models import OrderOutcome
from allot.core.backlog import Outcome as GateOutcome
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.kit.migrate import downgrade, upgrade
from allot.models import metadata
from allot.subscription.service import subscribe
from allot.usage.models import usage_entries, usage_events
from allot.usage.service import consume
from tests.factories import load


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


def _normal(condition: str) -> str:
    """A check's condition as both databases can be compared: PostgreSQL rewrites
    `x IN ('a', 'b')` as `x = ANY (ARRAY['a'::text, …])` and wraps it in brackets."""
    text = condition.lower()
    text = re.sub(r"::[a-z ]+(\[\])?", "", text)
    text = re.sub(r"= any \(array\[(.*?)\]\)", r"in (\1)", text)
    text = re.sub(r" in \(('[^',]*')\)", r" = \1", text)  # and `x IN ('a')` as `x = 'a'`
    return re.sub(r"[\s()]", "", text)


def test_every_check_the_code_declares_is_in_the_migrated_database(db: Database) -> None:
    """The CHECKs (states and kinds among them) are the code's, on both databases."""
    inspector = sa.inspect(db.engine)
    for table in metadata.sorted_tables:
        declared = {
            str(c.name): _normal(str(c.sqltext))
            for c in table.constraints
            if isinstance(c, sa.CheckConstraint)
        }
        found = {
            str(c["name"]): _normal(str(c["sqltext"]))
            for c in inspector.get_check_constraints(table.name)
        }
        assert found == declared, table.name


# Columns whose name says they hold one of a few values: each must be checked by the database.
_ENUM_COLUMNS = {"state", "kind", "outcome", "source_kind", "direction", "action", "role"}


def test_every_state_and_kind_column_is_checked_by_the_database() -> None:
    unchecked = []
    for table in metadata.sorted_tables:
        checked = " ".join(
            str(c.sqltext) for c in table.constraints if isinstance(c, sa.CheckConstraint)
        )
        for column in table.columns:
            if column.name in _ENUM_COLUMNS and not re.search(rf"\b{column.name} IN \(", checked):
                unchecked.append(f"{table.name}.{column.name}")
    assert unchecked == []


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("usage_events", "action"),
        ("usage_events", "outcome"),
        ("usage_entries", "source_kind"),
        ("usage_counters", "source_kind"),
        ("usage_routes", "outcome"),
    ],
)
def test_a_value_no_enum_names_is_refused_by_the_database(
    db: Database, clock: FixedClock, table: str, column: str
) -> None:
    """Whoever writes the row, the database refuses a kind the code does not name."""
    load(db, clock)
    with db.transaction() as conn:
        create_account(conn, clock, account_id="acc", name="A", timezone="UTC", currency="EUR")
        subscribe(conn, clock, account_id="acc", plan_code="free")
        consume(
            conn, clock, account_id="acc", metric="card_operations", quantity=1, idempotency_key="k"
        )
    refused = pytest.raises(sa.exc.IntegrityError, match=f"ck_{table}_{column}")
    with refused, db.transaction() as conn:
        conn.execute(sa.update(metadata.tables[table]).values({column: "gift"}))
    with db.read() as conn:
        values = conn.execute(sa.select(metadata.tables[table].c[column])).scalars().all()
    assert values
    assert "gift" not in values


def test_an_order_can_take_every_fate_the_gate_gives() -> None:
    """Orders keep the gate's outcomes (R1–R5) beside the billed plans' overage (U4)."""
    assert {str(o) for o in GateOutcome} | {"overage"} == {str(o) for o in OrderOutcome}


def test_the_migrations_upgrade_a_database_that_holds_a_ledger(
    db: Database, clock: FixedClock
) -> None:
    """From the head before the checks, with usage in it: the rebuilt tables keep their rows
    and the foreign keys that point at them (on SQLite a rebuild drops the old table)."""
    load(db, clock)
    with db.transaction() as conn:
        create_account(conn, clock, account_id="acc", name="A", timezone="UTC", currency="EUR")
        subscribe(conn, clock, account_id="acc", plan_code="free")
        for n in range(3):
            consume(
                conn,
                clock,
                account_id="acc",
                metric="card_operations",
                quantity=1,
                idempotency_key=f"k{n}",
            )
    downgrade(db, "a359eb02806b")  # written by today's code, taken back with its rows
    upgrade(db)
    with db.read() as conn:
        entries = conn.execute(sa.select(sa.func.count()).select_from(usage_entries)).scalar()
        events = conn.execute(sa.select(sa.func.count()).select_from(usage_events)).scalar()
    assert (entries, events) == (3, 3)
    test_every_check_the_code_declares_is_in_the_migrated_database(db)
    if db.is_sqlite:  # the pooled connections enforce foreign keys again
        for _ in range(3):
            with db.read() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
