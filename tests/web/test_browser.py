"""W1, P2 in a real browser: Debian's Chromium, driven by Playwright (no browser download).

The coffee shop opens the link its platform asked for, claims a code with the keyboard alone
and sees its bars move; the store sees the failed-payment banner, updates its card on the
page and sees the banner go. axe-core checks every page state, in every language: no serious
or critical violation. Screenshots are kept in `var/test-artifacts/screens/`.
"""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page

from allot.account.service import update_account
from allot.app import create_app
from allot.billing.collect import Collector
from allot.invoice.run import run
from allot.kit.i18n import LANGUAGES
from allot.notify.models import emails
from tests.e2e.conftest import Api
from tests.web.browser import Switch, accessible, open_billing


def test_w1_the_coffee_shop_claims_a_code_with_the_keyboard(
    live: tuple[Api, str], page: Page
) -> None:
    api, base = live
    issued = api.client.post(
        "/v1/partners/agency-1/codes",
        json={"allowances": {"staff_seats": 36, "card_operations": 18}},
        headers=api.as_("partner"),
    ).json()
    open_billing(api, base, page, "cafe")
    accessible(page, "cafe-en-before")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    page.get_by_label("Enter an Access Code").focus()
    page.keyboard.type(issued["code"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/billing?done=claimed#codes")
    assert page.get_by_role("status").first.inner_text().startswith("The code is claimed")
    assert page.get_by_text("Staff seats 0 / 36").is_visible()
    for i in range(27):  # the shop's stamps: 18 from the code, then 9 of the plan's 100
        api.client.post(
            "/v1/accounts/cafe/consume",
            json={"metric": "card_operations"},
            headers=api.as_("cafe", **{"Idempotency-Key": f"stamp-{i}"}),
        )
    page.goto(f"{base}/billing")
    assert page.get_by_text("Used: 9 / 100 included per month").is_visible()
    assert page.get_by_text("Card operations 18 / 18").is_visible()
    accessible(page, "cafe-en-after")
    for lang in LANGUAGES:
        page.goto(f"{base}/billing?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        accessible(page, f"cafe-{lang}")

    page.goto(f"{base}/billing?lang=en")  # B4: EDIT TARIFF PLAN, previewed, then confirmed
    page.get_by_role("link", name="EDIT TARIFF PLAN").click()
    page.get_by_label("Monthly").check()
    page.get_by_role("button", name="Preview the change").click()
    assert page.get_by_text("Charged now:").is_visible()
    accessible(page, "cafe-plan-preview-en")
    for lang in LANGUAGES:
        page.locator(f'nav a[lang="{lang}"]').click()  # the switcher keeps the preview
        assert page.locator("html").get_attribute("lang") == lang
        accessible(page, f"cafe-plan-preview-{lang}")
    page.locator('nav a[lang="en"]').click()
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_url(f"{base}/billing?done=plan#plan")
    assert page.get_by_text("Your plan is changed.").is_visible()


def test_p2_the_store_updates_its_card_on_the_page_and_the_banner_goes(
    live: tuple[Api, str], page: Page
) -> None:
    api, base = live
    api.client.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4000000000000002", "exp_month": 12, "exp_year": 2030},
        headers=api.as_("store"),
    )
    run(api.db, api.clock)  # the 1 March renewal, USD 279: declined
    collector: Collector = api.client.app.state.collector  # type: ignore[attr-defined]
    collector.round(50)
    open_billing(api, base, page, "store")
    banner = page.get_by_role("alert")
    assert "A payment failed" in banner.inner_text()
    assert "$279.00" in banner.inner_text()
    accessible(page, "store-banner-en")
    href = page.get_by_text("Download INV-2026-000001").get_attribute("href")
    assert href is not None
    pdf = page.request.get(base + href)  # with the page's session cookie
    assert (pdf.status, pdf.body()[:4]) == (200, b"%PDF")

    banner.get_by_role("link", name="Update my payment method").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Save the card").click()
    page.wait_for_url(f"{base}/billing?done=card#payment")
    assert page.get_by_text("VISA ending in 4242").is_visible()
    collector.round(50)  # the worker's next round charges the new card
    page.reload()
    assert page.get_by_role("alert").count() == 0
    accessible(page, "store-paid-en")
    for lang in LANGUAGES:
        page.goto(f"{base}/billing?lang={lang}")
        accessible(page, f"store-{lang}")


def test_r2_the_shop_sets_its_top_up_limit_in_the_browser(
    live: tuple[Api, str], page: Page
) -> None:
    from allot.account.service import create_account
    from allot.subscription.service import subscribe

    api, base = live
    with api.db.transaction() as conn:
        create_account(conn, api.clock, account_id="shop", name="Shop",
                       timezone="America/New_York", currency="USD")  # fmt: skip
        subscribe(conn, api.clock, account_id="shop", plan_code="reviews-business")
    url = api.client.post("/v1/accounts/shop/portal-sessions", headers=api.as_("operator")).json()
    page.goto(base + url["url"].removeprefix("http://testserver"))
    page.get_by_role("button", name="Open my billing page").click()
    page.get_by_label("Defined").check()
    page.get_by_label("a month, at most").fill("150")
    page.get_by_role("button", name="Save the top-up limit").click()
    page.wait_for_url(f"{base}/billing?done=top_up#reviews")
    assert page.get_by_text("about 1,071 orders").is_visible()  # V2: $150 at $0.14
    for lang in LANGUAGES:
        page.goto(f"{base}/billing?lang={lang}")
        accessible(page, f"shop-reviews-{lang}")


def test_w1_the_business_asks_for_a_link_by_e_mail_with_the_keyboard(
    live: tuple[Api, str], server: tuple[Switch, str], page: Page
) -> None:
    api, base = live
    # as `allot serve` with e-mail and ALLOT_PUBLIC_URL: the links are made with that address
    server[0].app = create_app(api.db, api.clock, email=True, public_url=base, rate_limit="off")
    with api.db.transaction() as conn:
        update_account(
            conn, api.clock, account_id="cafe", billing_details={"email": "owner@cafe.example"}
        )
    for lang in LANGUAGES:
        page.goto(f"{base}/portal/sign-in?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        accessible(page, f"sign-in-{lang}")
    page.goto(f"{base}/portal/sign-in?lang=en")
    page.get_by_label("Billing e-mail address").focus()
    page.keyboard.type("owner@cafe.example")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/portal/sign-in?sent=true")
    assert page.get_by_role("status").inner_text().startswith("If this address is the billing")
    accessible(page, "sign-in-sent-en")
    with api.db.read() as conn:
        kinds = conn.execute(sa.select(emails.c.kind, emails.c.account_id)).all()
    assert [tuple(k) for k in kinds] == [("sign_in_link", "cafe")]


FOCUSED = """() => {
  const e = document.activeElement;
  const label = e.labels && e.labels.length ? e.labels[0].innerText : "";
  return [label, e.innerText || "", e.getAttribute("aria-label") || ""].join("|");
}"""


def tab_to(page: Page, name: str, limit: int = 120) -> None:
    """Press Tab until the focused control is called `name` (its label or its text): what a
    person does who uses no mouse. Fails if the page never lets the keyboard reach it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if name in page.evaluate(FOCUSED):
            return
    raise AssertionError(f"the keyboard never reaches {name!r}")


def test_w1_the_main_story_with_the_keyboard_alone(live: tuple[Api, str], page: Page) -> None:
    """The store's failed payment, its new card, its upgrade and its invoice: every step with
    Tab, arrows, typing and Enter, no click."""
    api, base = live
    api.client.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4000000000000002", "exp_month": 12, "exp_year": 2030},
        headers=api.as_("store"),
    )
    run(api.db, api.clock)  # the 1 March renewal: declined
    collector: Collector = api.client.app.state.collector  # type: ignore[attr-defined]
    collector.round(50)
    url = api.client.post("/v1/accounts/store/portal-sessions", headers=api.as_("store")).json()
    page.goto(base + url["url"].removeprefix("http://testserver"))
    tab_to(page, "Open my billing page")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/billing")
    assert "A payment failed" in page.get_by_role("alert").inner_text()

    tab_to(page, "Update my payment method")
    page.keyboard.press("Enter")  # to the card form, on this page
    tab_to(page, "Card number")
    page.keyboard.type("4242 4242 4242 4242")
    tab_to(page, "Save the card")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/billing?done=card#payment")
    collector.round(50)
    page.reload()
    assert page.get_by_role("alert").count() == 0  # paid: the banner is gone

    tab_to(page, "EDIT TARIFF PLAN")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/billing/plan?subscription=*")
    tab_to(page, "Full Suite Business")  # the radio group: focus on the plan it is on
    page.keyboard.press("ArrowDown")  # the next plan up
    tab_to(page, "Preview the change")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/billing/plan?subscription=*&plan=*")
    assert page.get_by_text("Charged now:").is_visible()
    tab_to(page, "Confirm the change")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/billing?done=plan#plan")
    assert page.get_by_text("Your plan is changed.").is_visible()

    tab_to(page, "Download INV-2026-000001")
    href = page.evaluate("() => document.activeElement.getAttribute('href')")
    pdf = page.request.get(base + href)
    assert (pdf.status, pdf.body()[:4]) == (200, b"%PDF")
