"""W3: the partner portal and the admin, reached by signing in — never with an API key,
never with a business's session.

A partner's user signs in (by password, or by a link e-mailed to a real SMTP server on
127.0.0.1), sees its codes with this month's use, issues one, pauses, resumes, assigns,
e-mails and revokes — each change in the audit log as its own. A wrong password is
counted and five lock the name; operator-support reads the admin's audit log and
changes nothing; no session reaches another partner's codes or another room.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allot.app import create_app
from allot.audit.service import Search, search
from allot.user.service import create_user
from tests.e2e.conftest import Api
from tests.mailserver import MailServer, plain_text
from tests.web.test_billing_page import csrf, signed_in
from tests.web.test_sign_in import deliver

PASSWORD = "correct horse battery"
PUBLIC = "http://billing.example"


@pytest.fixture
def web(api: Api) -> TestClient:
    with api.db.transaction() as conn:
        for name, role, partner in (
            ("pat", "partner", "agency-1"),
            ("quinn", "partner", "agency-2"),
            ("ana", "operator-admin", None),
            ("sam", "operator-support", None),
        ):
            create_user(
                conn, api.clock, user_id=name, role=role, partner_id=partner,
                email=f"{name}@example.com", password=PASSWORD,
            )  # fmt: skip
    app = create_app(api.db, api.clock, email=True, public_url=PUBLIC, rate_limit="off")
    return TestClient(app, follow_redirects=False)


def browser(web: TestClient) -> TestClient:
    return TestClient(web.app, follow_redirects=False)


def nonce_of(page: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def sign_in(web: TestClient, name: str, password: str = PASSWORD, code: str = "") -> Any:
    b = browser(web)
    form = b.get("/sign-in")
    assert form.status_code == 200
    done = b.post(
        "/sign-in",
        data={"name": name, "password": password, "code": code, "nonce": nonce_of(form.text)},
    )
    return b, done


def as_user(web: TestClient, name: str) -> TestClient:
    b: TestClient
    b, done = sign_in(web, name)
    assert done.status_code == 303, done.text
    assert "allot_staff=" in done.headers["set-cookie"]
    assert "HttpOnly" in done.headers["set-cookie"]
    return b


def issue(api: Api, partner: str = "agency-1", key: str = "partner") -> dict[str, Any]:
    made = api.client.post(
        f"/v1/partners/{partner}/codes",
        json={"allowances": {"staff_seats": 36, "card_operations": 18}},
        headers=api.as_(key),
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_w3_a_partner_user_signs_in_and_sees_its_codes_only(api: Api, web: TestClient) -> None:
    mine = issue(api)
    b, done = sign_in(web, "pat")
    assert (done.status_code, done.headers["location"]) == (303, "/partner")
    page = b.get("/partner")
    assert page.status_code == 200, page.text
    assert f"Code #{mine['number']} — issued" in page.text
    assert mine["code"] in page.text  # to hand out while unclaimed
    assert "Agency-1" in page.text
    other = as_user(web, "quinn").get("/partner")
    assert mine["code"] not in other.text


def test_w3_the_partner_runs_the_life_of_a_code_on_its_page(api: Api, web: TestClient) -> None:
    b = as_user(web, "pat")
    token = csrf(b.get("/partner").text)
    issued = b.post(
        "/partner/codes",
        data={"csrf_token": token, "allow.staff_seats": "36", "allow.card_operations": "18"},
    )
    assert (issued.status_code, issued.headers["location"]) == (303, "/partner?done=issued#codes")
    page = b.get("/partner").text
    number = max(int(n) for n in re.findall(r"Code #(\d+) — issued", page))
    code = re.search(
        rf"Code #{number} — issued</h3>\s*<p>Code to hand out: <code>([^<]+)</code>", page
    )
    assert code is not None
    # the business claims it on its own page
    shop = signed_in(api, "cafe")
    shop.post(
        "/billing/codes/claim",
        data={"code": code.group(1), "csrf_token": csrf(shop.get("/billing").text)},
    )
    assert f"Code #{number} — claimed" in b.get("/partner").text
    assert "Staff seats 0 / 36" in b.get("/partner").text
    for action, state in (("pause", "paused"), ("resume", "claimed")):
        done = b.post(f"/partner/codes/{number}/{action}", data={"csrf_token": token})
        assert done.status_code == 303, done.text
        assert f"Code #{number} — {state}" in b.get("/partner").text
    unused = issue(api)
    assert (
        b.post(f"/partner/codes/{unused['number']}/revoke", data={"csrf_token": token}).status_code
        == 303
    )
    assert f"Code #{unused['number']} — revoked" in b.get("/partner").text
    with api.db.read() as conn:
        mine = search(conn, Search(actor_id="pat"))
    assert [e.change for e in reversed(mine)] == [
        "user.signed_in", "code.issued", "code.paused", "code.resumed", "code.revoked",
    ]  # fmt: skip
    assert {e.actor_kind for e in mine} == {"user"}


def test_w3_assign_and_e_mail_through_a_real_smtp_server(
    api: Api, web: TestClient, mail_server: MailServer
) -> None:
    b = as_user(web, "pat")
    token = csrf(b.get("/partner").text)
    first, second = issue(api), issue(api)
    assigned = b.post(
        f"/partner/codes/{first['number']}/assign",
        data={"csrf_token": token, "account_id": "store"},
    )
    assert assigned.status_code == 303, assigned.text
    assert f"Code #{first['number']} — claimed" in b.get("/partner").text
    sent = b.post(
        f"/partner/codes/{second['number']}/email",
        data={"csrf_token": token, "to": "owner@shop.example", "lang": "uk"},
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/partner?done=emailed#codes")
    deliver(api, mail_server)
    [message] = mail_server.received
    assert message["To"] == "owner@shop.example"
    assert second["code"].replace("-", "") in plain_text(message).replace("-", "")


def test_w3_refusals_are_pages_and_change_nothing(api: Api, web: TestClient) -> None:
    b = as_user(web, "pat")
    token = csrf(b.get("/partner").text)
    theirs = issue(api, "agency-2", "operator")  # agency-2's, issued by the operator
    assert b.post("/partner/codes/1/pause", data={}).status_code == 403  # no CSRF token
    assert b.post("/partner/codes/999/pause", data={"csrf_token": token}).status_code == 404
    bad = b.post("/partner/codes", data={"csrf_token": token, "allow.staff_seats": "lots"})
    assert bad.status_code == 422
    assert "number" in bad.text
    empty = b.post("/partner/codes", data={"csrf_token": token})
    assert empty.status_code == 422
    assert "A code needs at least one resource." in empty.text
    assert b.post("/partner/codes/1/dance", data={"csrf_token": token}).status_code == 404
    assert theirs["code"] not in b.get("/partner").text


def test_w3_a_wrong_password_is_counted_and_five_lock_the_name(api: Api, web: TestClient) -> None:
    for _ in range(5):
        _, refused = sign_in(web, "pat", "not the password!")
        assert refused.status_code == 401
        assert "After 5 failures in a row" in refused.text
    _, locked = sign_in(web, "pat")
    assert locked.status_code == 401  # the right password, locked out: the same answer
    _, nobody = sign_in(web, "nobody")
    assert nobody.text == locked.text


def test_w3_a_sign_in_form_without_its_nonce_is_refused(web: TestClient) -> None:
    b = browser(web)
    refused = b.post("/sign-in", data={"name": "pat", "password": PASSWORD})
    assert refused.status_code == 403
    assert "allot_staff" not in refused.headers.get("set-cookie", "")


def test_w3_a_partner_signs_in_by_an_e_mailed_link_once(
    api: Api, web: TestClient, mail_server: MailServer
) -> None:
    b = browser(web)
    form = b.get("/sign-in")
    asked = b.post("/sign-in/link", data={"email": "PAT@example.com", "nonce": nonce_of(form.text)})
    assert (asked.status_code, asked.headers["location"]) == (303, "/sign-in?sent=true")
    deliver(api, mail_server)
    [message] = mail_server.received
    link = re.search(rf"{PUBLIC}(/sign-in/link/\S+)", plain_text(message))
    assert link is not None
    landing = b.get(link.group(1))
    opened = b.post(link.group(1), data={"nonce": nonce_of(landing.text)})
    assert (opened.status_code, opened.headers["location"]) == (303, "/partner")
    assert b.get("/partner").status_code == 200
    again = browser(web)
    replay = again.post(link.group(1), data={"nonce": nonce_of(again.get(link.group(1)).text)})
    assert replay.status_code == 403


def test_w3_operators_reach_the_admin_and_support_changes_nothing(
    api: Api, web: TestClient
) -> None:
    issue(api)
    ana = as_user(web, "ana")
    admin = ana.get("/admin/audit", params={"change": "code."})
    assert admin.status_code == 200, admin.text
    assert "code.issued" in admin.text
    sam = as_user(web, "sam")
    assert sam.get("/admin").status_code == 200
    assert sam.get("/partner").status_code == 404  # an operator is no partner
    assert as_user(web, "pat").get("/admin").status_code == 404  # a partner is no operator


def test_w3_no_session_reaches_another_room(api: Api, web: TestClient) -> None:
    shop = signed_in(api, "cafe")  # a business's session
    for path in ("/partner", "/admin"):
        assert shop.get(path).status_code == 303  # to /sign-in: it is nobody here
        assert shop.get(path).headers["location"] == "/sign-in"
    pat = as_user(web, "pat")
    assert pat.get("/billing").status_code == 401  # a user is no business
    out = pat.post("/sign-out")
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in")
    assert pat.get("/partner").status_code == 303


@pytest.mark.parametrize("lang", ["en", "ko", "th", "hi", "uk"])
def test_w3_the_partner_portal_in_five_languages(api: Api, web: TestClient, lang: str) -> None:
    issue(api)
    page = as_user(web, "pat").get("/partner", params={"lang": lang})
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in page.text


def test_a3_the_partner_sees_its_inventory_and_is_refused_past_it(
    api: Api, web: TestClient
) -> None:
    bought = api.client.post(
        "/v1/partners/agency-1/inventory",
        json={"add": {"staff_seats": 40, "card_operations": 20}},
        headers=api.as_("operator"),
    )
    assert bought.status_code == 200, bought.text
    b = as_user(web, "pat")
    page = b.get("/partner").text
    cells = '<td class="num">40</td><td class="num">36</td><td class="num">4</td>'
    assert f"Staff seats</th>{cells}" in page  # bought, held by Code #1, left
    refused = b.post("/partner/codes", data={"csrf_token": csrf(page), "allow.staff_seats": "5"})
    assert refused.status_code == 409
    assert "Your inventory has too little left" in refused.text
    assert (
        b.post(
            "/partner/codes", data={"csrf_token": csrf(page), "allow.staff_seats": "4"}
        ).status_code
        == 303
    )


def test_w3_the_partner_sees_its_month_and_downloads_its_own_invoices(
    api: Api, web: TestClient
) -> None:
    from datetime import timedelta

    from allot.invoice.run import run

    code = issue(api)
    claimed = api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": code["code"]}, headers=api.as_("cafe")
    )
    assert claimed.status_code == 200, claimed.text
    b = as_user(web, "pat")
    page = b.get("/partner").text
    assert "This month at your wholesale terms:" in page  # the claimed code's charge
    api.clock.advance(timedelta(days=31))
    run(api.db, api.clock)  # March's partner invoices
    b = as_user(web, "pat")  # a month later: the first session has ended
    page = b.get("/partner").text
    links = re.findall(r'href="(/partner/invoices/(\d+)/pdf\?lang=en)"', page)
    assert links, page
    pdf = b.get(links[0][0])
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    theirs = as_user(web, "quinn").get(links[0][0])
    assert theirs.status_code == 404  # agency-2's user: another partner's invoice
    assert signed_in(api, "cafe").get(links[0][0]).status_code == 303  # a business: nobody here
