"""The Stripe adapter against a real localstripe server, over HTTP, through the real SDK.

The page's part (Stripe.js turning a card number into a PaymentMethod, confirming a
SetupIntent, the cardholder passing 3-D Secure) is played by the test through
localstripe's own endpoints for it; everything allot does goes through `StripeGateway`.
"""

from __future__ import annotations

import http.server
import json
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import stripe

from allot.payment.gateway import Card, ChargeStatus, GatewayError, Outcome, PaymentGateway
from allot.payment.stripe_gateway import HARD_DECLINES, StripeGateway, decline_outcome
from tests.payment import localstripe_server
from tests.payment.localstripe_server import API_KEY, free_port

SECRET = "whsec_allot_test"
GOOD = "4242424242424242"
DECLINED_AT_SETUP = "4000000000000002"  # Stripe's generic decline: refused when saved
DECLINED_AT_CHARGE = "4000000000000341"  # saves fine, every charge is declined
AUTHENTICATES = "4000002760003184"  # wants 3-D Secure for every payment
AUTHENTICATES_THEN_DECLINED = "4000008260003178"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with localstripe_server.running() as address:
        yield address


@pytest.fixture
def gateway(base: str) -> StripeGateway:
    return StripeGateway(api_key=API_KEY, webhook_secret=SECRET, api_base=base)


@pytest.fixture
def page(base: str) -> Page:
    return Page(base)


class Page:
    """What Stripe.js does in the cardholder's browser, against localstripe."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.stripe = stripe.StripeClient(API_KEY, base_addresses={"api": base})

    def card(self, number: str, exp_month: int = 12, exp_year: int = 2031) -> str:
        """A card as Stripe.js sends it: the number goes to the provider, never to allot."""
        card: stripe.params.PaymentMethodCreateParamsCard = {
            "number": number,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "cvc": "123",
        }
        return self.stripe.v1.payment_methods.create({"type": "card", "card": card}).id

    def confirm_setup(self, setup_ref: str, client_secret: str, method_ref: str) -> int:
        """Confirm a setup with a card, passing 3-D Secure if the card asks for it."""
        url = f"{self.base}/v1/setup_intents/{setup_ref}/confirm"
        secret = {"client_secret": client_secret, "key": "pk_test"}
        answer = httpx.post(url, data={"payment_method": method_ref, **secret})
        if answer.status_code == 200 and answer.json()["status"] == "requires_action":
            answer = httpx.post(url, data=secret)  # authenticated: Stripe.js confirms again
        return answer.status_code

    def authenticate(self, provider_ref: str, client_secret: str, *, success: bool) -> None:
        answer = httpx.post(
            f"{self.base}/v1/payment_intents/{provider_ref}/_authenticate",
            data={
                "client_secret": client_secret,
                "success": str(success).lower(),
                "key": "pk_test",
            },
        )
        assert answer.status_code in (200, 402), answer.text  # 402: declined once authenticated


def new_customer(gateway: PaymentGateway, email: str | None = "ada@example.com") -> str:
    # An account of its own each time: Stripe would hand an account's customer back.
    return gateway.customer(account_id=f"acc_{secrets.token_hex(6)}", email=email, name="Ada")


def save_card(gateway: PaymentGateway, page: Page, number: str, **expiry: int) -> tuple[str, Card]:
    customer = new_customer(gateway)
    setup = gateway.start_card_setup(customer_ref=customer)
    assert (
        page.confirm_setup(setup.setup_ref, setup.client_secret, page.card(number, **expiry)) == 200
    )
    return customer, gateway.finish_card_setup(customer_ref=customer, setup_ref=setup.setup_ref)


def charge(gateway: PaymentGateway, customer: str, card: Card, key: str) -> Outcome:
    return gateway.charge(
        customer_ref=customer,
        method_ref=card.method_ref,
        amount_minor=2500,
        currency="EUR",
        key=key,
        description="allot invoice INV-1",
        metadata={"invoice": "INV-1"},
    )


def test_a_saved_card_is_known_by_brand_last_four_and_expiry_never_its_number(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, GOOD, exp_month=7, exp_year=2031)

    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 7, 2031)
    assert GOOD not in repr(card)
    assert GOOD not in str(card)
    saved = page.stripe.v1.customers.retrieve(customer)
    assert saved.metadata is not None
    assert saved.metadata.to_dict().keys() == {"allot_account"}
    assert saved.invoice_settings is not None
    assert saved.invoice_settings.default_payment_method == card.method_ref
    assert page.stripe.v1.payment_methods.retrieve(card.method_ref).customer == customer


def test_a_setup_not_confirmed_or_refused_saves_no_card(gateway: StripeGateway, page: Page) -> None:
    customer = new_customer(gateway, email=None)
    pending = gateway.start_card_setup(customer_ref=customer)
    with pytest.raises(GatewayError, match="not succeeded"):
        gateway.finish_card_setup(customer_ref=customer, setup_ref=pending.setup_ref)

    refused = gateway.start_card_setup(customer_ref=customer)
    method = page.card(DECLINED_AT_SETUP)
    assert page.confirm_setup(refused.setup_ref, refused.client_secret, method) == 402
    with pytest.raises(GatewayError, match="canceled, not succeeded"):
        gateway.finish_card_setup(customer_ref=customer, setup_ref=refused.setup_ref)


def test_a_good_card_is_charged_read_back_and_partly_refunded(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, GOOD)

    outcome = charge(gateway, customer, card, key="attempt-good-1")

    assert outcome.status is ChargeStatus.SUCCEEDED
    assert outcome.provider_ref is not None
    assert outcome.provider_ref.startswith("pi_")
    assert gateway.payment(provider_ref=outcome.provider_ref).status is ChargeStatus.SUCCEEDED
    intent = page.stripe.v1.payment_intents.retrieve(outcome.provider_ref)
    assert (intent.amount, intent.currency, intent.customer) == (2500, "eur", customer)
    assert intent.description == "allot invoice INV-1"
    assert intent.metadata.to_dict() == {"invoice": "INV-1", "allot_key": "attempt-good-1"}

    refund = gateway.refund(provider_ref=outcome.provider_ref, amount_minor=1000, key="refund-1")
    assert refund.succeeded
    assert refund.amount_minor == 1000
    assert refund.provider_ref.startswith("re_")


def test_the_same_key_charges_and_refunds_once(gateway: StripeGateway, page: Page) -> None:
    customer, card = save_card(gateway, page, GOOD)

    first = charge(gateway, customer, card, key="attempt-once")
    again = charge(gateway, customer, card, key="attempt-once")
    other = charge(gateway, customer, card, key="attempt-other")

    assert again == first
    assert other.provider_ref != first.provider_ref
    assert first.provider_ref is not None
    intents = page.stripe.v1.payment_intents.list({"customer": customer}).data
    assert {i.id for i in intents} == {first.provider_ref, other.provider_ref}
    refunds = [
        gateway.refund(provider_ref=first.provider_ref, amount_minor=500, key="refund-once")
        for _ in range(2)
    ]
    assert refunds[0] == refunds[1]
    listed = page.stripe.v1.refunds.list({"payment_intent": first.provider_ref}).data
    assert [r.id for r in listed] == [refunds[0].provider_ref]


def test_a_card_that_saves_but_is_declined_fails_softly_and_says_so_again(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, DECLINED_AT_CHARGE)

    outcome = charge(gateway, customer, card, key="attempt-declined")

    assert outcome.status is ChargeStatus.FAILED
    assert (outcome.decline_code, outcome.hard) == ("card_declined", False)
    assert outcome.message == "Your card was declined."
    assert outcome.provider_ref is not None
    assert outcome.provider_ref.startswith("pi_")
    assert gateway.payment(provider_ref=outcome.provider_ref) == outcome
    assert charge(gateway, customer, card, key="attempt-declined") == outcome  # no second try


def test_a_card_wanting_authentication_waits_for_the_cardholder_then_succeeds(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, AUTHENTICATES)

    outcome = charge(gateway, customer, card, key="attempt-3ds-ok")

    assert outcome.status is ChargeStatus.REQUIRES_ACTION
    assert outcome.provider_ref is not None
    assert outcome.client_secret is not None
    assert outcome.client_secret.startswith(outcome.provider_ref + "_secret_")
    page.authenticate(outcome.provider_ref, outcome.client_secret, success=True)
    assert gateway.payment(provider_ref=outcome.provider_ref).status is ChargeStatus.SUCCEEDED


def test_a_failed_authentication_is_a_soft_failure_not_a_pending_action(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, AUTHENTICATES)
    outcome = charge(gateway, customer, card, key="attempt-3ds-failed")
    assert outcome.provider_ref is not None
    assert outcome.client_secret is not None

    page.authenticate(outcome.provider_ref, outcome.client_secret, success=False)

    after = gateway.payment(provider_ref=outcome.provider_ref)
    assert after.status is ChargeStatus.FAILED
    assert (after.decline_code, after.hard) == ("payment_intent_authentication_failure", False)


def test_a_payment_waiting_for_the_cardholder_is_withdrawn_and_cannot_be_confirmed_after(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, AUTHENTICATES)
    waiting = charge(gateway, customer, card, key="attempt-3ds-withdrawn")
    assert waiting.provider_ref is not None
    assert waiting.client_secret is not None

    withdrawn = gateway.withdraw(provider_ref=waiting.provider_ref)

    assert (withdrawn.status, withdrawn.decline_code) == (ChargeStatus.FAILED, "canceled")
    answer = httpx.post(
        f"{page.base}/v1/payment_intents/{waiting.provider_ref}/_authenticate",
        data={"client_secret": waiting.client_secret, "success": "true", "key": "pk_test"},
    )
    assert answer.status_code >= 400  # nothing left to confirm
    assert gateway.payment(provider_ref=waiting.provider_ref).decline_code == "canceled"


def test_a_payment_confirmed_before_it_is_withdrawn_stays_paid(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, AUTHENTICATES)
    waiting = charge(gateway, customer, card, key="attempt-3ds-too-late")
    assert waiting.provider_ref is not None
    assert waiting.client_secret is not None
    page.authenticate(waiting.provider_ref, waiting.client_secret, success=True)

    assert gateway.withdraw(provider_ref=waiting.provider_ref).status is ChargeStatus.SUCCEEDED


def test_a_card_declined_after_authentication_fails(gateway: StripeGateway, page: Page) -> None:
    customer, card = save_card(gateway, page, AUTHENTICATES_THEN_DECLINED)
    outcome = charge(gateway, customer, card, key="attempt-3ds-declined")
    assert outcome.provider_ref is not None
    assert outcome.client_secret is not None

    page.authenticate(outcome.provider_ref, outcome.client_secret, success=True)

    after = gateway.payment(provider_ref=outcome.provider_ref)
    assert (after.status, after.decline_code, after.hard) == (
        ChargeStatus.FAILED,
        "card_declined",
        False,
    )


# localstripe declines a charge only as `card_declined`, with no decline code: the rest of
# Stripe's declines are read here from the error bodies Stripe sends (as documented in its
# API reference), turned into the SDK's own CardError the way its HTTP client does it.
def stripe_decline(code: str, decline_code: str | None = None, **extra: str) -> stripe.CardError:
    intent = {
        "id": "pi_declined",
        "object": "payment_intent",
        "client_secret": "pi_declined_secret_x",
    }
    body: dict[str, Any] = {
        "type": "card_error",
        "code": code,
        "message": "Your card was declined.",
        "payment_intent": intent,
        **extra,
    }
    if decline_code is not None:
        body["decline_code"] = decline_code
    return stripe.CardError(  # type: ignore[no-untyped-call]  # the SDK leaves it untyped
        body["message"], None, code, json.dumps({"error": body}), 402, {"error": body}
    )


@pytest.mark.parametrize(
    ("error", "decline_code", "hard"),
    [
        (stripe_decline("card_declined", "generic_decline"), "generic_decline", False),
        (stripe_decline("card_declined", "insufficient_funds"), "insufficient_funds", False),
        (stripe_decline("card_declined", "try_again_later"), "try_again_later", False),
        (stripe_decline("processing_error"), "processing_error", False),
        (stripe_decline("card_declined", "lost_card"), "lost_card", True),
        (stripe_decline("card_declined", "stolen_card"), "stolen_card", True),
        (stripe_decline("card_declined", "pickup_card"), "pickup_card", True),
        (stripe_decline("expired_card", "expired_card"), "expired_card", True),
        (stripe_decline("incorrect_number"), "incorrect_number", True),
        (stripe_decline("invalid_expiry_year"), "invalid_expiry_year", True),
        (
            stripe_decline("card_declined", "do_not_honor", advice_code="do_not_try_again"),
            "do_not_honor",
            True,
        ),
    ],
)
def test_stripes_declines_are_hard_only_when_a_retry_cannot_help(
    error: stripe.CardError, decline_code: str, hard: bool
) -> None:
    outcome = decline_outcome(error)

    assert outcome.status is ChargeStatus.FAILED
    assert (outcome.decline_code, outcome.hard) == (decline_code, hard)
    assert outcome.provider_ref == "pi_declined"
    assert outcome.message == "Your card was declined."


def test_an_off_session_charge_needing_authentication_is_never_a_decline() -> None:
    for error in (
        stripe_decline("authentication_required", "authentication_required"),
        stripe_decline("card_declined", "authentication_required"),
    ):
        outcome = decline_outcome(error)
        assert outcome.status is ChargeStatus.REQUIRES_ACTION
        assert (outcome.provider_ref, outcome.client_secret) == (
            "pi_declined",
            "pi_declined_secret_x",
        )
    assert "authentication_required" not in HARD_DECLINES
    assert {"insufficient_funds", "generic_decline", "card_declined"}.isdisjoint(HARD_DECLINES)


@dataclass
class Receiver:
    """A provider-webhook endpoint on 127.0.0.1: it keeps each body and its headers."""

    port: int = 0
    arriving: queue.Queue[tuple[bytes, dict[str, str]]] = field(default_factory=queue.Queue)
    arrived: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    def wait_for(self, type_: str, object_id: str) -> tuple[bytes, dict[str, str]]:
        """The event of this type about this object, in whatever order events came."""
        deadline = time.monotonic() + 10
        while True:
            for body, headers in self.arrived:
                event = json.loads(body)
                if event["type"] == type_ and event["data"]["object"]["id"] == object_id:
                    return body, headers
            self.arrived.append(self.arriving.get(timeout=max(0, deadline - time.monotonic())))


@pytest.fixture
def receiver(base: str) -> Iterator[Receiver]:
    got = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.arriving.put((body, dict(self.headers.items())))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook = f"allot-{got.port}"  # localstripe keeps it (it has no way to drop one): harmless
    config = {"url": f"http://127.0.0.1:{got.port}/hooks/stripe", "secret": SECRET}
    assert httpx.post(f"{base}/_config/webhooks/{hook}", data=config).status_code == 200
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_provider_webhook_is_verified_and_read_as_the_payments_outcome(
    gateway: StripeGateway, page: Page, receiver: Receiver, base: str
) -> None:
    customer, good = save_card(gateway, page, GOOD)
    paid = charge(gateway, customer, good, key="attempt-webhook-paid")
    declined_customer, bad = save_card(gateway, page, DECLINED_AT_CHARGE)
    declined = charge(gateway, declined_customer, bad, key="attempt-webhook-declined")
    assert paid.provider_ref is not None
    assert declined.provider_ref is not None

    body, headers = receiver.wait_for("payment_intent.succeeded", paid.provider_ref)
    event = gateway.verify_event(payload=body, headers={k.lower(): v for k, v in headers.items()})
    assert event.type == "payment_intent.succeeded"
    assert event.id.startswith("evt_")
    assert event.provider_ref == paid.provider_ref
    assert event.outcome is not None
    assert event.outcome.status is ChargeStatus.SUCCEEDED

    body, headers = receiver.wait_for("payment_intent.payment_failed", declined.provider_ref)
    failed = gateway.verify_event(payload=body, headers=headers)
    assert failed.provider_ref == declined.provider_ref
    assert failed.outcome == declined

    body, headers = receiver.wait_for("customer.created", customer)
    other = gateway.verify_event(payload=body, headers=headers)
    assert (other.type, other.provider_ref, other.outcome) == ("customer.created", None, None)

    tampered = body.replace(customer.encode(), b"cus_someoneelse")
    with pytest.raises(GatewayError, match="signature"):
        gateway.verify_event(payload=tampered, headers=headers)
    stranger = StripeGateway(api_key=API_KEY, webhook_secret="whsec_other", api_base=base)
    with pytest.raises(GatewayError, match="signature"):
        stranger.verify_event(payload=body, headers=headers)
    with pytest.raises(GatewayError, match="no Stripe-Signature"):
        gateway.verify_event(payload=body, headers={})
    unconfigured = StripeGateway(api_key=API_KEY, webhook_secret=None, api_base=base)
    with pytest.raises(GatewayError, match="no Stripe webhook secret"):
        unconfigured.verify_event(payload=body, headers=headers)


def test_an_unreachable_provider_is_a_gateway_error_and_other_gateways_carry_on(
    gateway: StripeGateway, page: Page
) -> None:
    customer, card = save_card(gateway, page, GOOD)
    unreachable = StripeGateway(
        api_key=API_KEY, webhook_secret=SECRET, api_base=f"http://127.0.0.1:{free_port()}"
    )

    with pytest.raises(GatewayError, match="charging the card") as raised:
        charge(unreachable, customer, card, key="attempt-unreachable")
    assert isinstance(raised.value.__cause__, stripe.APIConnectionError)
    with pytest.raises(GatewayError):
        unreachable.payment(provider_ref="pi_anything")
    with pytest.raises(GatewayError):
        gateway.payment(provider_ref="pi_nosuchpayment")  # reachable, but refused: not found

    assert (
        charge(gateway, customer, card, key="attempt-unreachable").status is ChargeStatus.SUCCEEDED
    )
    assert stripe.api_key is None
    assert stripe.api_base == "https://api.stripe.com"
