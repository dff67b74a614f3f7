"""Payments over HTTP (P1-P4): a test card saved through the sandbox's form, the invoice run,
the charging round, the banner's state, confirming a payment, cancelling — every input
checked, every refusal by field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from allot.billing.collect import Collector
from allot.invoice.run import run
from tests.e2e.conftest import Api
from tests.scenarios.world import local

KYIV = "Europe/Kyiv"


def collector(api: Api) -> Collector:
    app = api.client.app
    found: Collector = app.state.collector  # type: ignore[attr-defined]
    return found


def card(api: Api, number: str, who: str = "store") -> dict[str, object]:
    done = api.client.post(
        f"/v1/accounts/{who}/payment-method/sandbox-card",
        json={"number": number, "exp_month": 12, "exp_year": 2030},
        headers=api.as_(who),
    )
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_p1_a_card_is_saved_charged_and_the_banner_follows(api: Api) -> None:
    c = api.client
    saved = card(api, "4000 0000 0000 0002")  # declines
    assert (saved["brand"], saved["last4"]) == ("visa", "0002")
    assert (
        c.get("/v1/accounts/store/payment-method", headers=api.as_("store")).json()["last4"]
        == "0002"
    )
    run(api.db, api.clock)  # the store's 1 March renewal (Full Suite Business, USD 279)
    collector(api).round(50)
    status = c.get("/v1/accounts/store/billing-status", headers=api.as_("store")).json()
    assert status["state"] == "past_due"
    assert status["past_due"] == [{"amount": "279.00", "currency": "USD"}]
    assert status["action"]["kind"] == "update_payment_method"
    assert status["invoices"][0]["decline_code"] == "card_declined"
    listed = c.get("/v1/accounts/store/payments", headers=api.as_("store")).json()
    assert [(p["state"], p["amount"]) for p in listed] == [("failed", "279.00")]

    card(api, "4242424242424242")
    collector(api).round(50)
    status = c.get("/v1/accounts/store/billing-status", headers=api.as_("store")).json()
    assert (status["state"], status["past_due"], status["action"]) == ("ok", [], None)


def test_p4_a_payment_needing_authentication_is_confirmed_by_the_cardholder(api: Api) -> None:
    c = api.client
    card(api, "4000002760003184")
    run(api.db, api.clock)
    collector(api).round(50)
    status = c.get("/v1/accounts/store/billing-status", headers=api.as_("store")).json()
    assert status["state"] == "action_required"
    payment = status["action"]["payment_id"]
    assert "payment=" in status["action"]["url"]
    done = c.post(
        f"/v1/accounts/store/payments/{payment}/sandbox-confirm",
        json={"success": True},
        headers=api.as_("store"),
    )
    assert done.json()["state"] == "succeeded"
    again = c.post(
        f"/v1/accounts/store/payments/{payment}/sandbox-confirm", json={}, headers=api.as_("store")
    )
    assert (again.status_code, again.json()["code"]) == (409, "payment_not_waiting")


def test_p3_bad_cards_and_other_tenants_are_refused_by_field(api: Api) -> None:
    c = api.client
    real = c.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4111111111111111", "exp_month": 12, "exp_year": 2030},
        headers=api.as_("store"),
    )
    assert (real.status_code, real.json()["code"]) == (422, "invalid_test_card")
    assert real.json()["errors"][0]["field"] == "number"
    month = c.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4242424242424242", "exp_month": 13, "exp_year": 2030},
        headers=api.as_("store"),
    )
    assert month.status_code == 422
    other = c.get("/v1/accounts/store/billing-status", headers=api.as_("cafe"))
    assert other.status_code == 404
    none = c.get("/v1/accounts/store/payment-method", headers=api.as_("store"))
    assert (none.status_code, none.json()["code"]) == (404, "payment_method_not_found")
    unknown = c.put(
        "/v1/accounts/store/payment-method", json={"setup_ref": "nope"}, headers=api.as_("store")
    )
    assert unknown.status_code in (404, 422)


def test_p4_a_cancelled_subscription_is_never_charged_again(api: Api) -> None:
    c = api.client
    card(api, "4000000000000002")
    run(api.db, api.clock)
    collector(api).round(50)
    sub = c.get("/v1/accounts/store/subscriptions", headers=api.as_("store")).json()[0]["id"]
    done = c.post(f"/v1/accounts/store/subscriptions/{sub}/cancel", headers=api.as_("store"))
    assert done.json()["state"] == "canceled"
    card(api, "4242424242424242")
    api.clock.set(local(KYIV, 2026, 5, 2, 9))
    run(api.db, api.clock)
    collector(api).round(50)
    listed = c.get("/v1/accounts/store/payments", headers=api.as_("store")).json()
    assert [p["state"] for p in listed] == ["failed"]


def test_the_operator_retries_a_charge_now(api: Api) -> None:
    c = api.client
    card(api, "4000000000009987")  # lost: waits for a new card
    run(api.db, api.clock)
    collector(api).round(50)
    invoice = c.get("/v1/accounts/store/billing-status", headers=api.as_("store")).json()[
        "invoices"
    ][0]["invoice_id"]
    refused = c.post(f"/v1/invoices/{invoice}/collect", headers=api.as_("store"))
    assert refused.status_code == 403
    done = c.post(f"/v1/invoices/{invoice}/collect", headers=api.as_("operator"))
    assert (done.status_code, done.json()["state"]) == (200, "collecting")
    collector(api).round(50)
    listed = c.get("/v1/accounts/store/payments", headers=api.as_("store")).json()
    assert len(listed) == 2


def test_without_a_gateway_the_payment_routes_say_so(api: Api) -> None:
    from allot.app import create_app

    bare = TestClient(create_app(api.db, api.clock))
    answer = bare.get("/v1/accounts/store/billing-status", headers=api.as_("store"))
    assert (answer.status_code, answer.json()["code"]) == (409, "payments_not_configured")


def test_p4_a_credit_note_is_refunded_or_kept_as_credit_over_http(api: Api) -> None:
    c = api.client
    card(api, "4242424242424242")
    run(api.db, api.clock)  # the store's renewal, USD 279, paid by card
    collector(api).round(50)
    invoice = c.get("/v1/accounts/store/invoices", headers=api.as_("store")).json()["data"][0]
    assert (invoice["state"], invoice["credit_applied"]) == ("paid", "0.00")
    path = f"/v1/invoices/{invoice['id']}/credit-notes"
    op = api.as_("operator")

    bad = c.post(path, json={"reason": "x", "settle": "cash"}, headers=op)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "settle")

    refunded = c.post(
        path,
        json={"reason": "outage", "lines": [{"position": 0, "amount": "20"}], "settle": "refund"},
        headers={**op, "Idempotency-Key": "cn-1"},
    )
    assert refunded.status_code == 201, refunded.text
    assert (refunded.json()["settled_as"], refunded.json()["settled"]) == ("refund", "20.00")
    again = c.post(  # the same key: the same note, refunded once
        path,
        json={"reason": "outage", "lines": [{"position": 0, "amount": "20"}], "settle": "refund"},
        headers={**op, "Idempotency-Key": "cn-1"},
    )
    assert again.json()["number"] == refunded.json()["number"]
    payments = c.get("/v1/accounts/store/payments", headers=api.as_("store")).json()
    assert [p["state"] for p in payments] == ["succeeded"]
    number = refunded.json()["number"]
    asked = c.post(f"/v1/credit-notes/{number}/refund", headers=op).json()
    assert (asked["state"], asked["amount"]) == ("succeeded", "20.00")

    kept = c.post(path, json={"reason": "goodwill", "lines": [{"position": 0, "amount": "9"}]},
                  headers=op)  # fmt: skip
    assert (kept.json()["settled_as"], kept.json()["settled"]) == ("balance", "9.00")
    account = c.get("/v1/accounts/store", headers=api.as_("store")).json()
    assert account["credit_balance"] == "9.00"
    moves = c.get("/v1/accounts/store/credit-balance", headers=api.as_("store")).json()
    assert moves["balance"] == "9.00"
    assert [(m["move"], m["amount"], m["credit_note"]) for m in moves["entries"]] == [
        ("credit_note", "9.00", kept.json()["number"])
    ]
    other = c.get("/v1/accounts/store/credit-balance", headers=api.as_("cafe"))
    assert other.status_code == 404  # another tenant's: as if missing
