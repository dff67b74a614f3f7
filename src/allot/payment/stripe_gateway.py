"""The payment gateway on Stripe, through the official SDK (PaymentIntents, SetupIntents).

Only an operator who configured Stripe loads this module, so the SDK's import cost is
paid by them alone. Each gateway holds its own `stripe.StripeClient`: nothing here reads
or sets the SDK's module-wide settings, so two gateways in one process never share a key
or an address.

The card never passes through allot: Stripe.js confirms a SetupIntent in the page, and
this adapter sees only the PaymentMethod's id and what a person recognizes of the card.

Exactly once. `charge` and `refund` send allot's key as Stripe's Idempotency-Key: the
same key again returns the first PaymentIntent (or Refund), or replays its decline.
Stripe keeps those keys for 24 hours only, and a key it has forgotten is simply a new
request: a charging round resumed after that (allot down for a weekend, say) would charge
the card a second time. So each call first looks for what an earlier call with the key
made, by the key written into its metadata (`allot_key`): the customer's latest
PaymentIntents, the payment's Refunds. These are plain lists, exact the moment Stripe
answers a write; Stripe's Search API is not, as the SDK says (searchable "in less than a
minute", later during outages), and is missing in some regions. A charge made less than a
page (100) of the customer's PaymentIntents ago is found at any age; the Idempotency-Key
covers whatever a lookup and a create racing each other could miss. The lookup is one
read more per call.

Declines come back as outcomes, never as errors: FAILED with Stripe's decline code and
whether it is hard (`HARD_DECLINES`), or REQUIRES_ACTION when the card wants 3-D Secure
and the cardholder must come back. Everything else the SDK raises (unreachable, refused
key, invalid request, idempotency mismatch) becomes a `GatewayError`, for the caller to
repeat with the same key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import stripe

from allot.payment.gateway import (
    Card,
    CardSetup,
    ChargeStatus,
    GatewayError,
    Outcome,
    ProviderEvent,
    Refund,
)

KEY_FIELD = "allot_key"  # the metadata field that carries allot's key on what it creates
LOOKBACK = 100  # how many of the customer's latest PaymentIntents a lookup reads (one page)

# Declines that retrying the same card cannot turn into a payment: allot stops retrying
# until the card changes (P4). Sorted by Stripe's decline-code reference
# (docs.stripe.com/declines/codes): for each of these its next step is another card,
# corrected card details, or the cardholder settling it with the issuer, never a retry.
# Lost, stolen and pickup are also the issuer's "never approve" answers, which Visa and
# Mastercard count against a merchant that keeps retrying them.
HARD_DECLINES = frozenset(
    {
        "lost_card",  # reported lost: the issuer will not approve this card again
        "stolen_card",  # reported stolen: likewise
        "pickup_card",  # the issuer wants the card retained (lost, stolen, blocked)
        "restricted_card",  # can't be used for this payment (possibly lost or stolen)
        "fraudulent",  # Stripe suspects fraud: a retry only looks like more of it
        "merchant_blacklist",  # on the account's own block list: every retry is blocked
        "do_not_try_again",  # the issuer says so
        "expired_card",  # only a new card (or a new expiry) can pay
        "invalid_account",  # the card, or the account behind it, is no longer valid
        "new_account_information_available",  # the card was replaced: new details needed
        "card_not_supported",  # the card can't make this kind of purchase
        "currency_not_supported",  # the card can't pay in this currency
        "incorrect_number",  # the saved details are wrong: the cardholder must fix them
        "invalid_number",
        "incorrect_cvc",
        "invalid_cvc",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "incorrect_zip",
        "revocation_of_authorization",  # the cardholder stopped this merchant's payments
        "revocation_of_all_authorizations",
        "stop_payment_order",
        "testmode_decline",  # a test card in live mode: never payable
    }
)
# Soft (retried on allot's schedule): insufficient_funds, card_velocity_exceeded,
# withdrawal_count_limit_exceeded, generic_decline and card_declined, do_not_honor,
# call_issuer, processing_error, try_again_later, issuer_not_available,
# reenter_transaction, payment_intent_authentication_failure, and any code not listed:
# the balance, the issuer's mood or its systems can change by the next try.

# The issuer's own advice, when it gives one, beats the table (docs.stripe.com/declines/
# card#retrying-issuer-declines): do_not_try_again says it will never approve, and
# confirm_card_data that the card's details must be updated first.
HARD_ADVICE = frozenset({"do_not_try_again", "confirm_card_data"})

_AUTHENTICATION = "authentication_required"
_PAYMENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.requires_action",
        "payment_intent.processing",
        "payment_intent.canceled",
    }
)


class StripeGateway:
    name = "stripe"

    def __init__(
        self, *, api_key: str, webhook_secret: str | None, api_base: str | None = None
    ) -> None:
        # Two network retries (the SDK's client makes none by default): a blip costs a
        # second, not a round. Each retry carries the same Idempotency-Key, so it is safe.
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=2,
        )
        self._webhook_secret = webhook_secret

    def customer(self, *, account_id: str, email: str | None, name: str) -> str:
        params: stripe.params.CustomerCreateParams = {
            "name": name,
            "metadata": {"allot_account": account_id},
        }
        if email is not None:
            params["email"] = email
        options: stripe.RequestOptions = {"idempotency_key": f"allot-customer-{account_id}"}
        with _errors("creating the customer"):
            return self._client.v1.customers.create(params, options).id

    def start_card_setup(self, *, customer_ref: str) -> CardSetup:
        # usage=off_session: the card is saved to be charged while the cardholder is away,
        # so Stripe.js authenticates it for that now. Cards only: allot saves cards, and
        # without redirecting methods no return_url is wanted. (`allowed_payment_method_types`:
        # since API version 2026-09-30, Stripe refuses the older `payment_method_types`.)
        with _errors("starting the card setup"):
            setup = self._client.v1.setup_intents.create(
                {
                    "customer": customer_ref,
                    "usage": "off_session",
                    "allowed_payment_method_types": ["card"],
                }
            )
        if setup.client_secret is None:
            raise GatewayError(f"Stripe gave no client secret for the card setup {setup.id}")
        return CardSetup(setup_ref=setup.id, client_secret=setup.client_secret)

    def finish_card_setup(self, *, customer_ref: str, setup_ref: str) -> Card:
        with _errors("finishing the card setup"):
            setup = self._client.v1.setup_intents.retrieve(setup_ref)
            if _ref(setup.customer) not in (None, customer_ref):
                raise GatewayError(f"the card setup {setup_ref} belongs to another customer")
            if setup.status != "succeeded":
                raise GatewayError(
                    f"the card setup {setup_ref} is {setup.status}, not succeeded: the "
                    "cardholder has not confirmed it yet, or the card was refused"
                )
            method_ref = _ref(setup.payment_method)
            if method_ref is None:
                raise GatewayError(f"the card setup {setup_ref} saved no payment method")
            method = self._client.v1.payment_methods.retrieve(method_ref)
            if _ref(method.customer) != customer_ref:
                # Stripe attaches the card when a setup made for a customer succeeds;
                # localstripe does not. Either way allot charges only attached cards.
                method = self._client.v1.payment_methods.attach(
                    method_ref, {"customer": customer_ref}
                )
            # The default too, so that Stripe's own dashboard and receipts agree with allot.
            self._client.v1.customers.update(
                customer_ref, {"invoice_settings": {"default_payment_method": method_ref}}
            )
        card = method.card
        if card is None:
            raise GatewayError(f"the payment method {method_ref} is a {method.type}, not a card")
        return Card(
            method_ref=method_ref,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )

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
        with _errors("charging the card"):
            earlier = self._earlier_charge(customer_ref, key)
            if earlier is not None:
                return outcome_of(earlier)
            try:
                intent = self._client.v1.payment_intents.create(
                    {
                        "amount": amount_minor,
                        "currency": currency.lower(),
                        "customer": customer_ref,
                        "payment_method": method_ref,
                        "allowed_payment_method_types": ["card"],  # as for a setup
                        "confirm": True,
                        "off_session": True,
                        "description": description,
                        "metadata": {**metadata, KEY_FIELD: key},
                    },
                    {"idempotency_key": key},
                )
            except stripe.CardError as error:
                return self._declined(error)
        return outcome_of(intent)

    def find(self, *, customer_ref: str, key: str) -> Outcome | None:
        with _errors("looking the payment up"):
            earlier = self._earlier_charge(customer_ref, key)
        return None if earlier is None else outcome_of(earlier)

    def payment(self, *, provider_ref: str) -> Outcome:
        with _errors("reading the payment"):
            return outcome_of(self._client.v1.payment_intents.retrieve(provider_ref))

    def withdraw(self, *, provider_ref: str) -> Outcome:
        with _errors("canceling the payment"):
            intent = self._client.v1.payment_intents.retrieve(provider_ref)
            if intent.status in CANCELABLE:
                try:
                    intent = self._client.v1.payment_intents.cancel(provider_ref)
                except stripe.InvalidRequestError:  # it moved on meanwhile: what it is now
                    intent = self._client.v1.payment_intents.retrieve(provider_ref)
        return outcome_of(intent)

    def refund(self, *, provider_ref: str, amount_minor: int, key: str) -> Refund:
        with _errors("refunding the payment"):
            earlier = self._client.v1.refunds.list(
                {"payment_intent": provider_ref, "limit": LOOKBACK}
            )
            found = next((r for r in earlier.data if _key_of(r) == key), None)
            refund = found or self._client.v1.refunds.create(
                {
                    "payment_intent": provider_ref,
                    "amount": amount_minor,
                    "metadata": {KEY_FIELD: key},
                },
                {"idempotency_key": key},
            )
        reason = _field(refund, "failure_reason")
        return Refund(
            provider_ref=refund.id,
            amount_minor=refund.amount,
            succeeded=refund.status in ("succeeded", "pending"),
            message=f"Stripe refused the refund: {reason}" if reason else "",
        )

    def verify_event(self, *, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        if not self._webhook_secret:
            raise GatewayError("no Stripe webhook secret is configured: no event can be trusted")
        signature = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        if signature is None:
            raise GatewayError("the webhook carries no Stripe-Signature header")
        try:
            event = self._client.construct_event(payload, signature, self._webhook_secret)
        except stripe.SignatureVerificationError as error:
            raise GatewayError(f"the webhook's signature does not match: {error}") from error
        except ValueError as error:  # not JSON, or not an event
            raise GatewayError(f"the webhook is not a Stripe event: {error}") from error
        intent = event.data.object
        if event.type not in _PAYMENT_EVENTS or not isinstance(intent, stripe.PaymentIntent):
            return ProviderEvent(id=event.id, type=event.type, provider_ref=None, outcome=None)
        return ProviderEvent(
            id=event.id, type=event.type, provider_ref=intent.id, outcome=outcome_of(intent)
        )

    def _earlier_charge(self, customer_ref: str, key: str) -> stripe.PaymentIntent | None:
        """The PaymentIntent an earlier call with this key made, however long ago (see
        the module's docstring: Stripe forgets an Idempotency-Key after 24 hours)."""
        latest = self._client.v1.payment_intents.list({"customer": customer_ref, "limit": LOOKBACK})
        return next((intent for intent in latest.data if _key_of(intent) == key), None)

    def _declined(self, error: stripe.CardError) -> Outcome:
        """Stripe names the declined PaymentIntent in the error; an error that names only
        the charge (localstripe's do) is traced to its PaymentIntent through the charge."""
        detail = error.error
        intent = None
        if detail is not None and detail.payment_intent is None and detail.charge:
            charge = self._client.v1.charges.retrieve(detail.charge, {"expand": ["payment_intent"]})
            if isinstance(charge.payment_intent, stripe.PaymentIntent):
                intent = charge.payment_intent
        return decline_outcome(error, intent)


# The states a PaymentIntent may be canceled in: it waits, and no money has moved.
CANCELABLE = ("requires_action", "requires_confirmation", "requires_payment_method")


def outcome_of(intent: stripe.PaymentIntent) -> Outcome:
    """A PaymentIntent's state as allot's outcome: the one mapping behind `charge`,
    `payment` and events, so that all three agree on the same payment."""
    ref = intent.id
    match intent.status:
        case "succeeded":
            return Outcome(ChargeStatus.SUCCEEDED, provider_ref=ref)
        case "requires_action":
            return Outcome(
                ChargeStatus.REQUIRES_ACTION,
                provider_ref=ref,
                message="The cardholder must authenticate this payment.",
                client_secret=intent.client_secret,
            )
        case "processing" | "requires_capture":  # the money is on its way: an event follows
            return Outcome(ChargeStatus.PROCESSING, provider_ref=ref)
        case "canceled" | "requires_confirmation":  # no money moved, and none will
            return Outcome(
                ChargeStatus.FAILED,
                provider_ref=ref,
                decline_code=intent.status,
                message=f"The payment is {intent.status}.",
            )
    error = intent.last_payment_error  # requires_payment_method: the last try failed
    return _failure(
        intent,
        code=_field(error, "code"),
        decline_code=_field(error, "decline_code"),
        advice_code=_field(error, "advice_code"),
        message=_field(error, "message") or "The payment has not been made.",
    )


def decline_outcome(error: stripe.CardError, intent: stripe.PaymentIntent | None = None) -> Outcome:
    """A card error as an outcome; `intent` is the PaymentIntent when the error omits it."""
    detail = error.error
    if detail is None:
        return _failure(intent, code=error.code, message=error.user_message or "")
    return _failure(
        detail.payment_intent or intent,
        code=detail.code or error.code,
        decline_code=detail.decline_code,
        advice_code=detail.advice_code,
        message=detail.message or error.user_message or "",
    )


def is_hard(decline_code: str | None, advice_code: str | None = None) -> bool:
    return decline_code in HARD_DECLINES or advice_code in HARD_ADVICE


def _failure(
    intent: stripe.PaymentIntent | None,
    *,
    code: str | None,
    decline_code: str | None = None,
    advice_code: str | None = None,
    message: str,
) -> Outcome:
    """A failed try. Off session, a card that wants 3-D Secure fails with
    authentication_required: that is the cardholder's turn (REQUIRES_ACTION, confirmed
    in the page with the PaymentIntent's secret), never a decline."""
    ref = intent.id if intent is not None else None
    if _AUTHENTICATION in (code, decline_code):
        return Outcome(
            ChargeStatus.REQUIRES_ACTION,
            provider_ref=ref,
            message=message,
            client_secret=intent.client_secret if intent is not None else None,
        )
    reason = decline_code or code  # the most precise: card_declined says only "declined"
    return Outcome(
        ChargeStatus.FAILED,
        provider_ref=ref,
        decline_code=reason,
        hard=is_hard(reason, advice_code),
        message=message,
    )


@contextmanager
def _errors(doing: str) -> Iterator[None]:
    """Every SDK error but a decline, as the GatewayError the protocol promises."""
    try:
        yield
    except stripe.StripeError as error:
        raise GatewayError(f"Stripe failed while {doing}: {error}") from error


def _ref(value: Any) -> str | None:
    """An id whether Stripe sent the id or the object (expanded)."""
    if value is None or isinstance(value, str):
        return value
    return str(value.id)


def _field(obj: Any, name: str) -> str | None:
    """A field Stripe may leave out (its error objects omit what is null)."""
    value = getattr(obj, name, None) if obj is not None else None
    return value if isinstance(value, str) else None


def _key_of(obj: stripe.PaymentIntent | stripe.Refund) -> str | None:
    metadata = obj.metadata
    if metadata is None or KEY_FIELD not in metadata:
        return None
    return str(metadata[KEY_FIELD])
