"""credit balances: a credit note's paid part refunded or kept as credit (P4)

`accounts.credit_balance_minor` and its ledger `credit_balance_entries`;
on each credit note what of it gave back money paid (`settled_minor`) and
what became of it (`settled_as`: refund or balance); on each invoice the
credit taken off it when it was issued (`credit_applied_minor`).

Notes issued before this revision keep `settled_as` NULL: whatever they gave
back was settled outside allot (or by a refund, which stays as it was).

Revision ID: e7a3c9d1b642
Revises: 8d2c4a6e1f35
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allot.kit.types

revision: str = "e7a3c9d1b642"
down_revision: str | None = "8d2c4a6e1f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BALANCE_CHECK = "credit_balance_minor >= 0"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch: rebuilding `accounts` on SQLite would break the triggers that name it.
        op.execute(
            "ALTER TABLE accounts ADD COLUMN credit_balance_minor BIGINT DEFAULT '0' NOT NULL"
            f" CONSTRAINT ck_accounts_credit_balance_not_negative CHECK ({BALANCE_CHECK})"
        )
    else:
        op.add_column(
            "accounts",
            sa.Column("credit_balance_minor", sa.BigInteger, server_default="0", nullable=False),
        )
        op.create_check_constraint(
            op.f("ck_accounts_credit_balance_not_negative"), "accounts", BALANCE_CHECK
        )
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(
            sa.Column("credit_applied_minor", sa.BigInteger, server_default="0", nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_invoices_credit_applied_within_total"),
            "credit_applied_minor >= 0 AND credit_applied_minor <= total_minor",
        )
    with op.batch_alter_table("credit_notes") as batch:
        batch.add_column(sa.Column("settled_as", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("settled_minor", sa.BigInteger, server_default="0", nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_credit_notes_settled_as"),
            "settled_as IS NULL OR settled_as IN ('refund', 'balance')",
        )
        batch.create_check_constraint(
            op.f("ck_credit_notes_settled_within_total"),
            "settled_minor >= 0 AND settled_minor <= total_minor",
        )
        batch.create_check_constraint(
            op.f("ck_credit_notes_settled_when_paid"),
            "(settled_as IS NULL) = (settled_minor = 0)",
        )
    op.create_table(
        "credit_balance_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("move", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("credit_note_id", BigId, nullable=True),
        sa.Column("invoice_id", BigId, nullable=True),
        sa.Column("at", allot.kit.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "move IN ('credit_note', 'overpayment', 'applied', 'unapplied', 'refunded',"
            " 'refund_failed')",
            name=op.f("ck_credit_balance_entries_move"),
        ),
        sa.CheckConstraint(
            "(move IN ('credit_note', 'overpayment', 'refund_failed', 'unapplied'))"
            " = (amount_minor > 0)"
            " AND amount_minor <> 0",
            name=op.f("ck_credit_balance_entries_sign_of_move"),
        ),
        sa.CheckConstraint(
            "(move IN ('credit_note', 'refunded', 'refund_failed')) = (credit_note_id IS NOT NULL)",
            name=op.f("ck_credit_balance_entries_names_its_note"),
        ),
        sa.CheckConstraint(
            "(move IN ('overpayment', 'applied', 'unapplied')) = (invoice_id IS NOT NULL)",
            name=op.f("ck_credit_balance_entries_names_its_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_credit_balance_entries_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_credit_balance_entries_credit_note_id_credit_notes"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_credit_balance_entries_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_balance_entries")),
    )
    op.create_index(
        "ix_credit_balance_entries_account", "credit_balance_entries", ["account_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_credit_balance_entries_account", "credit_balance_entries")
    op.drop_table("credit_balance_entries")
    with op.batch_alter_table("credit_notes") as batch:
        batch.drop_constraint(op.f("ck_credit_notes_settled_when_paid"), type_="check")
        batch.drop_constraint(op.f("ck_credit_notes_settled_within_total"), type_="check")
        batch.drop_constraint(op.f("ck_credit_notes_settled_as"), type_="check")
        batch.drop_column("settled_minor")
        batch.drop_column("settled_as")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_constraint(op.f("ck_invoices_credit_applied_within_total"), type_="check")
        batch.drop_column("credit_applied_minor")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_accounts_credit_balance_not_negative"), "accounts")
    op.execute("ALTER TABLE accounts DROP COLUMN credit_balance_minor")
