"""states and kinds checked by the database

Every column that holds a state or a kind now refuses a value the code does not
name (the enums beside each table; `allot.kit.schema.one_of` builds the model's
constraints from them, and a test compares them with the database's). The
columns that had no check before: the ledger's payer (`source_kind`), a usage
event's action and outcome, an order's fate (the gate's, or overage), an invoice line's
charge kind and an e-mail's kind.

The value lists are written out here, not imported: a migration is history.
Adding a check reads every row of its table while the table is locked (on SQLite
the tables are rebuilt): on a large ledger, upgrade in a quiet moment.

Revision ID: c41f7d2e9a55
Revises: a359eb02806b
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c41f7d2e9a55"
down_revision: str | None = "a359eb02806b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCE_KINDS = ("grant", "plan", "overage", "free_overage", "top_up", "backlog")
DECISIONS = ("allowed", "overage", "free_overage", "top_up", "backlog", "blocked")
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "usage_events": {
        "action": ("consume", "seat_take", "seat_release", "seat_move", "backlog_release"),
        "outcome": DECISIONS,
    },
    "usage_entries": {"source_kind": SOURCE_KINDS},
    "usage_counters": {"source_kind": SOURCE_KINDS},
    "seat_holds": {"source_kind": SOURCE_KINDS},
    "usage_routes": {"source_kind": SOURCE_KINDS, "outcome": DECISIONS},
    "orders": {"outcome": ("within", "top_up", "waiting", "archived", "counted", "overage")},
    "invoice_lines": {
        "kind": (
            "plan",
            "proration",
            "overage",
            "late_overage",
            "extra_seats",
            "top_up",
            "referral_credit",
            "wholesale",
        )
    },
    "emails": {"kind": ("activation_link",)},
}


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in CHECKS.items():
        if sqlite:
            with op.batch_alter_table(table) as batch:
                for column, values in columns.items():
                    batch.create_check_constraint(
                        op.f(f"ck_{table}_{column}"), _condition(column, values)
                    )
            continue
        for column, values in columns.items():
            op.create_check_constraint(
                op.f(f"ck_{table}_{column}"), table, _condition(column, values)
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in CHECKS.items():
        if sqlite:
            with op.batch_alter_table(table) as batch:
                for column in columns:
                    batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            continue
        for column in columns:
            op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
