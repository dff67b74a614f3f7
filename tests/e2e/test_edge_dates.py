"""U8, dates at the calendar's edge, over real HTTP: every date, month and instant the API
accepts lies in the engine's years (2000-2099), else a 422 problem naming the input.

Each probe here answered a plain-text 500 before: a month `0001-01` or `9999-12`, an
`occurred_at` of `9999-12-31T23:59:59Z`, a subscription started on 9999-12-31, a clock
at the end of time. The app reads a `StoredClock`, as `allot serve` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from allot.app import create_app
from allot.kit.simclock import StoredClock
from tests.e2e.conftest import Api
from tests.e2e.live import serve

PROBLEM = "application/problem+json"

FAR_INSTANTS = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",  # past year 9999 once in UTC
    "0001-01-01T00:00:00+14:00",  # before year 1 once in UTC
    "2100-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2000-01-01T13:59:59+14:00",  # still 1999 in UTC
]
FAR_DATES = ["9999-12-31", "0001-01-01", "2100-01-01", "1999-12-31"]
FAR_MONTHS = ["0001-01", "9999-12", "2100-01", "1999-12"]


@dataclass
class Live:
    api: Api
    http: httpx.Client

    def as_(self, who: str = "operator", **headers: str) -> dict[str, str]:
        return self.api.as_(who, **headers)


@pytest.fixture
def live(api: Api) -> Iterator[Live]:
    app = create_app(api.db, StoredClock(api.db, system=api.clock), rate_limit="off")
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield Live(api, http)


def out_of_range(response: httpx.Response, field: str, code: str = "date_out_of_range") -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (field, code)


def answered(response: httpx.Response) -> None:
    """An answer within the contract: never a 5xx, and a refusal is a problem."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM, response.text


def consume(live: Live, key: str, **body: Any) -> httpx.Response:
    return live.http.post(
        "/v1/accounts/store/consume",
        json={"metric": "orders", **body},
        headers=live.as_(**{"Idempotency-Key": key}),
    )


def set_clock(live: Live, now: str) -> None:
    response = live.http.put("/v1/clock", json={"now": now}, headers=live.as_())
    assert response.status_code == 200, response.text


# --- months in paths and queries -------------------------------------------------------------

MONTH_ROUTES = [
    ("GET", "/v1/accounts/store/usage"),
    ("GET", "/v1/accounts/store/ledger"),
    ("GET", "/v1/accounts/store/advice"),
    ("GET", "/v1/partners/agency-1/report"),
    ("POST", "/v1/partners/agency-1/charges"),
]


@pytest.mark.parametrize(("method", "path"), MONTH_ROUTES)
def test_U8_a_month_outside_2000_2099_is_refused_naming_month(
    live: Live, method: str, path: str
) -> None:
    for month in FAR_MONTHS:
        response = live.http.request(method, path, params={"month": month}, headers=live.as_())
        out_of_range(response, "month")
    for month in ("2000-01", "2099-12"):  # the first and last months of the range
        response = live.http.request(method, path, params={"month": month}, headers=live.as_())
        assert response.status_code == 200, response.text


# --- instants in bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("at", FAR_INSTANTS)
def test_U8_consume_occurred_at_outside_the_range_is_refused_and_records_nothing(
    live: Live, at: str
) -> None:
    out_of_range(consume(live, f"far-{at}", occurred_at=at), "occurred_at")
    ledger = live.http.get("/v1/accounts/store/ledger", headers=live.as_()).json()
    assert ledger["data"] == []


def test_U8_a_batch_names_the_action_whose_occurred_at_is_out_of_range(live: Live) -> None:
    actions = [
        {"metric": "orders", "idempotency_key": "b-0"},
        {"metric": "orders", "idempotency_key": "b-1", "occurred_at": "2026-03-02T10:00:00Z"},
        {"metric": "orders", "idempotency_key": "b-2", "occurred_at": "9999-12-31T23:59:59Z"},
    ]
    response = live.http.post(
        "/v1/accounts/store/consume/batch", json={"actions": actions}, headers=live.as_()
    )
    out_of_range(response, "actions[2].occurred_at")
    ledger = live.http.get("/v1/accounts/store/ledger", headers=live.as_()).json()
    assert ledger["data"] == []


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_U8_orders_name_the_order_whose_placed_at_is_out_of_range(live: Live, at: str) -> None:
    orders = [{"id": f"o{n}", "placed_at": "2026-03-02T10:00:00Z"} for n in range(5)]
    orders[3]["placed_at"] = at
    response = live.http.post(
        "/v1/accounts/store/orders", json={"orders": orders}, headers=live.as_()
    )
    out_of_range(response, "orders[3].placed_at")
    page = live.http.get("/v1/accounts/store/reviews", headers=live.as_()).json()
    assert page["orders"] == 0


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_U8_a_code_term_outside_the_range_is_refused(live: Live, field: str) -> None:
    for at in FAR_INSTANTS:
        response = live.http.post(
            "/v1/partners/agency-1/codes",
            json={"allowances": {"staff_seats": 1}, field: at},
            headers=live.as_(),
        )
        out_of_range(response, field)
    codes = live.http.get("/v1/partners/agency-1/codes", headers=live.as_()).json()
    assert len(codes) == 1  # the fixture's Code #1 only


# --- dates: a subscription's start -----------------------------------------------------------


def test_U8_a_subscription_cannot_start_outside_the_range(live: Live) -> None:
    account = {"id": "bakery", "name": "Bakery", "timezone": "Pacific/Kiritimati"}
    created = live.http.post(
        "/v1/accounts", json={**account, "currency": "USD"}, headers=live.as_()
    )
    assert created.status_code == 201, created.text
    for day in FAR_DATES:
        response = live.http.post(
            "/v1/accounts/bakery/subscriptions",
            json={"plan": "loyalty-business", "started_on": day},
            headers=live.as_(),
        )
        out_of_range(response, "started_on")
    subs = live.http.get("/v1/accounts/bakery/subscriptions", headers=live.as_()).json()
    assert subs == []


def test_U8_a_subscription_started_on_the_last_day_of_the_range_previews_a_change(
    live: Live,
) -> None:
    account = {"id": "bakery", "name": "Bakery", "timezone": "Pacific/Kiritimati"}
    live.http.post("/v1/accounts", json={**account, "currency": "USD"}, headers=live.as_())
    started = live.http.post(
        "/v1/accounts/bakery/subscriptions",
        json={"plan": "loyalty-business", "started_on": "2099-12-31"},
        headers=live.as_(),
    )
    assert started.status_code == 201, started.text
    sub = started.json()["id"]
    change = f"/v1/accounts/bakery/subscriptions/{sub}/plan-change"
    for now in ("2026-03-02T07:00:00Z", "2099-12-31T23:59:59Z"):
        set_clock(live, now)
        for path in (f"{change}/preview", change):
            answered(
                live.http.post(path, json={"plan": "loyalty-professional"}, headers=live.as_())
            )
        answered(live.http.post("/v1/billing/run", headers=live.as_()))
        answered(live.http.get("/v1/accounts/bakery/usage", headers=live.as_()))
        answered(live.http.get("/v1/accounts/bakery/advice", headers=live.as_()))


# --- the clock -------------------------------------------------------------------------------


@pytest.mark.parametrize("now", FAR_INSTANTS)
def test_U8_the_clock_cannot_be_set_outside_the_range(live: Live, now: str) -> None:
    out_of_range(live.http.put("/v1/clock", json={"now": now}, headers=live.as_()), "now")
    assert live.http.get("/v1/clock", headers=live.as_()).json()["simulated"] is False


@pytest.mark.parametrize(
    ("now", "advance"),
    [
        ("2099-12-01T00:00:00Z", {"months": 1}),
        ("2099-12-31T23:59:59Z", {"hours": 1}),
        ("2026-03-02T07:00:00Z", {"months": 1200}),
        ("2026-03-02T07:00:00Z", {"days": 36_600}),
        ("2026-03-02T07:00:00Z", {"hours": 876_000}),
    ],
)
def test_U8_the_clock_cannot_be_advanced_past_2099(
    live: Live, now: str, advance: dict[str, int]
) -> None:
    set_clock(live, now)
    response = live.http.put("/v1/clock", json={"advance": advance}, headers=live.as_())
    out_of_range(response, "advance", "clock_out_of_range")
    stored = live.http.get("/v1/clock", headers=live.as_()).json()["stored"]
    assert datetime.fromisoformat(stored) == datetime.fromisoformat(now)


@pytest.mark.parametrize("now", ["2000-01-01T00:00:00Z", "2099-12-31T23:59:59Z"])
def test_U8_at_either_end_of_the_range_every_route_answers_within_its_contract(
    live: Live, now: str
) -> None:
    """With the clock on the first or last second of the range, and accounts in
    UTC+14 and UTC-11 (whose local month is already 2100-01 or still 1999-12)."""
    for account, tz in (("east", "Pacific/Kiritimati"), ("west", "Pacific/Pago_Pago")):
        body = {"id": account, "name": account, "timezone": tz, "currency": "USD"}
        assert live.http.post("/v1/accounts", json=body, headers=live.as_()).status_code == 201
        subscribed = live.http.post(
            f"/v1/accounts/{account}/subscriptions",
            json={"plan": "full-suite-business", "started_on": now[:10]},
            headers=live.as_(),
        )
        assert subscribed.status_code == 201, subscribed.text
    set_clock(live, now)
    for account in ("east", "west", "store"):
        base = f"/v1/accounts/{account}"
        answered(
            live.http.post(
                f"{base}/consume",
                json={"metric": "orders"},
                headers=live.as_(**{"Idempotency-Key": f"edge-{account}"}),
            )
        )
        answered(
            live.http.post(
                f"{base}/consume",
                json={"metric": "orders", "occurred_at": now},
                headers=live.as_(**{"Idempotency-Key": f"edge-at-{account}"}),
            )
        )
        answered(
            live.http.post(
                f"{base}/orders",
                json={"orders": [{"id": "edge", "placed_at": now}]},
                headers=live.as_(),
            )
        )
        for path in ("usage", "ledger", "advice", "reviews", "invoices", "subscriptions"):
            answered(live.http.get(f"{base}/{path}", headers=live.as_()))
        answered(
            live.http.post(
                f"{base}/seats/take",
                json={"holder": "owner"},
                headers=live.as_(**{"Idempotency-Key": f"seat-{account}"}),
            )
        )
    answered(live.http.post("/v1/billing/run", headers=live.as_()))
    answered(
        live.http.get("/v1/partners/agency-1/report", params={"month": now[:7]}, headers=live.as_())
    )
    answered(
        live.http.post(
            "/v1/partners/agency-1/codes",
            json={"allowances": {"staff_seats": 1}, "ends_at": now},
            headers=live.as_(),
        )
    )
