"""The usage ledger: events (one per idempotent request), entries, counters, seat holds.

* `usage_events` — one row per accepted request, unique per (account, idempotency key);
  a retry finds it and replays the first answer (U1).
* `usage_entries` — append-only; each says which source paid (U3) and carries the
  global sequence `seq`. Gauge releases are negative entries.
* `usage_counters` — the running sum of entries per (account, metric, period,
  source), read by the billing page; `CHECK (used <= granted)` wherever a
  source has a limit. `allot verify` proves counters equal the ledger.
* `seat_holds` — who holds which seat from which source, from when to when;
  extra seat-days are counted from them (U6).
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.core.allocation import Outcome, SourceKind
from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import UTCDateTime

GAUGE_PERIOD = "gauge"  # gauges are levels, not monthly sums


class UsageAction(StrEnum):
    """What a usage event did."""

    CONSUME = "consume"  # a counter's units (U2)
    SEAT_TAKE = "seat_take"  # a gauge's seat, taken (U6)
    SEAT_RELEASE = "seat_release"
    SEAT_MOVE = "seat_move"  # a seat moved to a better source when one freed up
    BACKLOG_RELEASE = "backlog_release"  # reviews let through from the backlog (R3)


usage_events = sa.Table(
    "usage_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("holder", sa.String(200), nullable=True),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.UniqueConstraint("account_id", "idempotency_key", name="uq_usage_events_key"),
    one_of("action", UsageAction),
    one_of("outcome", Outcome),
)

usage_entries = sa.Table(
    "usage_entries",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", BigId, sa.ForeignKey("usage_events.id"), nullable=False),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_kind", sa.String(16), nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    one_of("source_kind", SourceKind),
    sa.Index("ix_usage_entries_account_period", "account_id", "period", "metric"),
    sa.Index("ix_usage_entries_event", "event_id"),
)

usage_counters = sa.Table(
    "usage_counters",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("source_kind", sa.String(16), nullable=False),
    sa.Column("used", sa.BigInteger, nullable=False),
    sa.Column("granted", sa.BigInteger, nullable=True),  # NULL: the source has no limit
    sa.CheckConstraint("used >= 0", name="used_not_negative"),
    sa.CheckConstraint("granted IS NULL OR used <= granted", name="used_within_granted"),
    one_of("source_kind", SourceKind),
)

seat_holds = sa.Table(
    "seat_holds",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_kind", sa.String(16), nullable=False),
    sa.Column("taken_at", UTCDateTime, nullable=False),
    sa.Column("released_at", UTCDateTime, nullable=True),
    one_of("source_kind", SourceKind),
    sa.Index(
        "uq_seat_holds_open",
        "account_id",
        "metric",
        "holder",
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    ),
    sa.Index("ix_seat_holds_account", "account_id", "source_kind"),
)

# One row per allowance alert sent (U7): 80 % and 100 % of a source's monthly
# allowance, once per (account, metric, source, month, threshold).
usage_alerts = sa.Table(
    "usage_alerts",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("threshold", sa.Integer, primary_key=True),
    sa.Column("sent_at", UTCDateTime, nullable=False),
)

# The consume fast path's learned routes (see `allot.usage.fastpath`): which
# source pays the next unit of a metric, learned by the full waterfall. A route
# lives here, written in the transaction that learned it, so a rollback takes
# it back and every process reads the same one. It holds only while the
# account is at `revision` (bumped by database triggers whenever a grant, a
# subscription or the time zone changes) and for instants in [starts, ends).
usage_routes = sa.Table(
    "usage_routes",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("starts", UTCDateTime, nullable=False),
    sa.Column("ends", UTCDateTime, nullable=False),
    sa.Column("closes", UTCDateTime, nullable=False),  # B7: when the month closes
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_kind", sa.String(16), nullable=False),
    sa.Column("granted", sa.BigInteger, nullable=True),  # NULL: the policy's unlimited source
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    one_of("source_kind", SourceKind),
    one_of("outcome", Outcome),
)
