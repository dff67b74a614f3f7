"""Webhook endpoints, the event outbox, one delivery per (event, endpoint) and its attempts."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import UTCDateTime

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", sa.JSON, nullable=False),  # a list of names from EVENT_TYPES
    # The `whsec_…` signing secret, stored as is: unlike an API key (only compared,
    # so stored hashed), every delivery needs the secret itself to sign with.
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    # A removed endpoint stays (disabled) so that its delivery log keeps its meaning.
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The outbox: written in the transaction of the change it reports.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("account_id", sa.String(64), nullable=True),  # None for platform-wide events
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


class DeliveryState(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # every attempt of the schedule failed; redeliver starts another


webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", BigId, sa.ForeignKey("webhook_events.id"), nullable=False),
    sa.Column("endpoint_id", BigId, sa.ForeignKey("webhook_endpoints.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),  # in the current schedule
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),  # set while pending
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    # A worker that claimed the row owns it until then; a crashed worker's rows come back.
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", "endpoint_id"),
    one_of("state", DeliveryState),
    sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
)

# One row per HTTP attempt: the delivery log.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", BigId, sa.ForeignKey("webhook_deliveries.id"), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),  # None: no HTTP answer
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)
