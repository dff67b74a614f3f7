"""The dunning story end to end on Stripe: the real `stripe` SDK against a localstripe server,
allot's API served on a loopback port, and Stripe's webhooks signed and delivered to it.

A café on stamp-card Monthly (EUR 29) saves a card through a SetupIntent (the page's part,
Stripe.js, is played through localstripe's own endpoints); its card declines on the 1 March
renewal → past_due, the banner shows EUR 29.00; a good card replaces it → paid in the next
round, the banner is gone. On 1 April its new card wants 3-D Secure → requires_action with
the PaymentIntent's client secret; the cardholder authenticates → Stripe's signed
`payment_intent.succeeded` reaches allot's webhook, which alone marks the invoice paid.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from allot.account.service import update_account
from allot.app import create_app
from allot.billing.collect import Collector
from allot.invoice import repository as invoice_repo
from allot.payment.stripe_gateway import StripeGateway
from allot_client import Client
from tests.e2e.conftest import Api
from tests.e2e.live import serve
from tests.payment import localstripe_server
from tests.payment.localstripe_server import API_KEY
from tests.payment.test_stripe_gateway import Page
from tests.scenarios.world import World, local

SECRET = "whsec_allot_e2e"
KYIV = "Europe/Kyiv"
DECLINES = "4000000000000341"  # saves, every charge declined
GOOD = "4242424242424242"
AUTHENTICATES = "4000002760003184"


@pytest.fixture(scope="module")
def stripe_base() -> Iterator[str]:
    with localstripe_server.running() as address:
        yield address


@pytest.fixture
def story(api: Api, stripe_base: str) -> Iterator[tuple[Client, Collector, Page, World]]:
    gateway = StripeGateway(api_key=API_KEY, webhook_secret=SECRET, api_base=stripe_base)
    app = create_app(api.db, api.clock, gateway=gateway)
    collector: Collector = app.state.collector
    world = World.__new__(World)  # the catalog is loaded already: only its helpers
    world.db, world.clock, world._keys = api.db, api.clock, 0
    api.clock.set(local(KYIV, 2026, 2, 1, 9))
    world.business("cafe-s", plan="monthly", tz=KYIV)
    with api.db.transaction() as conn:
        update_account(
            conn, api.clock, account_id="cafe-s", billing_details={"email": "owner@cafe.example"}
        )
    with serve(app) as url:
        hook = {"url": f"{url}/v1/providers/stripe/webhook", "secret": SECRET}
        assert httpx.post(f"{stripe_base}/_config/webhooks/allot-{url[-5:]}", data=hook).is_success
        with Client(url, api.keys["operator"]) as client:
            yield client, collector, Page(stripe_base), world


def save(client: Client, page: Page, number: str) -> None:
    setup = client.start_card_setup("cafe-s")
    assert setup.gateway == "stripe"
    method = page.card(number)
    assert page.confirm_setup(setup.setup_ref, setup.client_secret, method) == 200
    card = client.save_card("cafe-s", setup.setup_ref)
    assert card.last4 == number[-4:]


def test_the_dunning_story_on_stripe(
    api: Api, story: tuple[Client, Collector, Page, World]
) -> None:
    client, collector, page, world = story
    save(client, page, GOOD)
    world.bill()  # 1 February, paid at once
    collector.round(50)
    assert world.invoices("cafe-s")[-1].state == "paid"

    save(client, page, DECLINES)
    world.at(KYIV, 2026, 3, 1, 9)
    world.bill()
    collector.round(50)
    status = client.billing_status("cafe-s")
    assert status.state == "past_due"
    assert [(m.amount, m.currency) for m in status.past_due] == [("29.00", "EUR")]
    assert world.subscription("cafe-s").state == "past_due"

    save(client, page, GOOD)  # "Update my payment method"
    collector.round(50)
    assert world.invoices("cafe-s")[-1].state == "paid"
    status = client.billing_status("cafe-s")
    assert (status.state, status.action) == ("ok", None)
    assert world.subscription("cafe-s").state == "active"

    save(client, page, AUTHENTICATES)
    world.at(KYIV, 2026, 4, 1, 9)
    world.bill()
    collector.round(50)
    status = client.billing_status("cafe-s")
    assert status.state == "action_required"
    assert status.action is not None
    assert status.action.kind == "confirm_payment"
    assert status.action.client_secret is not None
    attempt = client.payments("cafe-s")[0]
    assert attempt.state == "requires_action"
    with api.db.read() as conn:
        april = invoice_repo.get(conn, attempt.invoice_id)
    assert april is not None
    assert april.state == "finalized"

    provider_ref = status.action.client_secret.split("_secret_")[0]
    page.authenticate(provider_ref, status.action.client_secret, success=True)
    deadline = time.monotonic() + 15  # Stripe's signed webhook alone records it
    while world.invoices("cafe-s")[-1].state != "paid":
        assert time.monotonic() < deadline, client.payments("cafe-s")
        time.sleep(0.1)
    assert client.billing_status("cafe-s").state == "ok"
    assert client.payments("cafe-s")[0].state == "succeeded"


def test_a_webhook_with_a_bad_signature_is_refused(
    story: tuple[Client, Collector, Page, World],
) -> None:
    client, _collector, _page, _world = story
    answer = httpx.post(
        f"{client._http.base_url}/v1/providers/stripe/webhook",
        content=b'{"id": "evt_1", "type": "payment_intent.succeeded"}',
        headers={"Stripe-Signature": "t=1,v1=deadbeef"},
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_signature"
