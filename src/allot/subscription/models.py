"""The subscriptions table: at most one live subscription per account and product line."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import UTCDateTime


class SubscriptionState(StrEnum):
    ACTIVE = "active"
    PAST_DUE = "past_due"  # a payment failed; dunning is under way (P2)
    CANCELED = "canceled"


class ChangeState(StrEnum):
    """A plan or quantity change: applied, waiting for the renewal, or replaced by a later one."""

    APPLIED = "applied"
    SCHEDULED = "scheduled"
    SUPERSEDED = "superseded"


class PlanDirection(StrEnum):
    UPGRADE = "upgrade"  # at once, prorated (B4)
    DOWNGRADE = "downgrade"  # at the renewal


class QuantityDirection(StrEnum):
    INCREASE = "increase"  # at once, prorated (C3)
    DECREASE = "decrease"  # at the renewal


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
    # The billing calendar (B1, B2): how many months of the contract have been invoiced, the date
    # the next one is due, the next calendar month whose usage is still to bill,
    # and a downgrade waiting for the renewal (B4).
    sa.Column("billed_months", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_bill_on", sa.Date, nullable=False),
    sa.Column("usage_month", sa.String(7), nullable=False),
    sa.Column("pending_plan_id", BigId, sa.ForeignKey("plans.id"), nullable=True),
    # The quantity in force (C3, B4): `quantity` since the instant `quantity_from` (NULL: since
    # the start), and a decrease waiting for the renewal: `pending_quantity` from the instant
    # `pending_quantity_at` (local midnight of that renewal). Before `quantity_from`, the
    # applied rows of `subscription_quantity_changes` say what was in force.
    sa.Column("quantity_from", UTCDateTime, nullable=True),
    sa.Column("pending_quantity", sa.Integer, nullable=True),
    sa.Column("pending_quantity_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint(
        "(pending_quantity IS NULL) = (pending_quantity_at IS NULL)", name="pending_quantity_dated"
    ),
    sa.CheckConstraint(
        "pending_quantity IS NULL OR (pending_quantity > 0 AND pending_quantity < quantity)",
        name="pending_quantity_is_a_decrease",
    ),
    one_of("state", SubscriptionState),
    sa.Index(
        "uq_subscriptions_live_line",
        "account_id",
        "product_line",
        unique=True,
        sqlite_where=sa.text("state <> 'canceled'"),
        postgresql_where=sa.text("state <> 'canceled'"),
    ),
    sa.Index("ix_subscriptions_next_bill_on", "next_bill_on"),
)

# Every plan change (B4): upgrades apply at once with a prorated charge,
# downgrades wait for the renewal. Upgrades also waive last month's overage
# where the product line says so (B3).
subscription_changes = sa.Table(
    "subscription_changes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", BigId, sa.ForeignKey("subscriptions.id"), nullable=False),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("from_plan_id", BigId, sa.ForeignKey("plans.id"), nullable=False),
    sa.Column("to_plan_id", BigId, sa.ForeignKey("plans.id"), nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    one_of("direction", PlanDirection),
    one_of("state", ChangeState),
    sa.Index("ix_subscription_changes_sub", "subscription_id", "requested_at"),
)

# Every quantity change (C3, B4): an increase applies at once with a prorated charge
# (the invoice's billing key is the change's id), a decrease waits for the renewal.
# A later request supersedes a scheduled decrease. `effective_at` is the instant the
# new quantity is in force from: the request for an increase, the renewal's local
# midnight for a decrease.
subscription_quantity_changes = sa.Table(
    "subscription_quantity_changes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", BigId, sa.ForeignKey("subscriptions.id"), nullable=False),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("from_quantity", sa.Integer, nullable=False),
    sa.Column("to_quantity", sa.Integer, nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),  # account-local
    sa.Column("effective_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    one_of("direction", QuantityDirection),
    one_of("state", ChangeState),
    sa.CheckConstraint("to_quantity > 0", name="to_quantity_positive"),
    sa.CheckConstraint(
        "(direction = 'increase') = (to_quantity > from_quantity)", name="direction_matches"
    ),
    sa.Index("ix_subscription_quantity_changes_sub", "subscription_id", "effective_at"),
)
