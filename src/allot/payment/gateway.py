"""What allot asks of a payment provider (P1, P3, P4), and what it hears back.

allot never sees a card number: the provider holds the card and hands back a
reference to it (`Card.method_ref`) with what a person needs to recognize it
(brand, last four digits, expiry). Every call that moves money carries a key
the provider keeps (`charge(key=…)`, `refund(key=…)`): calling again with the
same key returns the first outcome and never charges twice. That is what makes
a crash safe: the charging round records an attempt and its key *before* it
calls the provider, and a round that finds an attempt left without its outcome
simply calls again with the same key (see `allot.payment.charging`).

Two adapters implement this protocol: `allot.payment.sandbox` (built in, test
cards, the default) and `allot.payment.stripe_gateway` (the official SDK).
Standard library only here, so that every layer may name these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # declined; `Outcome.hard` says whether a retry can help
    REQUIRES_ACTION = "requires_action"  # the cardholder must authenticate (never a failure)
    PROCESSING = "processing"  # the provider will tell later (a provider webhook)


@dataclass(frozen=True, slots=True)
class Card:
    """A saved card as allot keeps it: the provider's reference and what a person recognizes."""

    method_ref: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class CardSetup:
    """A card being saved: the provider's setup and the secret its page script confirms it with."""

    setup_ref: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the provider said of one charge."""

    status: ChargeStatus
    provider_ref: str | None = None  # the provider's id of the payment (a PaymentIntent's id)
    decline_code: str | None = None  # e.g. card_declined, insufficient_funds, lost_card
    hard: bool = False  # a hard decline: not retried until the card changes (P4)
    message: str = ""
    client_secret: str | None = None  # requires_action: what the page confirms the payment with


@dataclass(frozen=True, slots=True)
class Refund:
    provider_ref: str
    amount_minor: int
    succeeded: bool
    message: str = ""


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A provider's webhook, verified: the payment it is about and what happened to it."""

    id: str  # the provider's event id (a redelivery carries the same)
    type: str  # the provider's own name, e.g. payment_intent.succeeded
    provider_ref: str | None  # the payment it concerns, if any
    outcome: Outcome | None  # the payment's state as the event tells it


class GatewayError(Exception):
    """The provider could not be reached or refused the request itself (not a decline):
    the call may be repeated later with the same key."""


class PaymentGateway(Protocol):
    name: str

    def customer(self, *, account_id: str, email: str | None, name: str) -> str:
        """The provider's customer for an account (created once: keyed by the account)."""
        ...

    def start_card_setup(self, *, customer_ref: str) -> CardSetup:
        """Begin saving a card; the page confirms it with the secret (Stripe.js)."""
        ...

    def finish_card_setup(self, *, customer_ref: str, setup_ref: str) -> Card:
        """The card a confirmed setup saved, attached to the customer."""
        ...

    def charge(
        self,
        *,
        customer_ref: str,
        method_ref: str,
        amount_minor: int,
        currency: str,
        key: str,
        description: str,
        metadata: Mapping[str, str],
    ) -> Outcome:
        """Charge the saved card once for `key`: the same key returns the first outcome."""
        ...

    def find(self, *, customer_ref: str, key: str) -> Outcome | None:
        """What the provider did with `key`, charging nothing: None if it never saw it."""
        ...

    def payment(self, *, provider_ref: str) -> Outcome:
        """A payment's state now (after the cardholder authenticated, say)."""
        ...

    def withdraw(self, *, provider_ref: str) -> Outcome:
        """Cancel a payment still waiting on its cardholder, so that confirming it later
        charges nothing; the payment's state after (what it became, if it was too late)."""
        ...

    def refund(self, *, provider_ref: str, amount_minor: int, key: str) -> Refund:
        """Give back part or all of a payment, once for `key`."""
        ...

    def verify_event(self, *, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """A provider webhook checked against its signature; GatewayError if it fails."""
        ...
