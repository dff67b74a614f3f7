"""P2 with Stripe.js on the billing page, in Debian's Chromium, against localstripe.

The card is typed into Stripe.js's own field (localstripe's copy of Stripe.js, served by the
localstripe server the test starts on loopback), confirmed with a SetupIntent, and only then
posted to allot — which never sees the number. A payment waiting for 3-D Secure is confirmed
on "Confirm your payment" with the PaymentIntent's client secret; Stripe's signed webhook
then marks the invoice paid. Pages without Stripe.js keep allot's own script policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from allot.account.service import update_account
from allot.app import create_app
from allot.billing.collect import Collector
from allot.payment.stripe_gateway import StripeGateway
from allot.web.stripe_js import StripeJs
from tests.e2e.conftest import Api
from tests.payment import localstripe_server
from tests.payment.localstripe_server import API_KEY
from tests.scenarios.world import World, local
from tests.web.browser import Switch, accessible, open_billing

SECRET = "whsec_allot_page"
KYIV = "Europe/Kyiv"


@pytest.fixture(scope="module")
def stripe_base() -> Iterator[str]:
    with localstripe_server.running() as address:
        yield address


@pytest.fixture
def shop(
    api: Api,
    stripe_base: str,
    server: tuple[Switch, str],
) -> tuple[Api, str, Collector, World]:
    gateway = StripeGateway(api_key=API_KEY, webhook_secret=SECRET, api_base=stripe_base)
    js = StripeJs("pk_test_allot", f"{stripe_base}/js.stripe.com/v3/")
    app = create_app(api.db, api.clock, gateway=gateway, stripe_js=js, rate_limit="off")
    server[0].app = app
    world = World.__new__(World)  # the catalog is loaded already: only its helpers
    world.db, world.clock, world._keys = api.db, api.clock, 0
    api.clock.set(local(KYIV, 2026, 2, 1, 9))
    world.business("cafe-s", plan="monthly", tz=KYIV)
    with api.db.transaction() as conn:
        update_account(
            conn, api.clock, account_id="cafe-s", billing_details={"email": "owner@cafe.example"}
        )
    url = server[1]
    hook = {"url": f"{url}/v1/providers/stripe/webhook", "secret": SECRET}
    assert httpx.post(f"{stripe_base}/_config/webhooks/allot-{url[-5:]}", data=hook).is_success
    return api, url, app.state.collector, world


def type_card(page: Page, number: str) -> None:
    """Into Stripe.js's own field (localstripe's inputs), as the cardholder types it."""
    field = page.locator("#card-element")
    field.get_by_placeholder("number").fill(number)
    field.get_by_placeholder("exp_month").fill("12")
    field.get_by_placeholder("exp_year").fill("31")
    field.get_by_placeholder("cvc").fill("123")
    field.get_by_placeholder("postal_code").fill("01001")


def test_p2_the_card_is_saved_through_stripe_js_and_never_reaches_allot(
    shop: tuple[Api, str, Collector, World], page: Page
) -> None:
    api, base, collector, world = shop
    posted: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            posted.append({"url": r.url, "body": r.post_data or ""})
            if r.method == "POST" and r.url.startswith(base)
            else None
        ),
    )
    open_billing(api, base, page, "cafe-s", by="operator")
    policy = page.evaluate("() => document.querySelector('#card-element') !== null")
    assert policy
    type_card(page, "4242424242424242")
    page.get_by_role("button", name="Save the card").click()
    page.wait_for_url(f"{base}/billing?done=card#payment")
    assert page.get_by_text("VISA ending in 4242").is_visible()
    assert all("4242424242424242" not in p["body"] for p in posted)  # only Stripe saw it
    assert any(p["url"].endswith("/billing/card/saved") for p in posted)
    accessible_outside_the_card_field(page, "stripe-card-saved-en")
    world.bill()  # 1 February: charged to the saved card
    collector.round(50)
    page.reload()
    assert page.get_by_role("alert").count() == 0


def test_p4_a_payment_waiting_for_3ds_is_confirmed_with_stripe_js(
    shop: tuple[Api, str, Collector, World], page: Page
) -> None:
    api, base, collector, world = shop
    open_billing(api, base, page, "cafe-s", by="operator")
    type_card(page, "4000002760003184")  # every charge asks for authentication
    page.get_by_role("button", name="Save the card").click()
    page.get_by_role("button", name="Complete authentication").click()  # 3DS on saving, too
    page.wait_for_url(f"{base}/billing?done=card#payment")
    world.bill()
    collector.round(50)
    status = api.client.get("/v1/accounts/cafe-s/billing-status", headers=api.as_("operator"))
    action = status.json()["action"]
    assert action is not None, status.text
    page.goto(base + action["url"].removeprefix("http://testserver"))
    assert page.get_by_role("heading", name="Confirm your payment").is_visible()
    page.get_by_role("button", name="Confirm the payment").click()
    modal = page.get_by_role("button", name="Complete authentication")  # localstripe's 3DS
    modal.click()
    page.wait_for_url(f"{base}/billing?done=confirming")
    for _ in range(50):  # Stripe's signed webhook marks it paid
        if not api.client.get(
            "/v1/accounts/cafe-s/billing-status", headers=api.as_("operator")
        ).json()["past_due"]:
            break
        page.wait_for_timeout(100)
    page.reload()
    assert page.get_by_role("alert").count() == 0


def accessible_outside_the_card_field(page: Page, name: str) -> None:
    """axe on the page, the card field aside: on Stripe it is Stripe's own iframe (here
    localstripe's stand-in inputs, which carry no labels)."""
    page.evaluate("() => document.querySelector('#card-element').replaceChildren()")
    accessible(page, name)
