"""the audit log (S1): every change, by whom, before and after; append-only at the database

`audit_events` takes rows and never gives them back: an UPDATE, DELETE (and on
PostgreSQL a TRUNCATE) of it is refused by a trigger, whoever holds the connection.

Revision ID: b6d2f9a4c1e8
Revises: a9d4e2c7b513
Create Date: 2026-12-08 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allot.kit.types

revision: str = "b6d2f9a4c1e8"
down_revision: str | None = "a9d4e2c7b513"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "audit_events is append-only"
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Instant = allot.kit.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("at", Instant, nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("acting_for", sa.String(64), nullable=True),
        sa.Column("change", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=True),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.CheckConstraint(
            "actor_kind IN ('api_key', 'user', 'portal', 'cli', 'system')",
            name=op.f("ck_audit_events_actor_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_account", "audit_events", ["account_id", "id"])
    op.create_index("ix_audit_events_partner", "audit_events", ["partner_id", "id"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_kind", "subject_id", "id"])
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{REFUSED}' USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse()"
    )


def downgrade() -> None:
    op.drop_table("audit_events")  # its triggers go with it
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION audit_events_refuse()")
