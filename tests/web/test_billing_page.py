"""W1: the business's "Billing & invoices" page, reached without an API key.

The platform asks for a single-use link (`POST /v1/accounts/{id}/portal-sessions`); the
browser opens it, gets an HttpOnly session cookie, and sees seed 000's page: the partner's
Code #1 with its bars (Staff Seat 0 / 36, Card Operations 0 / 18), the plan, "Used: 9 / 100
included per month", the invoice history with PDFs. Every form carries the CSRF token; a
session never reaches another account.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from allot.billing.collect import Collector
from allot.invoice.run import run
from allot.kit.i18n import format_day
from tests.e2e.conftest import Api


def link(api: Api, who: str = "cafe", *, as_: str | None = None) -> str:
    made = api.client.post(f"/v1/accounts/{who}/portal-sessions", headers=api.as_(as_ or who))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["url"].startswith("http://testserver/portal/")
    return str(body["url"]).removeprefix("http://testserver")


def browser(api: Api) -> TestClient:
    """A browser of its own: its own cookies, no API key."""
    return TestClient(api.client.app, follow_redirects=False)


def follow(b: TestClient, url: str) -> Any:
    """What a person does with the link: open it (which spends nothing), press its button."""
    landing = b.get(url)
    assert landing.status_code == 200
    nonce = re.search(r'name="nonce" value="([^"]+)"', landing.text)
    assert nonce is not None
    return b.post(url.split("?")[0], data={"nonce": nonce.group(1)})


def signed_in(api: Api, who: str = "cafe") -> TestClient:
    b = browser(api)
    opened = follow(b, link(api, who))
    assert (opened.status_code, opened.headers["location"]) == (303, "/billing")
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    return b


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def consume(api: Api, who: str, metric: str, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        done = api.client.post(
            f"/v1/accounts/{who}/consume",
            json={"metric": metric, "quantity": 1},
            headers=api.as_(who, **{"Idempotency-Key": f"{metric}-{i}"}),
        )
        assert done.status_code == 200, done.text


def test_w1_the_coffee_shop_sees_seed_000s_page(api: Api) -> None:
    issued = api.client.post(
        "/v1/partners/agency-1/codes",
        json={"allowances": {"staff_seats": 36, "card_operations": 18}},
        headers=api.as_("partner"),
    ).json()
    b = signed_in(api)
    page = b.get("/billing")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "No code claimed yet." in page.text

    claimed = b.post(
        "/billing/codes/claim", data={"code": issued["code"], "csrf_token": csrf(page.text)}
    )
    assert (claimed.status_code, claimed.headers["location"]) == (
        303,
        "/billing?done=claimed#codes",
    )
    consume(api, "cafe", "card_operations", 27)  # 18 from the code, then 9 of the plan's 100
    text = b.get("/billing?done=claimed").text
    assert "The code is claimed" in text
    assert "Code #2 — Claimed" in text
    assert "Staff seats 0 / 36" in text  # the catalog's names for seed 000's resources
    assert "Card operations 18 / 18" in text
    assert '<progress max="36" value="0"' in text
    assert "Used: 9 / 100 included per month" in text
    assert "<li>Code #2: 18 / 18</li><li>plan allowance: 9 / 100</li>" in text  # U3
    assert "Your Tariff Plan" in text


def test_w1_the_store_downloads_its_invoice_and_sees_the_failed_payment_banner(api: Api) -> None:
    api.client.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4000000000000002", "exp_month": 12, "exp_year": 2030},
        headers=api.as_("store"),
    )
    run(api.db, api.clock)  # the 1 March renewal: USD 279, declined
    collector: Collector = api.client.app.state.collector  # type: ignore[attr-defined]
    collector.round(50)
    b = signed_in(api, "store")
    page = b.get("/billing").text
    assert "A payment failed" in page
    assert "$279.00" in page
    assert 'href="#payment">Update my payment method' in page  # the card form below
    invoice = re.search(r'href="(/billing/invoices/(\d+)/pdf\?lang=en)"', page)
    assert invoice is not None
    pdf = b.get(invoice.group(1))
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")


def test_w1_a_link_works_once_and_not_after_15_minutes(api: Api) -> None:
    url = link(api)
    first = browser(api)
    assert first.get(url).status_code == 200  # a mail scanner's fetch spends nothing
    assert follow(first, url).status_code == 303
    again = follow(browser(api), url)  # reused
    assert again.status_code == 403
    assert "expired or was used already" in again.text
    late = link(api)
    api.clock.advance(timedelta(minutes=15))
    assert follow(browser(api), late).status_code == 403
    forged = follow(browser(api), "/portal/" + "x" * 43)
    assert forged.status_code == 403
    assert follow(browser(api), "/portal/" + "x" * 5000).status_code == 403


def test_w1_another_site_cannot_post_a_link_into_a_visitors_browser(api: Api) -> None:
    """Login CSRF: a page elsewhere posts its own account's link; without the landing page's
    nonce cookie (SameSite=Strict, never sent by another site's form) nothing opens."""
    url = link(api, "store")
    victim = browser(api)
    assert victim.post(url, data={"nonce": "guessed"}).status_code == 403
    assert victim.post(url).status_code == 403
    assert "allot_session" not in victim.cookies
    assert follow(browser(api), url).status_code == 303  # the link itself is still good


def test_w1_without_a_session_or_after_it_the_page_is_refused(api: Api) -> None:
    assert browser(api).get("/billing").status_code == 401
    b = signed_in(api)
    api.clock.advance(timedelta(hours=8))
    assert b.get("/billing").status_code == 401
    other = browser(api)
    other.cookies.set("allot_session", "not-a-session")
    assert other.get("/billing").status_code == 401


def test_w1_a_form_without_its_csrf_token_is_refused_and_changes_nothing(api: Api) -> None:
    issued = api.client.post(
        "/v1/partners/agency-1/codes", json={"allowances": {"staff_seats": 3}},
        headers=api.as_("partner"),
    ).json()  # fmt: skip
    b = signed_in(api)
    for token in (None, "wrong"):
        data = {"code": issued["code"]} | ({} if token is None else {"csrf_token": token})
        refused = b.post("/billing/codes/claim", data=data)
        assert refused.status_code == 403
    other = signed_in(api, "store")  # another session's token is not this one's
    foreign = csrf(other.get("/billing").text)
    assert (
        b.post(
            "/billing/codes/claim", data={"code": issued["code"], "csrf_token": foreign}
        ).status_code
        == 403
    )
    assert "No code claimed yet." in b.get("/billing").text


def test_w1_one_accounts_session_never_reaches_another_accounts_invoice(api: Api) -> None:
    run(api.db, api.clock)  # the store's renewal
    store_invoice = api.client.get("/v1/accounts/store/invoices", headers=api.as_("store")).json()
    invoice_id = store_invoice["data"][0]["id"]
    cafe = signed_in(api, "cafe")
    assert cafe.get(f"/billing/invoices/{invoice_id}/pdf").status_code == 404
    assert cafe.get("/billing/invoices/999999/pdf").status_code == 404
    assert signed_in(api, "store").get(f"/billing/invoices/{invoice_id}/pdf").status_code == 200


def test_w1_only_the_operator_or_the_account_may_ask_for_its_link(api: Api) -> None:
    assert link(api, "cafe", as_="operator").startswith("/portal/")
    refused = api.client.post("/v1/accounts/cafe/portal-sessions", headers=api.as_("store"))
    assert refused.status_code == 404  # another tenant's account: as if missing
    partner = api.client.post("/v1/accounts/cafe/portal-sessions", headers=api.as_("partner"))
    assert partner.status_code == 404
    assert api.client.post("/v1/accounts/cafe/portal-sessions").status_code == 401


def test_w1_signing_out_ends_the_session(api: Api) -> None:
    b = signed_in(api)
    token = csrf(b.get("/billing").text)
    old = b.cookies["allot_session"]
    out = b.post("/billing/sign-out", data={"csrf_token": token})
    assert out.status_code == 200
    replay = browser(api)
    replay.cookies.set("allot_session", old)  # the ended session's cookie, kept by someone
    assert replay.get("/billing").status_code == 401


def test_w2_the_page_speaks_the_accounts_language_and_lang_switches_it(api: Api) -> None:
    from allot.account.service import update_account

    run(api.db, api.clock)  # the store's 1 March invoice, for a date on the page
    with api.db.transaction() as conn:
        update_account(conn, api.clock, account_id="store", locale="th-TH")
    b = signed_in(api, "store")
    thai = b.get("/billing").text
    assert '<html lang="th">' in thai
    assert "การเรียกเก็บเงินและใบแจ้งหนี้" in thai  # "Billing & invoices"
    assert "1 มีนาคม 2569" in thai  # the invoice's date, in the Buddhist era (seed 001)
    assert "มีนาคม 2026" not in thai  # never the Gregorian year
    korean = b.get("/billing?lang=ko")
    assert '<html lang="ko">' in korean.text
    assert "결제 및 청구서" in korean.text
    assert "2026년 3월 1일" in korean.text
    assert '<html lang="ko">' in b.get("/billing").text  # remembered by this browser
    for lang, title in (("hi", "बिलिंग और इनवॉइस"), ("uk", "Оплата й рахунки"), ("en", "Billing")):
        page = b.get(f"/billing?lang={lang}").text
        assert f'<html lang="{lang}">' in page
        assert title in page
    assert '<html lang="en">' in b.get("/billing?lang=xx").text  # unknown: as remembered


def test_w2_a_refusal_is_in_the_chosen_language(api: Api) -> None:
    refused = follow(browser(api), "/portal/" + "x" * 43 + "?lang=uk")
    assert refused.status_code == 403
    assert "Посилання застаріло або вже використане" in refused.text


def test_p4_the_cardholder_confirms_a_payment_on_the_page(api: Api) -> None:
    api.client.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4000002760003184", "exp_month": 12, "exp_year": 2030},
        headers=api.as_("store"),
    )  # 3-D Secure on every charge
    run(api.db, api.clock)
    collector: Collector = api.client.app.state.collector  # type: ignore[attr-defined]
    collector.round(50)
    b = signed_in(api, "store")
    page = b.get("/billing").text
    assert "Your bank asks you to confirm a payment" in page
    confirm = re.search(r'href="(/billing/confirm\?account=store&amp;payment=(\d+))"', page)
    assert confirm is not None
    asked = b.get(confirm.group(1).replace("&amp;", "&"))
    assert asked.status_code == 200
    assert "confirm the payment of $279.00" in asked.text
    payment = confirm.group(2)
    assert (
        b.post("/billing/confirm", data={"payment": payment, "outcome": "pass"}).status_code == 403
    )
    cafe = signed_in(api, "cafe")  # another account's payment: as if there were none
    assert cafe.get(f"/billing/confirm?payment={payment}").status_code == 404
    done = b.post(
        "/billing/confirm",
        data={"payment": payment, "outcome": "pass", "csrf_token": csrf(asked.text)},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/billing?done=confirmed")
    after = b.get("/billing?done=confirmed").text
    assert "the payment is confirmed" in after
    assert "Your bank asks you" not in after
    assert b.get(f"/billing/confirm?payment={payment}").status_code == 409  # not waiting now


def test_b4_edit_tariff_plan_previews_the_exact_charge_then_changes_it(api: Api) -> None:
    """The café on the free Card scanner moves to Monthly (EUR 29) on 2 March: the page
    shows what it will be charged before it confirms, and the invoice says the same."""
    b = signed_in(api)
    page = b.get("/billing").text
    edit = re.search(r'href="(/billing/plan\?subscription=(\d+))">EDIT TARIFF PLAN', page)
    assert edit is not None
    choose = b.get(edit.group(1))
    assert choose.status_code == 200
    assert "Monthly" in choose.text
    preview = b.get(f"{edit.group(1)}&plan=monthly")
    assert preview.status_code == 200
    charged = re.search(r"Charged now: ([^<]+)<", preview.text)
    assert charged is not None
    api_preview = api.client.post(
        f"/v1/accounts/cafe/subscriptions/{edit.group(2)}/plan-change/preview",
        json={"plan": "monthly"},
        headers=api.as_("cafe"),
    ).json()
    assert charged.group(1) == f"€{api_preview['charge_rounded']}"  # the API's figure
    last = date.fromisoformat(api_preview["period_end"]) - timedelta(days=1)  # [start, end)
    assert f"in this period, to {format_day(last, 'en')}." in preview.text
    nothing = b.get("/billing").text  # the preview changed nothing
    assert "Card scanner" in nothing
    done = b.post(
        "/billing/plan",
        data={"subscription": edit.group(2), "plan": "monthly", "csrf_token": csrf(preview.text)},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/billing?done=plan#plan")
    after = b.get("/billing?done=plan").text
    assert "Your plan is changed." in after
    invoices = api.client.get("/v1/accounts/cafe/invoices", headers=api.as_("cafe")).json()
    assert invoices["data"][0]["total"] == api_preview["charge_rounded"]
    unknown = b.get(f"{edit.group(1)}&plan=nope")
    assert unknown.status_code == 404
    assert b.get("/billing/plan?subscription=999999").status_code == 404


def test_v1_a4_the_page_advises_the_cheaper_plan_and_shows_the_referral_link(api: Api) -> None:
    done = api.client.post(
        "/v1/accounts/store/consume",
        json={"metric": "orders", "quantity": 3500},
        headers=api.as_("store", **{"Idempotency-Key": "rush"}),
    )
    assert done.status_code == 200, done.text
    api.client.put("/v1/accounts/store/referral", headers=api.as_("operator"))
    advice = api.client.get("/v1/accounts/store/advice", headers=api.as_("store")).json()
    best = next(a for a in advice if a["upgrade"])  # the API's own figures (V1)
    cheapest = next(o for o in best["options"] if o["plan"] == best["cheapest"])
    page = signed_in(api, "store").get("/billing").text
    assert "Upgrade advice" in page
    assert "3,500 units of Orders" in page
    cost, saving = Decimal(cheapest["cost"]), Decimal(best["saving"])
    assert f"you would pay ${cost:,.2f}: ${saving:,.2f} less" in page
    assert "Refer a business" in page
    link = api.client.get("/v1/accounts/store/referral", headers=api.as_("store")).json()["link"]
    assert f'value="{link}"' in page


def test_r2_r5_the_store_sees_its_reviews_gate_and_sets_its_top_up_limit(api: Api) -> None:
    """Seed 003: a store on Reviews Business (1,500 orders a month, top-up at $0.14)."""
    from allot.account.service import create_account
    from allot.subscription.service import subscribe

    with api.db.transaction() as conn:
        create_account(conn, api.clock, account_id="shop", name="Shop",
                       timezone="America/New_York", currency="USD")  # fmt: skip
        subscribe(conn, api.clock, account_id="shop", plan_code="reviews-business")
    orders = [{"id": f"o{i}", "placed_at": "2026-03-02T06:00:00+00:00"} for i in range(12)]
    done = api.client.post(
        "/v1/accounts/shop/orders", json={"orders": orders}, headers=api.as_("operator")
    )
    assert done.status_code == 200, done.text
    b = browser(api)  # the operator asks for the link: the shop has no key of its own
    url = api.client.post("/v1/accounts/shop/portal-sessions", headers=api.as_("operator"))
    follow(b, str(url.json()["url"]).removeprefix("http://testserver"))
    page = b.get("/billing").text
    assert "Orders this month: 12 / 1,500" in page
    assert "Review requests to send: 12" in page
    assert "Top-up limit: none" in page
    token = csrf(page)
    bad = b.post("/billing/top-up", data={"mode": "defined", "cap": "lots", "csrf_token": token})
    assert bad.status_code == 422
    assert "This is not an amount" in bad.text
    saved = b.post("/billing/top-up", data={"mode": "defined", "cap": "150", "csrf_token": token})
    assert (saved.status_code, saved.headers["location"]) == (303, "/billing?done=top_up#reviews")
    status = api.client.get("/v1/accounts/shop/reviews", headers=api.as_("operator")).json()
    assert (status["top_up"], status["top_up_cap"]) == ("defined", "150")
    assert status["top_up_orders"] == 1071  # V2: $150 at $0.14 buys 1,071 orders
    page = b.get("/billing?done=top_up").text
    assert "Your top-up limit is saved." in page
    assert "Top-up limit: Defined, $150.00 a month (about 1,071 orders)" in page
    store = signed_in(api, "store").get("/billing").text  # Full Suite: orders, no top-up to set
    assert "Orders this month" in store
    assert "Top-up limit" not in store
    assert 'id="reviews"' not in signed_in(api, "cafe").get("/billing").text


def test_u7_the_months_usage_alerts_are_notices_on_the_page(api: Api) -> None:
    consume(api, "cafe", "card_operations", 80)  # 80 % of the free plan's 100
    page = signed_in(api).get("/billing").text
    assert "Card operations: 80 % of plan allowance is used this month." in page
    consume(api, "cafe", "card_operations", 20, start=80)  # the allowance's last 20
    page = signed_in(api).get("/billing").text
    assert "Card operations: all of plan allowance is used this month." in page
    assert "80 %" not in page  # the highest alert of the month only


def test_w2_the_catalogs_names_in_the_pages_language(api: Api) -> None:
    """Seed 001's Thai page: the plan and the card operations by their Thai names, as the
    stamp-card catalog gives them; English again with ?lang=en."""
    from allot.account.service import update_account

    with api.db.transaction() as conn:
        update_account(conn, api.clock, account_id="cafe", locale="th")
    consume(api, "cafe", "card_operations", 9)
    b = signed_in(api, "cafe")
    thai = b.get("/billing").text
    assert "เครื่องสแกนบัตร (ฟรี)" in thai  # Card scanner (free)
    assert "การใช้งานบัตร" in thai  # Card operations
    assert "Card scanner (free)" not in thai
    plan = b.get("/billing/plan?subscription=1&plan=monthly").text
    assert "เครื่องสแกนบัตร (ฟรี) → รายเดือน" in plan  # the preview, by name
    english = b.get("/billing?lang=en").text
    assert "Card scanner (free)" in english
    assert "การใช้งานบัตร" not in english


def test_w2_after_a_refused_form_the_language_links_lead_to_a_page(api: Api) -> None:
    """A form's answer is a POST's: its language links go to the page the form was on."""
    b = signed_in(api)
    token = csrf(b.get("/billing").text)
    refused = b.post("/billing/codes/claim", data={"code": "NOPE-NOPE", "csrf_token": token})
    assert refused.status_code in (404, 422)
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)"', refused.text)
    assert [lang for _href, lang in links] == ["en", "ko", "th", "hi", "uk"]
    for href, lang in links:
        assert href == f"/billing?lang={lang}"
        page = b.get(href.replace("&amp;", "&"))
        assert page.status_code == 200
        assert f'<html lang="{lang}">' in page.text
