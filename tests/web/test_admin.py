"""W3: the operator's admin — accounts (the billing page as its business sees it; invoices
marked paid, voided, credited), partners (their inventory topped up), the catalog (an
error shown with its line, fixed, loaded as a new version), webhooks (a failed delivery
sent again), the audit log — and operator-support, who reads it all and changes nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from allot.audit.service import Search, search
from allot.invoice.run import run
from allot.kit.backoff import RETRY_DELAYS
from allot.user import service as users
from allot.webhook.service import create_endpoint
from tests.e2e.conftest import Api
from tests.web.test_billing_page import csrf, signed_in
from tests.web.test_staff import as_user, web  # noqa: F401  (users pat, quinn, ana, sam)
from tests.webhook.conftest import Receiver, deliver, http, receiver  # noqa: F401

CATALOG = """\
catalog: agency-extras
currency: EUR
metrics:
  api_calls: {name: API calls, kind: counter, unit: call}
product_lines:
  api:
    name: API
    ladder: [api-basic]
plans:
  api-basic:
    name: API Basic
    product_line: api
    price: "PRICE"
    interval: month
    metrics:
      api_calls: {included: 1000, policy: block}
"""


def march_invoice(api: Api) -> dict[str, Any]:
    run(api.db, api.clock)  # the store's March invoice, USD 279
    found = api.client.get("/v1/accounts/store/invoices", headers=api.as_("operator")).json()
    return dict(found["data"][0])


def test_w3_the_operator_finds_an_account_and_sees_its_billing_page(
    api: Api,
    web: TestClient,  # noqa: F811
) -> None:
    ana = as_user(web, "ana")
    found = ana.get("/admin/accounts", params={"q": "sto"})
    assert found.status_code == 200
    assert 'href="/admin/accounts/store"' in found.text
    assert 'href="/admin/accounts/cafe"' not in found.text
    account = ana.get("/admin/accounts/store")
    assert account.status_code == 200
    assert "Full Suite Business" in account.text
    page = ana.get("/admin/accounts/store/billing")
    assert page.status_code == 200
    theirs = signed_in(api, "store").get("/billing").text
    for section in ("Your Tariff Plan", "Available Services", "Full Suite Business"):
        assert section in page.text
        assert section in theirs
    assert "<div inert>" in page.text  # the forms are shown, not usable
    assert ana.get("/admin/accounts/nobody").status_code == 404


def test_w3_the_operator_credits_marks_paid_and_voids_invoices(
    api: Api,
    web: TestClient,  # noqa: F811
) -> None:
    invoice = march_invoice(api)
    ana = as_user(web, "ana")
    token = csrf(ana.get("/admin/accounts/store").text)
    credited = ana.post(
        f"/admin/invoices/{invoice['id']}/credit",
        data={"csrf_token": token, "reason": "outage on 3 March", "settle": "balance"},
    )
    assert (credited.status_code, credited.headers["location"]) == (
        303, "/admin/accounts/store?done=credited#invoices",
    )  # fmt: skip
    after = api.client.get(f"/v1/invoices/{invoice['id']}", headers=api.as_("operator")).json()
    assert [n["reason"] for n in after["credit_notes"]] == ["outage on 3 March"]
    again = ana.post(
        f"/admin/invoices/{invoice['id']}/credit", data={"csrf_token": token, "reason": "twice"}
    )
    assert again.status_code == 409  # nothing left to credit
    with api.db.read() as conn:
        [note] = search(conn, Search(change="credit_note.issued"))
    assert (note.actor_kind, note.actor_id) == ("user", "ana")


def test_w3_support_reads_every_admin_page_and_changes_nothing(
    api: Api,
    web: TestClient,  # noqa: F811
) -> None:
    invoice = march_invoice(api)
    sam = as_user(web, "sam")
    for path in PAGES[:-1]:  # every admin page
        page = sam.get(path)
        assert page.status_code == 200, (path, page.text[:200])
        for form in ("Mark paid", "Top up", "Validate and load", "Send again", "Charge now"):
            assert form not in page.text, (path, form)
    with api.db.read() as conn:  # sam's own valid token: its pages carry no form to take it from
        token = users.session_of(conn, api.clock, secret=sam.cookies["allot_staff"]).csrf_token
    for path, data in (
        (f"/admin/invoices/{invoice['id']}/pay", {"reason": "no"}),
        (f"/admin/invoices/{invoice['id']}/void", {"reason": "no"}),
        ("/admin/partners/agency-1/inventory", {"add.staff_seats": "5"}),
        ("/admin/catalog", {"yaml": CATALOG.replace("PRICE", "10"), "load": "1"}),
    ):
        refused = sam.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403, (path, refused.status_code)
        assert "Your role may look but not change anything." in refused.text
    after = api.client.get(f"/v1/invoices/{invoice['id']}", headers=api.as_("operator")).json()
    assert after["state"] == "finalized"
    with api.db.read() as conn:
        assert [e.actor_id for e in search(conn, Search(actor_id="sam"))] == ["sam"]  # signed in


def test_w3_a_catalog_error_is_shown_with_its_line_then_fixed_as_a_new_version(
    api: Api,
    web: TestClient,  # noqa: F811
) -> None:
    ana = as_user(web, "ana")
    token = csrf(ana.get("/admin/catalog").text)
    broken = ana.post(
        "/admin/catalog",
        data={
            "csrf_token": token,
            "name": "extras.yaml",
            "yaml": CATALOG.replace("PRICE", "ten"),
            "load": "1",
        },
    )
    assert broken.status_code == 200
    assert "nothing was loaded" in broken.text
    assert "<code>extras.yaml:13</code> <code>plans.api-basic.price</code>" in broken.text
    first = ana.post(
        "/admin/catalog",
        data={"csrf_token": token, "yaml": CATALOG.replace("PRICE", "10"), "load": "1"},
    )
    assert "Added: api-basic v1" in first.text
    second = ana.post(
        "/admin/catalog",
        data={"csrf_token": token, "yaml": CATALOG.replace("PRICE", "12"), "load": "1"},
    )
    assert "New versions: api-basic v2" in second.text
    checked = ana.post(
        "/admin/catalog", data={"csrf_token": token, "yaml": CATALOG.replace("PRICE", "15")}
    )
    assert "The catalog is valid: load it to apply it." in checked.text
    assert 'API Basic <span class="muted">(api-basic)</span></td><td>v2' in checked.text
    with api.db.read() as conn:
        loads = search(conn, Search(change="catalog.loaded"))
    assert [e.after for e in reversed(loads)][-2:] == [
        {"added": ["api-basic v1"], "new_versions": []},
        {"added": [], "new_versions": ["api-basic v2"]},
    ]


def test_w3_a_failed_webhook_delivery_is_sent_again_from_the_admin(
    api: Api,
    web: TestClient,  # noqa: F811
    receiver: Receiver,  # noqa: F811
    http: httpx.Client,  # noqa: F811
) -> None:
    with api.db.transaction() as conn:
        create_endpoint(
            conn, api.clock, url=receiver.url, event_types=["invoice.finalized"], allow_private=True
        )
    march_invoice(api)
    receiver.plan = [500] * (len(RETRY_DELAYS) + 1)
    for delay in (*RETRY_DELAYS, timedelta()):
        deliver(api.db, api.clock, http)
        api.clock.advance(delay)
    ana = as_user(web, "ana")
    failed = ana.get("/admin/webhooks", params={"state": "failed"})
    assert "invoice.finalized" in failed.text
    [delivery_id] = [
        int(part.split("/")[0]) for part in failed.text.split("/admin/webhooks/deliveries/")[1:]
    ]
    sent = ana.post(
        f"/admin/webhooks/deliveries/{delivery_id}/redeliver",
        data={"csrf_token": csrf(failed.text)},
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/admin/webhooks?done=redelivered")
    receiver.plan = [200]
    assert deliver(api.db, api.clock, http) == 1
    assert "delivered" in ana.get("/admin/webhooks", params={"state": "delivered"}).text


def test_a3_the_operator_tops_up_a_partners_inventory(
    api: Api,
    web: TestClient,  # noqa: F811
) -> None:
    ana = as_user(web, "ana")
    token = csrf(ana.get("/admin/partners").text)
    done = ana.post(
        "/admin/partners/agency-1/inventory",
        data={"csrf_token": token, "add.staff_seats": "100", "note": "order 7"},
    )
    assert done.status_code == 303, done.text
    page = ana.get("/admin/partners").text
    assert "The inventory is topped up." not in page  # the notice comes with ?done=
    assert '<td class="num">100</td><td class="num">36</td><td class="num">64</td>' in page
    bad = ana.post(
        "/admin/partners/agency-1/inventory", data={"csrf_token": token, "add.staff_seats": "many"}
    )
    assert bad.status_code == 422


PAGES = (
    "/admin", "/admin/audit", "/admin/accounts", "/admin/accounts/store",
    "/admin/accounts/store/billing", "/admin/partners", "/admin/catalog", "/admin/webhooks",
    "/admin/payments", "/admin/emails",
    "/partner",
)  # fmt: skip


@pytest.mark.parametrize("who", ["nobody", "business", "pat", "quinn", "sam", "ana"])
def test_w3_the_role_by_page_matrix_has_no_leak(
    api: Api,
    web: TestClient,  # noqa: F811
    who: str,
) -> None:
    issued = api.client.post(
        "/v1/partners/agency-2/codes", json={"allowances": {"staff_seats": 3}},
        headers=api.as_("operator"),
    ).json()  # fmt: skip
    if who == "nobody":
        b = TestClient(web.app, follow_redirects=False)
    elif who == "business":
        b = signed_in(api, "cafe")
    else:
        b = as_user(web, who)
    for path in PAGES:
        status = b.get(path).status_code
        operator_page = path.startswith("/admin")
        if who in ("nobody", "business"):
            expected = 303  # to /sign-in: not a user
        elif who in ("pat", "quinn"):
            expected = 404 if operator_page else 200
        else:
            expected = 200 if operator_page else 404
        assert status == expected, (who, path, status)
    if who == "pat":  # agency-1's user: agency-2's new code is nowhere on its page
        assert issued["code"] not in b.get("/partner").text
        token = csrf(b.get("/partner").text)
        assert (
            b.post(
                f"/partner/codes/{issued['number']}/revoke", data={"csrf_token": token}
            ).status_code
            == 404
        )
        listed = api.client.get("/v1/partners/agency-2/codes", headers=api.as_("operator")).json()
        assert [c["state"] for c in listed if c["number"] == issued["number"]] == ["issued"]


def test_p2_the_dunning_queue_and_a_charge_now_from_the_admin(
    api: Api,
    web: TestClient,  # noqa: F811
) -> None:
    from allot.account.service import update_account
    from allot.billing.collect import Collector

    with api.db.transaction() as conn:
        update_account(
            conn, api.clock, account_id="store", billing_details={"email": "owner@store.example"}
        )
    api.client.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4000000000000002", "exp_month": 12, "exp_year": 2030},
        headers=api.as_("store"),
    )
    invoice = march_invoice(api)  # the 1 March renewal, USD 279: declined
    collector: Collector = api.client.app.state.collector  # type: ignore[attr-defined]
    collector.round(50)
    ana = as_user(web, "ana")
    queue = ana.get("/admin/payments")
    assert queue.status_code == 200
    assert f"<td>{invoice['id']}</td>" in queue.text
    retried = ana.post(
        f"/admin/payments/{invoice['id']}/retry", data={"csrf_token": csrf(queue.text)}
    )
    assert (retried.status_code, retried.headers["location"]) == (
        303,
        "/admin/payments?done=retrying",
    )
    with api.db.read() as conn:
        [event] = search(conn, Search(change="collection.retry_now"))
    assert (event.actor_id, event.subject_id) == ("ana", str(invoice["id"]))
    emails = ana.get("/admin/emails", params={"state": "pending"})
    assert "owner@store.example" in emails.text  # P2: the business told at the first failure
    assert ana.get("/admin/emails", params={"state": "sent"}).text.count("owner@store.example") == 0


def test_b4_the_operator_previews_then_changes_a_plan_for_the_business(
    api: Api,
    web: TestClient,  # noqa: F811
) -> None:
    march_invoice(api)
    subs = api.client.get("/v1/accounts/store/subscriptions", headers=api.as_("operator")).json()
    sub = subs[0]["id"] if isinstance(subs, list) else subs["data"][0]["id"]
    ana = as_user(web, "ana")
    choose = ana.get("/admin/accounts/store/plan", params={"subscription": sub})
    assert choose.status_code == 200, choose.text
    options = re.findall(r'name="plan" value="([^"]+)"', choose.text)
    target = next(p for p in options if p != "full-suite-business")
    preview = ana.get("/admin/accounts/store/plan", params={"subscription": sub, "plan": target})
    assert "Confirm the change" in preview.text
    theirs = api.client.post(
        f"/v1/accounts/store/subscriptions/{sub}/plan-change/preview",
        json={"plan": target}, headers=api.as_("operator"),
    ).json()  # fmt: skip
    assert theirs["immediate"] == ("Charged now" in preview.text)
    done = ana.post(
        "/admin/accounts/store/plan",
        data={"csrf_token": csrf(preview.text), "subscription": str(sub), "plan": target},
    )
    assert (done.status_code, done.headers["location"]) == (
        303, "/admin/accounts/store?done=plan#subscriptions",
    )  # fmt: skip
    with api.db.read() as conn:
        changes = search(conn, Search(subject_kind="subscription", actor_id="ana"))
    assert changes
    assert changes[0].before is not None
    assert changes[0].before["plan"] == "full-suite-business"
    assert sam_cannot(web, "/admin/accounts/store/plan", {"subscription": str(sub), "plan": target})


def sam_cannot(web: TestClient, path: str, data: dict[str, str]) -> bool:  # noqa: F811
    sam = as_user(web, "sam")
    return bool(sam.post(path, data={"csrf_token": "x", **data}).status_code == 403)
