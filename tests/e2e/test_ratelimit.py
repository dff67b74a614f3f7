"""Rate limits per API key answer 429 with Retry-After."""

from __future__ import annotations

from fastapi.testclient import TestClient

from allot.app import create_app
from tests.e2e.conftest import Api


def test_a_key_past_its_rate_gets_429_with_retry_after_and_other_keys_do_not(api: Api) -> None:
    client = TestClient(create_app(api.db, api.clock, rate_limit="5/min", rate_burst=5))
    answers = [
        client.get("/v1/accounts/cafe", headers=api.as_("cafe")).status_code for _ in range(6)
    ]
    assert answers == [200] * 5 + [429]
    limited = client.get("/v1/accounts/cafe", headers=api.as_("cafe"))
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert client.get("/v1/accounts/store", headers=api.as_("store")).status_code == 200
