"""The e-mail outbox: one row per message, with its delivery state."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import UTCDateTime


class EmailKind(StrEnum):
    """What the outbox may carry; a message of any other kind is refused when queued."""

    ACTIVATION_LINK = "activation_link"  # a partner sends a business its Access Code (K2)
    PAYMENT_FAILED = "payment_failed"  # P2: the first failure, with "Update my payment method"
    PAYMENT_ACTION = "payment_action"  # P4: the cardholder must confirm a payment
    USAGE_ALERT = "usage_alert"  # U7: 80 % and 100 % of an allowance
    SIGN_IN_LINK = "sign_in_link"  # W1: a business asks for a link to its billing page
    PARTNER_SIGN_IN_LINK = "partner_sign_in_link"  # W3: a partner's user asks for a link


class EmailState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


emails = sa.Table(
    "emails",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    # Whom the message is about, for the lists that show it; none is required.
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=True),
    sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id"), nullable=True),
    sa.Column("grant_id", BigId, sa.ForeignKey("grants.id"), nullable=True),
    sa.Column("to_address", sa.String(320), nullable=False),
    sa.Column("reply_to", sa.String(320), nullable=True),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # text/plain, UTF-8
    sa.Column("html", sa.Text, nullable=True),  # text/html beside it, when the message has one
    # The local part of Message-ID, fixed when queued so that every attempt
    # sends the same id and a receiving server can drop a duplicate.
    sa.Column("message_key", sa.String(64), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),  # set while pending
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    one_of("kind", EmailKind),
    one_of("state", EmailState),
    sa.Index("ix_emails_due", "state", "next_attempt_at"),
    sa.Index("ix_emails_grant", "grant_id", "id"),
    sa.Index("ix_emails_to", "to_address", "created_at"),
)
