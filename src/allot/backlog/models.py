"""Orders and the Reviews gate's counters (R1-R5, U5)."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import metadata, one_of
from allot.kit.types import ExactDecimal, UTCDateTime


class RequestState(StrEnum):
    """An order's review request (R5): what the platform is to do with it."""

    TO_SEND = "to_send"  # released: send it
    WAITING = "waiting"  # in the backlog, released at the next month or top-up (R3)
    ARCHIVED = "archived"  # never to be sent (R4)
    SENT = "sent"  # the platform acknowledged sending it


class OrderOutcome(StrEnum):
    """An order's fate on arrival: the gate's `core.backlog.Outcome`, or overage (U4)."""

    WITHIN = "within"
    TOP_UP = "top_up"
    WAITING = "waiting"
    ARCHIVED = "archived"
    COUNTED = "counted"
    OVERAGE = "overage"  # Loyalty and Full Suite: past the limit, billed; never held back


class PaidBy(StrEnum):
    PLAN = "plan"  # counted within the plan's order limit
    TOP_UP = "top_up"  # past it, paid by the top-up (R2)


# One row per order the platform reported, deduplicated by the platform's order id.
# The row is also the order's review request: `state` says what the platform is
# to do with it (R5); an order excluded from reviews has no request (state NULL).
# No foreign key to accounts, as for the usage ledger's entries and counters: on
# PostgreSQL its check runs once per inserted row (measured: ~5 µs of server CPU
# an order, over a third of the insert), and the only writer, `ingest_orders`,
# holds the account's row lock in the same transaction.
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(128), primary_key=True),
    sa.Column("placed_at", UTCDateTime, nullable=False),
    sa.Column("month", sa.String(7), nullable=False),  # placed, in the account's time zone (U5)
    sa.Column("place", sa.Integer, nullable=False),  # its place in that month's count, from 1
    sa.Column("excluded", sa.Boolean, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    # to_send | waiting | archived | sent; NULL: no request (excluded, or no reviews)
    sa.Column("state", sa.String(16), nullable=True),
    sa.Column("paid_by", sa.String(16), nullable=True),  # plan | top_up, once released
    sa.Column("released_month", sa.String(7), nullable=True),  # whose limit it counts against
    sa.Column("released_at", UTCDateTime, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    one_of("outcome", OrderOutcome),
    one_of("state", RequestState, nullable=True),
    one_of("paid_by", PaidBy, nullable=True),
    sa.Index("ix_orders_requests", "account_id", "state", "placed_at", "order_id"),
)

# What each month of an account has let through: the order count (every order,
# U5), places used within the limit and paid by the top-up, and the top-up's
# exact amount (summed at the price of the plan at the time, billed on the 1st).
review_months = sa.Table(
    "review_months",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("within", sa.Integer, nullable=False),
    sa.Column("topped_up", sa.Integer, nullable=False),
    sa.Column("top_up_amount", ExactDecimal, nullable=False),
    sa.CheckConstraint("orders >= 0 AND within >= 0 AND topped_up >= 0", name="counts"),
)

# The account's gate: its top-up limit (R2), the backlog's size (the number of
# orders in state 'waiting'), and the last month whose start released the backlog.
review_gates = sa.Table(
    "review_gates",
    metadata,
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("top_up", sa.String(16), nullable=False),  # none | defined | unlimited
    sa.Column("top_up_cap", ExactDecimal, nullable=True),  # defined only
    sa.Column("waiting", sa.Integer, nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("top_up IN ('none', 'defined', 'unlimited')", name="top_up"),
    sa.CheckConstraint("waiting >= 0", name="waiting"),
)
