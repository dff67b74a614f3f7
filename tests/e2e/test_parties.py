"""Billing details and the seller over HTTP (A1, B8): set, read, refused by field, and
printed on the invoice the run issues next."""

from __future__ import annotations

from tests.e2e.conftest import Api

SELLER = {
    "legal_name": "Allot Demo Ltd",
    "tax_id": "GB123456789",
    "address": {"line1": "12 Market Street", "city": "London", "country": "GB"},
}


def test_b8_the_operator_sets_the_seller_and_every_key_reads_it(api: Api) -> None:
    c = api.client
    missing = c.get("/v1/seller", headers=api.as_("cafe"))
    assert (missing.status_code, missing.json()["code"]) == (404, "seller_not_set")
    refused = c.put("/v1/seller", json=SELLER, headers=api.as_("cafe"))
    assert refused.status_code == 403
    done = c.put("/v1/seller", json=SELLER, headers=api.as_("operator"))
    assert done.status_code == 200, done.text
    assert c.get("/v1/seller", headers=api.as_("cafe")).json()["legal_name"] == "Allot Demo Ltd"


def test_b8_a_seller_without_an_address_is_refused_and_nothing_is_set(api: Api) -> None:
    c = api.client
    bad = c.put("/v1/seller", json={"legal_name": "X Ltd"}, headers=api.as_("operator"))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "seller.address"
    assert c.get("/v1/seller", headers=api.as_("operator")).status_code == 404


def test_a1_billing_details_are_patched_read_and_refused_by_field(api: Api) -> None:
    c = api.client
    address = {"line1": "Khreshchatyk 1", "city": "Kyiv", "country": "ua"}
    details = {
        "legal_name": "Kavarnia LLC",
        "email": "billing@kavarnia.example",
        "address": address,
    }
    done = c.patch(
        "/v1/accounts/cafe", json={"billing_details": details}, headers=api.as_("operator")
    )
    assert done.status_code == 200, done.text
    read = c.get("/v1/accounts/cafe", headers=api.as_("cafe")).json()["billing_details"]
    assert read["address"]["country"] == "UA"
    assert read["email"] == "billing@kavarnia.example"

    bad = c.patch(
        "/v1/accounts/cafe",
        json={"billing_details": {**details, "address": {**address, "country": "EU"}}},
        headers=api.as_("operator"),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "billing_details.address.country"
    still = c.get("/v1/accounts/cafe", headers=api.as_("cafe")).json()["billing_details"]
    assert still == read

    cleared = c.patch(
        "/v1/accounts/cafe", json={"billing_details": {}}, headers=api.as_("operator")
    )
    assert cleared.json()["billing_details"] == {
        "legal_name": None,
        "email": None,
        "tax_id": None,
        "address": None,
    }
