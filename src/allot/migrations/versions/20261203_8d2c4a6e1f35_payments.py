"""payments: cards on file, charge attempts, collections (dunning), refunds

P1-P4: `payment_customers`, `payment_methods`, `payment_attempts`,
`collections`, `refunds`; each product line's dunning schedule and final rule
(`product_lines.retry_days`, `final_rule`); and a partial index of the
invoices still open, which the charging round scans for new ones to collect.
Invoices issued before this revision get a collection `external`: they were
collected some other way, and are never charged.

Revision ID: 8d2c4a6e1f35
Revises: 5b1e7f3a9c20
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allot.kit.types

revision: str = "8d2c4a6e1f35"
down_revision: str | None = "5b1e7f3a9c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = allot.kit.types.UTCDateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


EMAIL_KINDS = ("activation_link", "payment_failed", "payment_action", "usage_alert")


def _email_kinds(kinds: tuple[str, ...]) -> None:
    """The e-mail outbox's CHECK on `kind`, replaced by one naming `kinds`."""
    name = op.f("ck_emails_kind")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("emails") as batch:
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, _in("kind", kinds))
        return
    op.drop_constraint(name, "emails", type_="check")
    op.create_check_constraint(name, "emails", _in("kind", kinds))


def upgrade() -> None:
    _email_kinds(EMAIL_KINDS)
    with op.batch_alter_table("product_lines") as batch:
        batch.add_column(
            sa.Column(
                "retry_days", sa.JSON, nullable=False, server_default="[1, 3, 5, 7, 9, 11, 13]"
            )
        )
        batch.add_column(
            sa.Column("final_rule", sa.String(16), nullable=False, server_default="keep")
        )
        batch.create_check_constraint(
            op.f("ck_product_lines_final_rule"), _in("final_rule", ("downgrade", "cancel", "keep"))
        )
    op.create_index(
        "ix_invoices_open",
        "invoices",
        ["id"],
        sqlite_where=sa.text("state = 'finalized'"),
        postgresql_where=sa.text("state = 'finalized'"),
    )
    op.create_table(
        "payment_customers",
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("gateway", sa.String(16), primary_key=True),
        sa.Column("customer_ref", sa.String(255), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
    )
    op.create_table(
        "payment_methods",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("method_ref", sa.String(255), nullable=False),
        sa.Column("brand", sa.String(32), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer, nullable=False),
        sa.Column("exp_year", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.CheckConstraint(
            _in("state", ("active", "replaced")), name=op.f("ck_payment_methods_state")
        ),
        sa.CheckConstraint(
            "length(last4) = 4", name=op.f("ck_payment_methods_last4_is_four_digits")
        ),
    )
    op.create_index(
        "uq_payment_methods_active",
        "payment_methods",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    attempt_states = (
        "pending",
        "succeeded",
        "failed",
        "requires_action",
        "processing",
        "canceled",
    )
    op.create_table(
        "payment_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("invoice_id", BigId, sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("method_id", BigId, sa.ForeignKey("payment_methods.id"), nullable=False),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("provider_ref", sa.String(255), nullable=True),
        sa.Column("decline_code", sa.String(64), nullable=True),
        sa.Column("hard", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("message", sa.String(300), nullable=True),
        sa.Column("client_secret", sa.String(255), nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("lease_until", Instant, nullable=True),
        sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("finished_at", Instant, nullable=True),
        sa.CheckConstraint(_in("state", attempt_states), name=op.f("ck_payment_attempts_state")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payment_attempts_amount_positive")),
    )
    op.create_index("ix_payment_attempts_invoice", "payment_attempts", ["invoice_id", "id"])
    op.create_index("ix_payment_attempts_account", "payment_attempts", ["account_id", "id"])
    op.create_index("ix_payment_attempts_pending", "payment_attempts", ["state", "lease_until"])
    op.create_index("ix_payment_attempts_provider_ref", "payment_attempts", ["provider_ref"])
    collection_states = (
        "collecting",
        "waiting_for_card",
        "requires_action",
        "exhausted",
        "paid",
        "closed",
        "external",
    )
    op.create_table(
        "collections",
        sa.Column("invoice_id", BigId, sa.ForeignKey("invoices.id"), primary_key=True),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("subscription_id", BigId, sa.ForeignKey("subscriptions.id"), nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", Instant, nullable=True),
        sa.Column("first_failed_at", Instant, nullable=True),
        sa.Column("final_rule", sa.String(16), nullable=True),
        sa.Column("restore_plan_id", BigId, sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("updated_at", Instant, nullable=False),
        sa.CheckConstraint(_in("state", collection_states), name=op.f("ck_collections_state")),
        sa.CheckConstraint(
            _in("final_rule", ("downgrade", "cancel", "keep")),
            name=op.f("ck_collections_final_rule"),
        ),
        sa.CheckConstraint("tries >= 0", name=op.f("ck_collections_tries_not_negative")),
    )
    op.create_index("ix_collections_due", "collections", ["state", "next_try_at"])
    # Invoices issued before payments existed were collected some other way: never charged.
    op.execute(
        "INSERT INTO collections (invoice_id, account_id, subscription_id, state, tries,"
        " created_at, updated_at) SELECT id, account_id, subscription_id, 'external', 0,"
        " created_at, created_at FROM invoices WHERE account_id IS NOT NULL"
    )
    op.create_index("ix_collections_account", "collections", ["account_id", "state"])
    op.create_table(
        "refunds",
        sa.Column("credit_note_id", BigId, sa.ForeignKey("credit_notes.id"), primary_key=True),
        sa.Column("attempt_id", BigId, sa.ForeignKey("payment_attempts.id"), nullable=False),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("provider_ref", sa.String(255), nullable=True),
        sa.Column("created_at", Instant, nullable=False),
        sa.Column("lease_until", Instant, nullable=False),
        sa.Column("finished_at", Instant, nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_amount_positive")),
        sa.CheckConstraint(
            _in("state", ("pending", "succeeded", "failed")), name=op.f("ck_refunds_state")
        ),
    )


def downgrade() -> None:
    op.execute("DELETE FROM emails WHERE kind <> 'activation_link'")
    _email_kinds(("activation_link",))
    for table in (
        "refunds",
        "collections",
        "payment_attempts",
        "payment_methods",
        "payment_customers",
    ):
        op.drop_table(table)
    op.drop_index("ix_invoices_open", "invoices")
    with op.batch_alter_table("product_lines") as batch:
        batch.drop_constraint(op.f("ck_product_lines_final_rule"), type_="check")
        batch.drop_column("final_rule")
        batch.drop_column("retry_days")
