"""consume routes in the database; triggers mark an account's sources changed; B7 grace

Revision ID: 3e5d0c9a4b17
Revises: 22a1ecec90cd
Create Date: 2026-12-01 23:50:00

The consume fast path used to keep its learned routes in process memory,
where a rolled-back transaction's route survived and each process held
decision state of its own (U8). Routes now live in `usage_routes`, written in
the transaction that learns them. A route holds only while the account is at
the revision it was learned under; these triggers bump `accounts.revision`
whenever anything that decides who pays changes — a grant or its allowances,
a subscription's plan, quantity, start or state, the account's time zone —
whatever code made the change.

Product lines get `late_usage_grace_days` (B7): how long after a month ends
its late usage is still accepted. Accounts get `timezone_before` and
`timezone_since` (A5): a new time zone takes effect from the next month.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allot.kit.types

revision: str = "3e5d0c9a4b17"
down_revision: str | None = "22a1ecec90cd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRANT_COLUMNS = "account_id, starts_at, ends_at, paused, claimed_at, revoked_at"
SUBSCRIPTION_COLUMNS = "account_id, product_line, plan_id, quantity, starts_at, state, canceled_at"

_BUMP = "UPDATE accounts SET revision = revision + 1 WHERE id = {who}"

SQLITE_TRIGGERS = [
    *(
        f"CREATE TRIGGER {table}_sources_added AFTER INSERT ON {table}"
        f" BEGIN {_BUMP.format(who='NEW.account_id')}; END"
        for table in ("grants", "subscriptions")
    ),
    *(
        f"CREATE TRIGGER {table}_sources_removed AFTER DELETE ON {table}"
        f" BEGIN {_BUMP.format(who='OLD.account_id')}; END"
        for table in ("grants", "subscriptions")
    ),
    *(
        f"CREATE TRIGGER {table}_sources_changed AFTER UPDATE OF {columns} ON {table}"
        f" BEGIN {_BUMP.format(who='OLD.account_id')};"
        f" {_BUMP.format(who='NEW.account_id')} AND NEW.account_id IS NOT OLD.account_id; END"
        for table, columns in (("grants", GRANT_COLUMNS), ("subscriptions", SUBSCRIPTION_COLUMNS))
    ),
    *(
        f"CREATE TRIGGER grant_allowances_sources_{verb} AFTER {event} ON grant_allowances"
        f" BEGIN {_BUMP.format(who=f'(SELECT account_id FROM grants WHERE id = {row}.grant_id)')};"
        " END"
        for verb, event, row in (
            ("added", "INSERT", "NEW"),
            ("removed", "DELETE", "OLD"),
            ("changed", "UPDATE", "NEW"),
        )
    ),
    "CREATE TRIGGER accounts_timezone_changed AFTER UPDATE OF timezone ON accounts"
    f" WHEN NEW.timezone IS NOT OLD.timezone BEGIN {_BUMP.format(who='NEW.id')}; END",
]

POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION allot_sources_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE accounts SET revision = revision + 1 WHERE id = OLD.account_id;
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.account_id IS DISTINCT FROM OLD.account_id)
  THEN
    UPDATE accounts SET revision = revision + 1 WHERE id = NEW.account_id;
  END IF;
  RETURN NULL;
END
$body$""",
    """CREATE FUNCTION allot_grant_sources_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE accounts SET revision = revision + 1
     WHERE id = (SELECT account_id FROM grants WHERE id = OLD.grant_id);
  ELSE
    UPDATE accounts SET revision = revision + 1
     WHERE id = (SELECT account_id FROM grants WHERE id = NEW.grant_id);
  END IF;
  RETURN NULL;
END
$body$""",
    """CREATE FUNCTION allot_timezone_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  NEW.revision := NEW.revision + 1;
  RETURN NEW;
END
$body$""",
    f"CREATE TRIGGER grants_sources_changed AFTER INSERT OR DELETE OR UPDATE OF {GRANT_COLUMNS}"
    " ON grants FOR EACH ROW EXECUTE FUNCTION allot_sources_changed()",
    "CREATE TRIGGER subscriptions_sources_changed AFTER INSERT OR DELETE OR UPDATE OF"
    f" {SUBSCRIPTION_COLUMNS} ON subscriptions FOR EACH ROW EXECUTE FUNCTION"
    " allot_sources_changed()",
    "CREATE TRIGGER grant_allowances_sources_changed AFTER INSERT OR DELETE OR UPDATE"
    " ON grant_allowances FOR EACH ROW EXECUTE FUNCTION allot_grant_sources_changed()",
    "CREATE TRIGGER accounts_timezone_changed BEFORE UPDATE OF timezone ON accounts"
    " FOR EACH ROW WHEN (NEW.timezone IS DISTINCT FROM OLD.timezone)"
    " EXECUTE FUNCTION allot_timezone_changed()",
]


def upgrade() -> None:
    op.create_table(
        "usage_routes",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("starts", allot.kit.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends", allot.kit.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes", allot.kit.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_usage_routes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "metric", name=op.f("pk_usage_routes")),
    )
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("late_usage_grace_days", sa.Integer(), server_default="35", nullable=False)
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone_before", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("timezone_since", allot.kit.types.UTCDateTime(timezone=True), nullable=True)
        )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
    else:
        op.execute("DROP TRIGGER IF EXISTS grants_sources_changed ON grants")
        op.execute("DROP TRIGGER IF EXISTS subscriptions_sources_changed ON subscriptions")
        op.execute("DROP TRIGGER IF EXISTS grant_allowances_sources_changed ON grant_allowances")
        op.execute("DROP TRIGGER IF EXISTS accounts_timezone_changed ON accounts")
        for function in (
            "allot_sources_changed",
            "allot_grant_sources_changed",
            "allot_timezone_changed",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("usage_routes")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("timezone_since")
        batch_op.drop_column("timezone_before")
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.drop_column("late_usage_grace_days")
