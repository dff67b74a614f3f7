"""The fixed registry of webhook event types; later issues add theirs here.

Standard library only: the command line names the types in its help.
"""

from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = (
    "usage.threshold_reached",
    "usage.overage_recorded",
    "subscription.updated",
    "invoice.finalized",
    "invoice.paid",
    "invoice.voided",
    "credit_note.issued",
    "referral.reward_earned",
    "review_requests.released",
    "payment.succeeded",
    "payment.failed",
    "payment.requires_action",
    "subscription.past_due",
    "dunning.exhausted",
    "payment.refunded",
    "payment.refund_failed",
)
