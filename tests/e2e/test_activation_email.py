"""K2: the partner e-mails an activation link; the business follows it and the code is theirs.

The e-mail goes through the outbox to a real SMTP server on 127.0.0.1, and the
business claims the code that the link it received carries.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from allot.app import create_app
from allot.notify.smtp import SmtpSettings, send_due
from tests.e2e.conftest import Api
from tests.mailserver import MailServer, plain_text

EMAILS = "/v1/partners/agency-1/codes/1/emails"
LINK = re.compile(r"https://app\.example\.com/billing/activate\?code=([0-9A-Z-]+)")


def send(api: Api, server: MailServer) -> int:
    smtp = SmtpSettings.from_url(server.url, sender="Loyalty Cards <billing@cards.example>")
    return send_due(api.db, api.clock, smtp=smtp)


def test_K2_K7_the_partner_e_mails_the_link_and_the_business_claims_through_it(
    api: Api, mail_server: MailServer
) -> None:
    partner = api.as_("partner")
    queued = api.client.post(
        EMAILS, json={"to": "owner@cafe.example", "note": "Welcome aboard!"}, headers=partner
    )
    assert queued.status_code == 202, queued.text
    assert (queued.json()["state"], queued.json()["to"]) == ("pending", "owner@cafe.example")
    assert mail_server.received == []  # nothing leaves before the worker's round
    assert send(api, mail_server) == 1

    (message,) = mail_server.received
    assert message["To"] == "owner@cafe.example"
    assert message["Subject"] == "Agency-1 sent you an Access Code"
    assert message["Reply-To"] == "agency-1@example.com"  # answers go to the partner
    body = plain_text(message)
    assert "Card operations: 18 per month" in body
    assert "Staff seats: 36 per month" in body
    assert "Welcome aboard!" in body
    found = LINK.search(body)
    assert found is not None
    issued = api.client.get("/v1/partners/agency-1/codes/1", headers=partner).json()
    assert found[1] == issued["code"]
    assert f"type the code on your billing page: {issued['code']}" in body

    claimed = api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": found[1]}, headers=api.as_("cafe")
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["label"] == "Code #1"
    usage = api.client.get("/v1/accounts/cafe/usage", headers=api.as_("cafe")).json()
    assert [  # the billing page: "Code #1 — Claimed", 0 / 18 and 0 / 36 (K7)
        (g["label"], [(r["name"], r["used"], r["available"]) for r in g["resources"]])
        for g in usage["grants"]
    ] == [("Code #1", [("Card operations", 0, 18), ("Staff seats", 0, 36)])]

    log = api.client.get(EMAILS, headers=partner).json()
    assert [(e["to"], e["state"], e["attempts"]) for e in log] == [
        ("owner@cafe.example", "sent", 1)
    ]
    again = api.client.post(EMAILS, json={"to": "owner@cafe.example"}, headers=partner)
    assert (again.status_code, again.json()["code"]) == (409, "code_not_available")


def test_K2_a_bad_address_is_named_and_nothing_is_queued(api: Api) -> None:
    for to in ("owner at cafe", "owner@cafe.example\r\nBcc: all@example.com"):
        refused = api.client.post(EMAILS, json={"to": to}, headers=api.as_("partner"))
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "invalid_email"
        assert refused.json()["errors"][0]["field"] == "to"
    assert api.client.get(EMAILS, headers=api.as_("partner")).json() == []


def test_K2_a_code_is_e_mailed_at_most_five_times(api: Api) -> None:
    for n in range(5):
        sent = api.client.post(
            EMAILS, json={"to": f"try{n}@cafe.example"}, headers=api.as_("partner")
        )
        assert sent.status_code == 202, sent.text
    sixth = api.client.post(EMAILS, json={"to": "last@cafe.example"}, headers=api.as_("partner"))
    assert (sixth.status_code, sixth.json()["code"]) == (409, "too_many_emails")


def test_K2_without_an_smtp_server_nothing_is_queued_and_the_partner_is_told(api: Api) -> None:
    silent = TestClient(create_app(api.db, api.clock))  # ALLOT_SMTP_URL unset
    refused = silent.post(EMAILS, json={"to": "owner@cafe.example"}, headers=api.as_("partner"))
    assert (refused.status_code, refused.json()["code"]) == (409, "email_not_configured")
    assert silent.get(EMAILS, headers=api.as_("partner")).json() == []


def test_K2_a_revoked_code_is_not_e_mailed(api: Api) -> None:
    partner = api.as_("partner")
    assert api.client.post("/v1/partners/agency-1/codes/1/revoke", headers=partner).is_success
    refused = api.client.post(EMAILS, json={"to": "owner@cafe.example"}, headers=partner)
    assert (refused.status_code, refused.json()["code"]) == (409, "code_not_available")
