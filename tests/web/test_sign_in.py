"""W1: a business that lost its link asks for one by e-mail, at its billing address.

The e-mail reaches a real SMTP server on 127.0.0.1, in the account's language; its link opens
the billing page once. The form answers the same whether the address is on file, so it tells
no one which businesses bill where, and it floods no inbox.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from allot.account.service import update_account
from allot.app import create_app
from allot.notify.models import emails
from allot.notify.smtp import SmtpSettings, send_due
from tests.e2e.conftest import Api
from tests.mailserver import MailServer, plain_text
from tests.web.test_billing_page import follow

SENT = "If this address is the billing address of a business"
PUBLIC = "http://billing.example"  # http: the test client sends no Secure cookie


@pytest.fixture
def web(api: Api) -> TestClient:
    """The pages as `allot serve` runs them with e-mail and ALLOT_PUBLIC_URL: sign-in links
    are made with the public address, never with the request's Host."""
    app = create_app(api.db, api.clock, email=True, public_url=PUBLIC, rate_limit="off")
    return TestClient(app, follow_redirects=False)


def fresh(web: TestClient) -> TestClient:
    """Another browser: its own cookies."""
    return TestClient(web.app, follow_redirects=False)


def billed_at(api: Api, who: str, address: str, locale: str = "en") -> None:
    with api.db.transaction() as conn:
        update_account(
            conn, api.clock, account_id=who, locale=locale, billing_details={"email": address}
        )


def ask(web: TestClient, address: str, **headers: str) -> str:
    """What a person does: open the form, write the address, send it; the page it lands on."""
    b = fresh(web)
    form = b.get("/portal/sign-in")
    assert form.status_code == 200
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce is not None
    sent = b.post(
        "/portal/sign-in", data={"email": address, "nonce": nonce.group(1)}, headers=headers
    )
    assert (sent.status_code, sent.headers.get("location")) == (303, "/portal/sign-in?sent=true")
    return str(b.get(sent.headers["location"]).text)


def deliver(api: Api, server: MailServer) -> int:
    smtp = SmtpSettings.from_url(server.url, sender="Billing <billing@cards.example>")
    return send_due(api.db, api.clock, smtp=smtp)


def queued(api: Api) -> list[tuple[str, str | None]]:
    with api.db.read() as conn:
        rows = conn.execute(
            sa.select(emails.c.to_address, emails.c.account_id)
            .where(emails.c.kind == "sign_in_link")
            .order_by(emails.c.id)
        )
        return [(r[0], r[1]) for r in rows]


def test_w1_the_link_comes_by_e_mail_in_thai_and_opens_the_page_once(
    api: Api, web: TestClient, mail_server: MailServer
) -> None:
    billed_at(api, "cafe", "Owner@Cafe.example", locale="th")
    # any case is one address; a forged Host changes nothing in the link
    assert SENT in ask(web, "owner@cafe.EXAMPLE", host="evil.example")
    assert deliver(api, mail_server) == 1
    (message,) = mail_server.received
    assert message["To"] == "owner@cafe.example"
    assert message["Subject"] == "ลิงก์ไปยังหน้าการเรียกเก็บเงินของ Cafe"
    text = plain_text(message)
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    found = re.search(r"http://billing\.example(/portal/[\w-]+)", text)
    assert found is not None
    assert f'href="{PUBLIC}{found[1]}"' in html
    assert "evil.example" not in text
    assert "15 นาที" in text

    b = fresh(web)
    opened = follow(b, found[1])
    assert (opened.status_code, opened.headers["location"]) == (303, "/billing")
    assert "Cafe" in b.get("/billing").text
    again = follow(fresh(web), found[1])
    assert again.status_code == 403  # once
    assert "/portal/sign-in" in again.text  # … and the page offers to ask for another


def test_w1_an_address_not_on_file_gets_the_same_answer_and_no_e_mail(
    api: Api, web: TestClient
) -> None:
    billed_at(api, "cafe", "owner@cafe.example")
    assert SENT in ask(web, "someone@else.example")
    assert queued(api) == []


def test_w1_two_businesses_billed_at_one_address_each_get_their_link(
    api: Api, web: TestClient
) -> None:
    billed_at(api, "cafe", "books@family.example")
    billed_at(api, "store", "books@family.example")
    ask(web, "books@family.example")
    assert queued(api) == [("books@family.example", "cafe"), ("books@family.example", "store")]


def test_w1_at_most_five_sign_in_e_mails_an_hour_to_one_address(api: Api, web: TestClient) -> None:
    billed_at(api, "cafe", "books@family.example")
    billed_at(api, "store", "books@family.example")  # each ask e-mails two links
    for _ in range(4):
        assert SENT in ask(web, "books@family.example")
    assert len(queued(api)) == 5  # 2 + 2 + 1, then nothing
    api.clock.advance(timedelta(hours=1, seconds=1))
    ask(web, "books@family.example")
    assert len(queued(api)) == 7


def test_w1_the_sign_in_form_is_refused_without_its_nonce_or_with_a_bad_address(
    api: Api, web: TestClient
) -> None:
    billed_at(api, "cafe", "owner@cafe.example")
    b = fresh(web)
    bare = b.post("/portal/sign-in", data={"email": "owner@cafe.example", "nonce": "x"})
    assert bare.status_code == 403
    form = b.get("/portal/sign-in?lang=uk")
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce is not None
    bad = b.post("/portal/sign-in", data={"email": "not an address", "nonce": nonce.group(1)})
    assert bad.status_code == 422
    assert "Це не електронна адреса" in bad.text
    assert queued(api) == []


@pytest.mark.parametrize(
    "settings", [{}, {"email": True}, {"public_url": PUBLIC}], ids=["neither", "no-url", "no-mail"]
)
def test_w1_without_e_mail_or_a_public_url_the_form_says_so_and_sends_nothing(
    api: Api, settings: dict[str, Any]
) -> None:
    billed_at(api, "cafe", "owner@cafe.example")
    app = create_app(api.db, api.clock, rate_limit="off", **settings)
    b = TestClient(app, follow_redirects=False)
    page = b.get("/portal/sign-in")
    assert "Sign-in links by e-mail are not set up here." in page.text
    assert 'name="email"' not in page.text
    nonce = b.cookies.get("allot_portal")
    sent = b.post("/portal/sign-in", data={"email": "owner@cafe.example", "nonce": nonce})
    assert sent.status_code == 409  # sign_in_not_configured
    assert "not set up" in sent.text
    assert queued(api) == []
