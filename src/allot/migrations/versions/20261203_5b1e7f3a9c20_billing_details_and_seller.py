"""billing details, the seller, and the parties each document keeps

A1: `accounts.billing_details` (legal name, billing e-mail, tax id, address).
B8: the operator's identity in `seller` (one row), and on every invoice and
credit note a copy of its seller and of whom it bills (`seller`, `bill_to`).
Documents issued before keep what they printed then: the seller "allot"
(Ref. operator) and the payer's name and id.

Revision ID: 5b1e7f3a9c20
Revises: c41f7d2e9a55
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allot.kit.types

revision: str = "5b1e7f3a9c20"
down_revision: str | None = "c41f7d2e9a55"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSET_SELLER = '{"name": "allot", "reference": "operator", "details": {}}'


def _payer(sqlite: bool, payer: str) -> str:
    """The JSON snapshot of the payer an invoice row names (an account or a partner)."""
    build = "json_object" if sqlite else "json_build_object"
    empty = "json('{}')" if sqlite else "'{}'::json"
    return (
        f"COALESCE((SELECT {build}('name', a.name, 'reference', a.id, 'details', {empty})"
        f" FROM accounts a WHERE a.id = {payer}.account_id),"
        f" (SELECT {build}('name', p.name, 'reference', p.id, 'details', {empty})"
        f" FROM partners p WHERE p.id = {payer}.partner_id))"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("accounts", sa.Column("billing_details", sa.JSON, nullable=True))
    op.create_table(
        "seller",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("updated_at", allot.kit.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_seller_one_seller")),
    )
    for table in ("invoices", "credit_notes"):
        op.add_column(table, sa.Column("seller", sa.JSON, nullable=True))
        op.add_column(table, sa.Column("bill_to", sa.JSON, nullable=True))
    op.execute(
        f"UPDATE invoices SET seller = '{UNSET_SELLER}', bill_to = {_payer(sqlite, 'invoices')}"
    )
    op.execute(
        f"UPDATE credit_notes SET seller = '{UNSET_SELLER}', bill_to ="
        " (SELECT i.bill_to FROM invoices i WHERE i.id = credit_notes.invoice_id)"
    )
    for table in ("invoices", "credit_notes"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("seller", existing_type=sa.JSON, nullable=False)
            batch.alter_column("bill_to", existing_type=sa.JSON, nullable=False)


def downgrade() -> None:
    for table in ("invoices", "credit_notes"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("bill_to")
            batch.drop_column("seller")
    op.drop_table("seller")
    # Not a batch: rebuilding `accounts` on SQLite would break the triggers that name it.
    op.execute("ALTER TABLE accounts DROP COLUMN billing_details")
