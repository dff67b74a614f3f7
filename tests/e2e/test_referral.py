"""Referral over HTTP (A4): the operator switches it on, the business reads its link,
a sign-up through it is attributed, and a bad code leaves no account behind."""

from __future__ import annotations

import pytest
from httpx2 import Response  # what the TestClient answers

from tests.e2e.conftest import Api


def sign_up(api: Api, referral_code: str) -> Response:
    return api.client.post(
        "/v1/accounts",
        json={
            "id": "bakery",
            "name": "Bakery",
            "timezone": "Europe/Kyiv",
            "currency": "EUR",
            "referral_code": referral_code,
        },
        headers=api.as_("operator"),
    )


def test_a4_operator_switches_referral_on_the_business_reads_its_link(api: Api) -> None:
    missing = api.client.get("/v1/accounts/cafe/referral", headers=api.as_("cafe"))
    assert missing.status_code == 404
    assert missing.json()["code"] == "referral_not_enabled"

    on = api.client.put("/v1/accounts/cafe/referral", headers=api.as_("operator"))
    assert on.status_code == 200, on.text
    body = on.json()
    code = body["code"]
    assert body["enabled"] is True
    assert body["link"] == f"/signup?ref={code}"
    assert (body["earned"], body["credited"], body["balance"]) == ("0.00", "0.00", "0.00")

    made = sign_up(api, code.lower())
    assert made.status_code == 201, made.text
    seen = api.client.get("/v1/accounts/cafe/referral", headers=api.as_("cafe")).json()
    assert [(r["account_id"], r["state"], r["reward"]) for r in seen["referred"]] == [
        ("bakery", "signed_up", None)
    ]

    off = api.client.delete("/v1/accounts/cafe/referral", headers=api.as_("operator"))
    assert off.json()["enabled"] is False
    again = api.client.put("/v1/accounts/cafe/referral", headers=api.as_("operator")).json()
    assert again["code"] == code


@pytest.mark.parametrize(
    ("referral_code", "status", "code"),
    [
        ("7K2M", 422, "invalid_referral_code"),
        ("0000-0000-0000-0000-0", 404, "referral_code_not_found"),
        ("x" * 41, 422, "invalid_request"),
    ],
)
def test_a4_a_bad_referral_code_names_the_field_and_creates_no_account(
    api: Api, referral_code: str, status: int, code: str
) -> None:
    api.client.put("/v1/accounts/cafe/referral", headers=api.as_("operator"))
    made = sign_up(api, referral_code)
    assert made.status_code == status, made.text
    problem = made.json()
    assert problem["code"] == code
    assert "referral_code" in made.text
    assert api.client.get("/v1/accounts/bakery", headers=api.as_("operator")).status_code == 404
