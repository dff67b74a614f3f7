"""The Reviews gate over HTTP (R1-R5): a store reports its orders, sets a top-up limit,
reads its Reviews page, lists the requests to send and acknowledges them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.scenarios.world import local

NY = "America/New_York"


@pytest.fixture
def shop(api: Api) -> Api:
    api.clock.set(local(NY, 2026, 3, 20, 12))
    op = api.as_("operator")
    made = api.client.post(
        "/v1/accounts",
        json={"id": "shop", "name": "Shop", "timezone": NY, "currency": "USD"},
        headers=op,
    )
    assert made.status_code == 201, made.text
    sub = api.client.post(
        "/v1/accounts/shop/subscriptions",
        json={"plan": "reviews-business", "started_on": "2026-03-01"},
        headers=op,
    )
    assert sub.status_code == 201, sub.text
    return api


def orders(first: int, last: int, start: datetime) -> list[dict[str, Any]]:
    return [
        {"id": f"o{n:05d}", "placed_at": (start + timedelta(minutes=n)).isoformat()}
        for n in range(first, last + 1)
    ]


def post(api: Api, body: Any) -> Any:
    return api.client.post("/v1/accounts/shop/orders", json=body, headers=api.as_("operator"))


def test_r1_r2_r5_a_store_with_a_150_dollar_top_up(shop: Api) -> None:
    op = shop.as_("operator")
    top = shop.client.put(
        "/v1/accounts/shop/top-up", json={"mode": "defined", "cap": "150"}, headers=op
    )
    assert top.status_code == 200, top.text
    assert top.json()["top_up_orders"] == 1071
    start = local(NY, 2026, 3, 2)
    for first in range(1, 3001, 1000):
        done = post(shop, {"orders": orders(first, first + 999, start)})
        assert done.status_code == 200, done.text
    again = post(shop, {"orders": orders(1, 1000, start)}).json()
    assert (again["new"], again["duplicates"]) == (0, 1000)
    page = shop.client.get("/v1/accounts/shop/reviews", headers=op).json()
    assert (page["orders"], page["within"], page["topped_up"]) == (3000, 1500, 1071)
    assert page["top_up_spent"] == "149.94"
    assert page["requests"] == {"to_send": 2571, "waiting": 429}
    waiting = shop.client.get(
        "/v1/accounts/shop/review-requests?state=waiting&limit=10", headers=op
    ).json()
    assert [r["order_id"] for r in waiting["data"]][:2] == ["o02572", "o02573"]
    assert waiting["next_after"] == "o02581"
    ack = shop.client.post(
        "/v1/accounts/shop/review-requests/ack",
        json={"order_ids": ["o00001", "o02572"]},
        headers=op,
    ).json()
    assert ack == {"acknowledged": 1, "not_acknowledged": {"o02572": "waiting"}}


@pytest.mark.parametrize(
    ("order", "code", "field"),
    [
        ({"id": "a", "placed_at": "2026-03-02T10:00:00"}, "invalid_request", "placed_at"),
        ({"id": "a", "placed_at": "2027-03-02T10:00:00+00:00"}, "occurred_in_future", "placed_at"),
        (
            {"id": "a", "placed_at": "2026-03-01T04:59:00+00:00"},  # 23:59 on 28 Feb in NY
            "before_plan_started",
            "orders[1].placed_at",
        ),
        ({"id": "", "placed_at": "2026-03-02T10:00:00+00:00"}, "invalid_request", "id"),
        (
            {"id": "a", "placed_at": "2026-03-02T10:00:00Z", "excluded": "no"},
            "invalid_request",
            "excluded",
        ),
    ],
)
def test_bad_orders_name_the_field_and_nothing_is_counted(
    shop: Api, order: dict[str, Any], code: str, field: str
) -> None:
    good = {"id": "fine", "placed_at": "2026-03-01T05:00:00+00:00"}  # the plan's first minute
    refused = post(shop, {"orders": [good, order]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == code
    assert field in refused.text
    page = shop.client.get("/v1/accounts/shop/reviews", headers=shop.as_("operator")).json()
    assert page["orders"] == 0  # the good order of the batch was not kept either


def test_r2_top_up_refused_on_a_free_plan_and_on_a_plan_without_one(shop: Api) -> None:
    op = shop.as_("operator")
    cafe = shop.client.put("/v1/accounts/cafe/top-up", json={"mode": "unlimited"}, headers=op)
    assert (cafe.status_code, cafe.json()["code"]) == (409, "no_orders_plan")
    shop.client.post(
        "/v1/accounts",
        json={"id": "tiny", "name": "Tiny", "timezone": NY, "currency": "USD"},
        headers=op,
    )
    shop.client.post("/v1/accounts/tiny/subscriptions", json={"plan": "reviews-free"}, headers=op)
    tiny = shop.client.put("/v1/accounts/tiny/top-up", json={"mode": "unlimited"}, headers=op)
    assert (tiny.status_code, tiny.json()["code"]) == (409, "top_up_not_on_free_plan")
    bad = shop.client.put("/v1/accounts/shop/top-up", json={"mode": "defined"}, headers=op)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_top_up_cap")


def test_U3_the_usage_api_names_the_top_up_as_the_payer_of_orders_it_let_through(
    shop: Api,
) -> None:
    """Seed 003: $150 at $0.14 buys 1,071 orders past Business's 1,500; the rest wait."""
    op = shop.as_("operator")
    shop.client.put("/v1/accounts/shop/top-up", json={"mode": "defined", "cap": "150"}, headers=op)
    for first in range(1, 3001, 1000):
        assert post(shop, {"orders": orders(first, first + 999, local(NY, 2026, 3, 2))}).is_success
    usage = shop.client.get("/v1/accounts/shop/usage?month=2026-03", headers=op).json()
    (orders_use,) = [m for m in usage["metrics"] if m["metric"] == "orders"]
    by_kind = {p["kind"]: p["used"] for p in orders_use["split"]}
    assert by_kind == {"plan": 1500, "top_up": 1071, "backlog": 429}
    assert orders_use["used"] == 3000
    paid = shop.client.get(
        "/v1/accounts/shop/ledger?month=2026-03&source=top_up", headers=op
    ).json()
    # one entry per batch that went past the limit: orders 2,001-2,500, then 2,501-2,571
    assert [(e["source_kind"], e["quantity"]) for e in paid["data"]] == [
        ("top_up", 500),
        ("top_up", 571),
    ]
    schema = shop.client.get("/openapi.json").json()["components"]["schemas"]
    assert "top_up" in schema["SourceKind"]["enum"]
