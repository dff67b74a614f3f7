"""The subscriptions table: at most one live subscription per account and product line."""

from __future__ import annotations

import sqlalchemy as sa

from allot.kit.schema import BigId, metadata
from allot.kit.types import UTCDateTime

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("product_line", sa.String(64), nullable=False),
    sa.Column("plan_id", BigId, sa.ForeignKey("plans.id"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("started_on", sa.Date, nullable=False),  # the contract date, account-local
    sa.Column("starts_at", UTCDateTime, nullable=False),  # its first instant
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("canceled_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint("state IN ('active', 'past_due', 'canceled')", name="state"),
    sa.Index(
        "uq_subscriptions_live_line",
        "account_id",
        "product_line",
        unique=True,
        sqlite_where=sa.text("state <> 'canceled'"),
        postgresql_where=sa.text("state <> 'canceled'"),
    ),
)
