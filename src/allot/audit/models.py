"""The audit log's one table. The database itself refuses to change or delete a row
(triggers made by the migration, on SQLite and PostgreSQL alike): the log is append-only
whoever holds a connection, the application included."""

from __future__ import annotations

import sqlalchemy as sa

from allot.kit.acting import ActorKind
from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import UTCDateTime

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor_kind", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("actor_role", sa.String(32), nullable=False),
    sa.Column("acting_for", sa.String(64), nullable=True),
    sa.Column("change", sa.String(64), nullable=False),  # e.g. code.paused, invoice.voided
    sa.Column("subject_kind", sa.String(32), nullable=False),  # e.g. code, invoice
    sa.Column("subject_id", sa.String(128), nullable=False),
    # Whose data it touched (no foreign key: the log outlives what it names).
    sa.Column("account_id", sa.String(64), nullable=True),
    sa.Column("partner_id", sa.String(64), nullable=True),
    sa.Column("before", sa.JSON, nullable=True),  # null: it did not exist
    sa.Column("after", sa.JSON, nullable=True),  # null: it no longer exists
    one_of("actor_kind", ActorKind),
    sa.Index("ix_audit_events_at", "at"),
    sa.Index("ix_audit_events_account", "account_id", "id"),
    sa.Index("ix_audit_events_partner", "partner_id", "id"),
    sa.Index("ix_audit_events_subject", "subject_kind", "subject_id", "id"),
)
