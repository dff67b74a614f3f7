"""W3 in a real browser (Debian's Chromium): a partner's day on its portal, the operator's
audit log — axe-core on every page in every language.

A partner's user signs in with the keyboard, issues a code from its inventory (and is
refused past it), e-mails its activation link (a real SMTP server on 127.0.0.1 catches it),
the business claims it on its billing page from the link's code, the partner sees the
use, pauses the code and revokes another never used; the operator then finds each of
those changes in the admin's audit log.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from playwright.sync_api import Browser, Page

from allot.app import create_app
from allot.invoice.run import run
from allot.kit.backoff import RETRY_DELAYS
from allot.kit.i18n import LANGUAGES
from allot.user.service import create_user
from allot.webhook.service import create_endpoint
from tests.e2e.conftest import Api
from tests.mailserver import MailServer, plain_text
from tests.web.browser import Switch, accessible, open_billing
from tests.web.test_admin import CATALOG
from tests.web.test_billing_page import consume
from tests.web.test_sign_in import deliver as deliver_mail
from tests.webhook.conftest import Receiver, deliver, http, receiver  # noqa: F401

PASSWORD = "correct horse battery"


def sign_in(page: Page, base: str, name: str) -> None:
    """With the keyboard: the name, Tab, the password, Enter."""
    page.goto(f"{base}/sign-in?lang=en")
    page.get_by_label("Name").focus()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def test_w3_a_partners_day_and_the_operators_audit_log(
    live: tuple[Api, str],
    server: tuple[Switch, str],
    page: Page,
    chromium: Browser,
    mail_server: MailServer,
) -> None:
    api, base = live
    server[0].app = create_app(api.db, api.clock, email=True, public_url=base, rate_limit="off")
    with api.db.transaction() as conn:
        create_user(
            conn, api.clock, user_id="pat", role="partner", partner_id="agency-1",
            email="pat@agency.example", password=PASSWORD,
        )  # fmt: skip
        create_user(conn, api.clock, user_id="ana", role="operator-admin", password=PASSWORD)
    bought = api.client.post(
        "/v1/partners/agency-1/inventory",
        json={"add": {"staff_seats": 80, "card_operations": 40}},
        headers=api.as_("operator"),
    )  # A3: Code #1 of the API's world holds 36 and 18 of it already
    assert bought.status_code == 200, bought.text
    for lang in LANGUAGES:
        page.goto(f"{base}/sign-in?lang={lang}")
        accessible(page, f"staff-sign-in-{lang}")
    sign_in(page, base, "pat")
    page.wait_for_url(f"{base}/partner")
    accessible(page, "partner-empty-en")

    page.get_by_role("textbox", name="Staff seats").fill("36")
    page.get_by_role("textbox", name="Card operations").fill("18")
    page.get_by_role("button", name="Issue the code").click()
    page.wait_for_url(f"{base}/partner?done=issued#codes")
    assert page.get_by_role("status").inner_text() == "The code is issued."
    page.get_by_role("textbox", name="Staff seats").fill("36")  # 8 left: refused
    page.get_by_role("button", name="Issue the code").click()
    assert page.get_by_role("status").inner_text().startswith("Your inventory has too little")
    accessible(page, "partner-inventory-refused-en")
    page.goto(f"{base}/partner")
    listed = api.client.get("/v1/partners/agency-1/codes", headers=api.as_("partner")).json()
    number = max(c["number"] for c in listed)
    page.locator(f"#to-{number}").fill("owner@cafe.example")
    page.locator(f"#lang-{number}").select_option("uk")
    page.locator(f"form[action='/partner/codes/{number}/email'] button").click()
    page.wait_for_url(f"{base}/partner?done=emailed#codes")
    assert deliver_mail(api, mail_server) == 1
    code = re.search(
        r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}-[0-9A-Z]", plain_text(mail_server.received[0])
    )
    assert code is not None

    shop = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    open_billing(api, base, shop, "cafe")
    shop.get_by_label("Enter an Access Code").fill(code.group(0))
    shop.get_by_role("button", name="Claim").click()
    shop.wait_for_url(f"{base}/billing?done=claimed#codes")
    shop.context.close()
    consume(api, "cafe", "card_operations", 3)

    page.goto(f"{base}/partner")
    assert page.locator(f"#c{number}-1").inner_text() == "Card operations 3 / 18"
    page.locator(f"form[action='/partner/codes/{number}/pause'] button").click()
    page.wait_for_url(f"{base}/partner?done=paused#codes")
    never_used = api.client.post(
        "/v1/partners/agency-1/codes", json={"allowances": {"staff_seats": 5}},
        headers=api.as_("partner"),
    ).json()  # fmt: skip
    page.goto(f"{base}/partner")
    page.locator(f"form[action='/partner/codes/{never_used['number']}/revoke'] button").click()
    page.wait_for_url(f"{base}/partner?done=revoked#codes")
    assert page.get_by_role("heading", name=f"Code #{never_used['number']} — revoked").is_visible()
    for lang in LANGUAGES:
        page.goto(f"{base}/partner?lang={lang}")
        accessible(page, f"partner-{lang}")
    page.goto(f"{base}/partner?lang=en")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/sign-in")

    sign_in(page, base, "ana")
    page.wait_for_url(f"{base}/admin")
    accessible(page, "admin-home-en")
    page.get_by_role("link", name="Audit log", exact=True).click()
    page.get_by_label("Partner").fill("agency-1")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr").all_inner_texts()
    changes = [r.split("\t")[2] for r in rows if "user:pat" in r]
    assert changes[:4] == ["code.revoked", "code.paused", "code.emailed", "code.issued"]
    for lang in LANGUAGES:
        page.goto(f"{base}/admin/audit?partner=agency-1&lang={lang}")
        accessible(page, f"admin-audit-{lang}")


ADMIN_PAGES = (
    "/admin", "/admin/audit", "/admin/accounts", "/admin/accounts/store",
    "/admin/accounts/store/billing", "/admin/partners", "/admin/catalog", "/admin/webhooks",
    "/admin/payments", "/admin/emails",
)  # fmt: skip


def test_w3_the_operators_day_in_the_admin(
    live: tuple[Api, str],
    server: tuple[Switch, str],
    page: Page,
    receiver: Receiver,  # noqa: F811
    http: httpx.Client,  # noqa: F811
) -> None:
    """A catalog with an error (shown with its line), fixed as a new plan version; a credit
    note; a failed webhook sent again — then every admin page, in every language, axe-clean."""
    api, base = live
    with api.db.transaction() as conn:
        create_user(conn, api.clock, user_id="ana", role="operator-admin", password=PASSWORD)
        create_endpoint(
            conn, api.clock, url=receiver.url, event_types=["invoice.finalized"], allow_private=True
        )
    run(api.db, api.clock)  # the store's March invoice; its webhook will fail
    receiver.plan = [500] * (len(RETRY_DELAYS) + 1)
    for delay in (*RETRY_DELAYS, timedelta()):
        deliver(api.db, api.clock, http)
        api.clock.advance(delay)
    sign_in(page, base, "ana")
    page.wait_for_url(f"{base}/admin")

    page.get_by_role("link", name="Catalog").click()
    page.get_by_label("File name (shown in the errors)").fill("extras.yaml")
    page.get_by_label("The catalog file (YAML)").fill(CATALOG.replace("PRICE", "ten"))
    page.get_by_role("button", name="Validate and load").click()
    alert = page.get_by_role("alert")
    assert "extras.yaml:13" in alert.inner_text()
    assert "plans.api-basic.price" in alert.inner_text()
    accessible(page, "admin-catalog-error-en")
    page.get_by_label("The catalog file (YAML)").fill(CATALOG.replace("PRICE", "10"))
    page.get_by_role("button", name="Validate and load").click()
    assert "Added: api-basic v1" in page.get_by_role("status").inner_text()
    page.get_by_label("The catalog file (YAML)").fill(CATALOG.replace("PRICE", "12"))
    page.get_by_role("button", name="Validate and load").click()
    assert "New versions: api-basic v2" in page.get_by_role("status").inner_text()

    page.goto(f"{base}/admin/accounts?q=store")
    page.get_by_role("link", name="store").click()
    page.locator("summary").first.click()
    page.get_by_label("Reason for a credit note of all that is left").fill("outage on 3 March")
    page.get_by_role("button", name="Issue the credit note").click()
    page.wait_for_url(f"{base}/admin/accounts/store?done=credited#invoices")
    assert page.get_by_role("status").inner_text() == "The credit note is issued."

    page.goto(f"{base}/admin/webhooks?state=failed")
    page.get_by_role("button", name="Send again").click()
    page.wait_for_url(f"{base}/admin/webhooks?done=redelivered")
    receiver.plan = [200]
    assert deliver(api.db, api.clock, http) == 1
    for path in ADMIN_PAGES:
        for lang in LANGUAGES:
            page.goto(f"{base}{path}?lang={lang}")
            accessible(page, f"admin{path.replace('/', '-')}-{lang}")
