"""Every endpoint over HTTP, its answers and its refusals (problem+json)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from allot.apikey.service import revoke_key
from tests.e2e.conftest import Api
from tests.scenarios.world import PRESETS

PROBLEM = "application/problem+json"


def problem(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    if field is not None:
        assert body["errors"][0]["field"] == field


def consume(api: Api, account: str, key: str, who: str = "operator", **body: Any) -> Any:
    body.setdefault("metric", "card_operations")
    return api.client.post(
        f"/v1/accounts/{account}/consume",
        json=body,
        headers=api.as_(who, **{"Idempotency-Key": key}),
    )


# -- health, keys -----------------------------------------------------------------------


def test_health_needs_no_key(api: Api) -> None:
    body = api.client.get("/v1/health").json()
    assert body["status"] == "ok"
    assert body["database"] == api.db.dialect


def test_a_request_without_a_valid_key_is_401(api: Api) -> None:
    problem(api.client.get("/v1/accounts/cafe"), 401, "missing_api_key")
    wrong = {"Authorization": "Bearer allot_op_not-a-real-key"}
    problem(api.client.get("/v1/accounts/cafe", headers=wrong), 401, "invalid_api_key")


def test_a_revoked_key_stops_working_at_once(api: Api) -> None:
    assert api.client.get("/v1/accounts/cafe", headers=api.as_("cafe")).status_code == 200
    with api.db.transaction() as conn:
        from allot.apikey.repository import list_all

        key_id = next(k.id for k in list_all(conn) if k.subject == "cafe")
        revoke_key(conn, api.clock, key_id=key_id)
    problem(api.client.get("/v1/accounts/cafe", headers=api.as_("cafe")), 401, "invalid_api_key")


# -- accounts -------------------------------------------------------------------------------


NEW = {
    "id": "bakery",
    "name": "Bakery",
    "timezone": "Asia/Bangkok",
    "currency": "EUR",
    "locale": "th",
}


def test_A1_create_read_update_and_list_accounts(api: Api) -> None:
    created = api.client.post("/v1/accounts", json=NEW, headers=api.as_("operator"))
    assert created.status_code == 201
    assert created.json()["timezone"] == "Asia/Bangkok"
    patched = api.client.patch(
        "/v1/accounts/bakery", json={"timezone": "Europe/Kyiv"}, headers=api.as_("operator")
    )
    assert patched.json()["timezone"] == "Europe/Kyiv"
    page = api.client.get("/v1/accounts", params={"limit": 2}, headers=api.as_("operator")).json()
    assert [a["id"] for a in page["data"]] == ["bakery", "cafe"]
    assert page["next_after"] == "cafe"
    rest = api.client.get(
        "/v1/accounts", params={"after": "cafe"}, headers=api.as_("operator")
    ).json()
    assert [a["id"] for a in rest["data"]] == ["store"]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown_time_zone", "timezone"),
        ({"currency": "XYZ"}, "unknown_currency", "currency"),
        ({"id": "no spaces"}, "invalid_identifier", "id"),
        ({"locale": "??"}, "invalid_locale", "locale"),
        ({"billing_channel": "cash"}, "invalid_billing_channel", "billing_channel"),
        ({"name": ""}, "required", "name"),
        ({"extra": 1}, "invalid_request", "extra"),
        ({"timezone": None}, "invalid_request", "timezone"),
    ],
)
def test_A1_bad_account_input_names_the_field(
    api: Api, change: dict[str, Any], code: str, field: str
) -> None:
    response = api.client.post("/v1/accounts", json={**NEW, **change}, headers=api.as_("operator"))
    problem(response, 422, code, field)
    assert api.client.get("/v1/accounts/bakery", headers=api.as_("operator")).status_code == 404


def test_A1_an_existing_account_id_is_a_conflict(api: Api) -> None:
    problem(
        api.client.post("/v1/accounts", json={**NEW, "id": "cafe"}, headers=api.as_("operator")),
        409,
        "account_exists",
        "id",
    )


def test_the_same_idempotency_key_replays_the_first_response(api: Api) -> None:
    headers = api.as_("operator", **{"Idempotency-Key": "create-bakery"})
    first = api.client.post("/v1/accounts", json=NEW, headers=headers)
    again = api.client.post("/v1/accounts", json=NEW, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    other = api.client.post("/v1/accounts", json={**NEW, "name": "Other"}, headers=headers)
    problem(other, 422, "idempotency_key_reused", "idempotency_key")


# -- subscriptions ----------------------------------------------------------------------------


def test_A2_subscribe_list_and_change_quantity(api: Api) -> None:
    api.client.post("/v1/accounts", json=NEW, headers=api.as_("operator"))
    sub = api.client.post(
        "/v1/accounts/bakery/subscriptions",
        json={"plan": "monthly", "quantity": 2, "started_on": "2026-03-21"},
        headers=api.as_("operator"),
    )
    assert sub.status_code == 201
    assert sub.json()["plan_version"] == 1
    sub_id = sub.json()["id"]
    listed = api.client.get("/v1/accounts/bakery/subscriptions", headers=api.as_("operator"))
    assert [s["quantity"] for s in listed.json()] == [2]
    changed = api.client.patch(
        f"/v1/accounts/bakery/subscriptions/{sub_id}",
        json={"quantity": 3},
        headers=api.as_("operator"),
    )
    assert changed.json()["quantity"] == 3
    usage = api.client.get("/v1/accounts/bakery/usage", headers=api.as_("operator")).json()
    ops = next(m for m in usage["metrics"] if m["metric"] == "card_operations")
    assert ops["included"] == 3000


def test_A2_subscription_refusals(api: Api) -> None:
    op = api.as_("operator")
    problem(
        api.client.post("/v1/accounts/cafe/subscriptions", json={"plan": "nope"}, headers=op),
        404,
        "plan_not_found",
        "plan",
    )
    problem(
        api.client.post(
            "/v1/accounts/cafe/subscriptions", json={"plan": "full-suite-business"}, headers=op
        ),
        422,
        "currency_mismatch",
        "plan",
    )
    problem(
        api.client.post("/v1/accounts/cafe/subscriptions", json={"plan": "monthly"}, headers=op),
        409,
        "already_subscribed",
        "plan",
    )
    problem(
        api.client.patch("/v1/accounts/cafe/subscriptions/999", json={"quantity": 2}, headers=op),
        404,
        "subscription_not_found",
    )
    problem(
        api.client.post(
            "/v1/accounts/cafe/subscriptions", json={"plan": "monthly", "quantity": 0}, headers=op
        ),
        422,
        "invalid_request",
        "quantity",
    )


# -- consume -----------------------------------------------------------------------------------


def test_U2_U3_consume_answers_who_pays(api: Api) -> None:
    response = consume(api, "cafe", "till-1:1", quantity=2)
    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is True
    assert body["draws"] == [{"source": "plan:1", "kind": "plan", "quantity": 2}]
    assert body["period"] == "2026-03"


def test_U4_past_the_free_plan_the_answer_carries_the_prompt(api: Api) -> None:
    consume(api, "cafe", "bulk", quantity=100)
    body = consume(api, "cafe", "the-101st").json()
    assert body["outcome"] == "free_overage"
    assert body["prompt"] == ["activate_code", "upgrade_plan", "reduce_usage"]


def test_U4_a_blocked_action_is_an_answer_not_an_error(api: Api) -> None:
    api.client.post("/v1/accounts", json={**NEW, "id": "strict"}, headers=api.as_("operator"))
    api.client.post(
        "/v1/accounts/strict/subscriptions", json={"plan": "strict"}, headers=api.as_("operator")
    )
    consume(api, "strict", "ten", metric="orders", quantity=10)
    body = consume(api, "strict", "eleventh", metric="orders").json()
    assert (body["allowed"], body["reason"], body["draws"]) == (False, "allowance_exhausted", [])


def test_U1_consume_replays_and_refuses_a_reused_key(api: Api) -> None:
    first = consume(api, "cafe", "k1", quantity=2).json()
    again = consume(api, "cafe", "k1", quantity=2).json()
    assert again["replayed"] is True
    assert again["event_id"] == first["event_id"]
    problem(consume(api, "cafe", "k1", quantity=3), 422, "idempotency_key_reused")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"quantity": 0}, "invalid_request", "quantity"),
        ({"quantity": "two"}, "invalid_request", "quantity"),
        ({"occurred_at": "2026-01-31T23:30:00"}, "invalid_request", "occurred_at"),
        ({"metric": "no_such_metric"}, "metric_not_found", "metric"),
        ({"metric": "\u0000"}, "metric_not_found", "metric"),  # PostgreSQL text holds no NUL
        ({"metric": "staff_seats"}, "wrong_metric_kind", "metric"),
    ],
)
def test_U1_bad_consume_input(api: Api, body: dict[str, Any], code: str, field: str) -> None:
    status = 404 if code == "metric_not_found" else 422
    problem(consume(api, "cafe", "k", **body), status, code, field)


def test_U1_consume_without_an_idempotency_key_is_refused(api: Api) -> None:
    response = api.client.post(
        "/v1/accounts/cafe/consume", json={"metric": "card_operations"}, headers=api.as_("operator")
    )
    problem(response, 422, "idempotency_key_required", "Idempotency-Key")


def test_U5_an_order_placed_on_31_january_counts_in_january(api: Api) -> None:
    """The same rule on the 31st of March: 23:30 in New York is April in UTC and in Kyiv."""
    api.clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))  # reported two days later
    body = consume(
        api, "store", "order-1", metric="orders", occurred_at="2026-03-31T23:30:00-04:00"
    ).json()
    assert body["period"] == "2026-03"


def test_batch_gives_one_result_per_action(api: Api) -> None:
    actions = [
        {"metric": "card_operations", "quantity": 1, "idempotency_key": "b1"},
        {"metric": "no_such_metric", "quantity": 1, "idempotency_key": "b2"},
        {"metric": "card_operations", "quantity": 2, "idempotency_key": "b3"},
        {"metric": "card_operations", "quantity": 1, "idempotency_key": "b1"},
    ]
    response = api.client.post(
        "/v1/accounts/cafe/consume/batch", json={"actions": actions}, headers=api.as_("cafe")
    )
    results = response.json()["results"]
    assert [r["idempotency_key"] for r in results] == ["b1", "b2", "b3", "b1"]
    assert results[1]["problem"]["code"] == "metric_not_found"
    assert results[3]["decision"]["replayed"] is True
    usage = api.client.get("/v1/accounts/cafe/usage", headers=api.as_("cafe")).json()
    assert usage["metrics"][0]["used"] == 3


def test_batch_limits(api: Api) -> None:
    too_many = [{"metric": "card_operations", "idempotency_key": f"k{i}"} for i in range(1001)]
    problem(
        api.client.post(
            "/v1/accounts/cafe/consume/batch", json={"actions": too_many}, headers=api.as_("cafe")
        ),
        422,
        "invalid_request",
        "actions",
    )
    problem(
        api.client.post(
            "/v1/accounts/cafe/consume/batch", json={"actions": []}, headers=api.as_("cafe")
        ),
        422,
        "invalid_request",
        "actions",
    )


def test_a_body_past_the_size_limit_is_413(api: Api) -> None:
    huge = "x" * (3 * 1024 * 1024)
    problem(
        api.client.post("/v1/catalog", json={"yaml": huge}, headers=api.as_("operator")),
        413,
        "request_too_large",
    )


# -- seats, usage, ledger -------------------------------------------------------------------------


def test_U6_seats_over_http(api: Api) -> None:
    seat = {"holder": "owner"}
    take = api.client.post(
        "/v1/accounts/cafe/seats/take",
        json=seat,
        headers=api.as_("cafe", **{"Idempotency-Key": "s1"}),
    )
    assert take.json()["draws"][0]["kind"] == "plan"
    problem(
        api.client.post(
            "/v1/accounts/cafe/seats/take",
            json=seat,
            headers=api.as_("cafe", **{"Idempotency-Key": "s2"}),
        ),
        409,
        "seat_already_held",
        "holder",
    )
    release = api.client.post(
        "/v1/accounts/cafe/seats/release",
        json=seat,
        headers=api.as_("cafe", **{"Idempotency-Key": "s3"}),
    )
    assert release.json()["draws"] == [{"source": "plan:1", "kind": "plan", "quantity": -1}]
    problem(
        api.client.post(
            "/v1/accounts/cafe/seats/release",
            json=seat,
            headers=api.as_("cafe", **{"Idempotency-Key": "s4"}),
        ),
        404,
        "seat_not_held",
        "holder",
    )


def test_usage_is_the_billing_pages_numbers(api: Api) -> None:
    consume(api, "store", "o1", metric="orders", quantity=1800)
    usage = api.client.get("/v1/accounts/store/usage", headers=api.as_("store")).json()
    orders = usage["metrics"][0]
    assert orders["headline"] == "Used: 1800 / 1500 included per month"
    assert (orders["charge"], orders["currency"]) == ("60.00", "USD")
    earlier = api.client.get(
        "/v1/accounts/store/usage", params={"month": "2026-02"}, headers=api.as_("store")
    ).json()
    assert earlier["metrics"][0]["used"] == 0
    problem(
        api.client.get(
            "/v1/accounts/store/usage", params={"month": "2026-13"}, headers=api.as_("store")
        ),
        422,
        "invalid_month",
        "month",
    )


def test_ledger_pages_and_filters(api: Api) -> None:
    for i in range(5):
        consume(api, "cafe", f"l{i}")
    first = api.client.get(
        "/v1/accounts/cafe/ledger", params={"limit": 2}, headers=api.as_("cafe")
    ).json()
    assert len(first["data"]) == 2
    rest = api.client.get(
        "/v1/accounts/cafe/ledger",
        params={
            "after": first["next_after"],
            "month": "2026-03",
            "source": "plan:1",
            "metric": "card_operations",
        },
        headers=api.as_("cafe"),
    ).json()
    assert len(rest["data"]) == 3
    seqs = [e["seq"] for e in first["data"] + rest["data"]]
    assert seqs == sorted(seqs)
    none = api.client.get(
        "/v1/accounts/cafe/ledger", params={"month": "2026-02"}, headers=api.as_("cafe")
    ).json()
    assert none["data"] == []


# -- catalog --------------------------------------------------------------------------------------


def test_C5_catalog_read_and_load(api: Api) -> None:
    plans = api.client.get("/v1/catalog", headers=api.as_("partner")).json()
    assert any(p["definition"]["code"] == "full-suite-business" for p in plans)
    text = (
        (PRESETS / "stamp-card.yaml").read_text().replace('    price: "29" #', '    price: "35" #')
    )
    loaded = api.client.post(
        "/v1/catalog", json={"name": "stamp-card.yaml", "yaml": text}, headers=api.as_("operator")
    )
    assert loaded.json()["new_versions"] == ["monthly v2"]
    bad = api.client.post(
        "/v1/catalog",
        json={"name": "bad.yaml", "yaml": "catalog: [\n"},
        headers=api.as_("operator"),
    )
    problem(bad, 422, "invalid_catalog")
    assert "bad.yaml:" in bad.json()["detail"]


def test_unknown_routes_are_problems_too(api: Api) -> None:
    problem(api.client.get("/v1/nowhere", headers=api.as_("operator")), 404, "not_found")


def test_docs_are_served_without_a_cdn(api: Api) -> None:
    page = api.client.get("/docs").text
    assert "cdn" not in page.lower()
    for asset in (
        "/static-offline-docs/swagger-ui-bundle.js",
        "/static-offline-docs/swagger-ui.css",
    ):
        assert asset in page
        assert api.client.get(asset).status_code == 200
    info = api.client.get("/openapi.json").json()["info"]
    assert info["title"] == "allot"
    assert "docs/errors.md" in info["description"]  # where every error code is listed
