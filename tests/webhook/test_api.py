"""/v1/webhooks over HTTP: operator keys only; a real receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from allot.account.service import create_account
from allot.apikey.service import create_key
from allot.app import create_app
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.webhook.guard import ALLOW_PRIVATE_ENV
from allot.webhook.service import emit
from tests.webhook.conftest import Receiver, deliver


def _app(db: Database, clock: FixedClock) -> FastAPI:
    return create_app(db, clock)


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        headers.update(kwargs.pop("headers", {}))
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def api(db: Database, clock: FixedClock) -> Iterator[Api]:
    with db.transaction() as conn:
        create_account(
            conn, clock, account_id="cafe", name="Cafe", timezone="Europe/Kyiv", currency="EUR"
        )
        keys = {
            "operator": create_key(conn, clock, role="operator", subject=None)[1],
            "cafe": create_key(conn, clock, role="account", subject="cafe")[1],
        }
    with TestClient(_app(db, clock)) as client:
        yield Api(client, keys)


def test_the_operator_registers_an_endpoint_and_follows_its_deliveries(
    api: Api,
    db: Database,
    clock: FixedClock,
    receiver: Receiver,
    http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")  # the receiver listens on loopback
    body = {"url": receiver.url, "event_types": ["usage.overage_recorded"], "description": "CRM"}
    created = api.call("operator", "POST", "/v1/webhooks/endpoints", json=body)
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.secret = endpoint["secret"]

    listed = api.call("operator", "GET", "/v1/webhooks/endpoints").json()
    assert listed == [{k: v for k, v in endpoint.items() if k != "secret"}]

    with db.transaction() as conn:
        emit(
            conn,
            clock,
            type="usage.overage_recorded",
            payload={"metric": "orders", "quantity": 1},
            account_id="cafe",
        )
    receiver.plan = [500]
    deliver(db, clock, http)
    page = api.call(
        "operator", "GET", "/v1/webhooks/deliveries", params={"endpoint_id": endpoint["id"]}
    ).json()
    [pending] = page["data"]
    assert page["next_before"] is None
    assert (pending["state"], pending["attempts"], pending["last_status_code"]) == (
        "pending",
        1,
        500,
    )
    assert (pending["event_type"], pending["account_id"]) == ("usage.overage_recorded", "cafe")

    redelivered = api.call("operator", "POST", f"/v1/webhooks/deliveries/{pending['id']}/redeliver")
    assert redelivered.status_code == 200, redelivered.text
    assert redelivered.json()["state"] == "pending"
    deliver(db, clock, http)  # due now, not in 5 seconds
    detail = api.call("operator", "GET", f"/v1/webhooks/deliveries/{pending['id']}").json()
    assert detail["state"] == "delivered"
    assert [a["status_code"] for a in detail["log"]] == [500, 200]
    assert len(receiver.messages) == 2
    delivered = api.call(
        "operator", "GET", "/v1/webhooks/deliveries", params={"state": "delivered"}
    ).json()
    assert [d["id"] for d in delivered["data"]] == [pending["id"]]

    removed = api.call("operator", "DELETE", f"/v1/webhooks/endpoints/{endpoint['id']}")
    assert removed.status_code == 204
    assert api.call("operator", "GET", "/v1/webhooks/endpoints").json() == []
    every = api.call(
        "operator", "GET", "/v1/webhooks/endpoints", params={"include_disabled": "true"}
    ).json()
    assert [e["disabled"] for e in every] == [True]


def test_refusals_are_problems_that_name_the_field(api: Api) -> None:
    unknown = api.call(
        "operator",
        "POST",
        "/v1/webhooks/endpoints",
        json={"url": "https://93.184.215.14/", "event_types": ["usage.nope"]},
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_event_type"
    assert unknown.json()["errors"][0]["field"] == "event_types"

    private = api.call(
        "operator",
        "POST",
        "/v1/webhooks/endpoints",
        json={"url": "http://169.254.169.254/", "event_types": ["subscription.updated"]},
    )
    assert private.status_code == 422
    assert private.json()["code"] == "webhook_url_not_allowed"
    assert private.json()["errors"][0]["field"] == "url"

    missing = api.call("operator", "POST", "/v1/webhooks/deliveries/9/redeliver")
    assert (missing.status_code, missing.json()["code"]) == (404, "webhook_delivery_not_found")
    gone = api.call("operator", "DELETE", "/v1/webhooks/endpoints/9")
    assert (gone.status_code, gone.json()["code"]) == (404, "webhook_endpoint_not_found")
    bad_state = api.call("operator", "GET", "/v1/webhooks/deliveries", params={"state": "x"})
    assert bad_state.status_code == 422


def test_a_public_endpoint_can_be_registered_with_its_own_secret(api: Api) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    created = api.call(
        "operator",
        "POST",
        "/v1/webhooks/endpoints",
        json={"url": "https://93.184.215.14/in", "event_types": ["subscription.updated"]}
        | {"secret": secret},
        headers={"Idempotency-Key": "hook-1"},
    )
    assert created.status_code == 201
    assert created.json()["secret"] == secret


ROUTES = [
    (
        "POST",
        "/v1/webhooks/endpoints",
        {"url": "https://93.184.215.14/", "event_types": ["subscription.updated"]},
    ),
    ("GET", "/v1/webhooks/endpoints", None),
    ("DELETE", "/v1/webhooks/endpoints/1", None),
    ("GET", "/v1/webhooks/deliveries", None),
    ("GET", "/v1/webhooks/deliveries/1", None),
    ("POST", "/v1/webhooks/deliveries/1/redeliver", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_an_account_key_gets_403_and_no_key_401(
    api: Api, method: str, path: str, body: Any
) -> None:
    forbidden = api.call("cafe", method, path, json=body)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "operator_only")
    assert api.call("", method, path, json=body).status_code == 401


def test_every_webhook_route_is_covered(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    found = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/v1/webhooks")
        for method in operations
    }
    assert len(found) == len(ROUTES)
