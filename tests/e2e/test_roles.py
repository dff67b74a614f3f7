"""The role × route × foreign-object matrix: 0 leaks (404), forbidden functions 403.

Every route is tried by every non-operator key on another tenant's account
(the answer must be the 404 a missing account gets) and on its own (operator
functions answer 403). Default deny: a route missing from this table fails
`test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import Api

SEAT = {"holder": "x"}
# (method, path, body, operator only)
ACCOUNT_ROUTES: list[tuple[str, str, Any, bool]] = [
    ("GET", "/v1/accounts/{a}", None, False),
    ("PATCH", "/v1/accounts/{a}", {"name": "New"}, True),
    ("GET", "/v1/accounts/{a}/subscriptions", None, False),
    ("POST", "/v1/accounts/{a}/subscriptions", {"plan": "monthly"}, True),
    ("PATCH", "/v1/accounts/{a}/subscriptions/1", {"quantity": 2}, True),
    ("POST", "/v1/accounts/{a}/consume", {"metric": "card_operations"}, False),
    (
        "POST",
        "/v1/accounts/{a}/consume/batch",
        {"actions": [{"metric": "card_operations", "idempotency_key": "b"}]},
        False,
    ),
    ("POST", "/v1/accounts/{a}/seats/take", SEAT, False),
    ("POST", "/v1/accounts/{a}/seats/release", SEAT, False),
    ("GET", "/v1/accounts/{a}/usage", None, False),
    ("GET", "/v1/accounts/{a}/ledger", None, False),
    ("POST", "/v1/accounts/{a}/codes/claim", {"code": "0000-0000-0000-0000-0"}, False),
]
# Routes of one partner: (method, path, body)
PARTNER_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/v1/partners/{p}", None),
    ("POST", "/v1/partners/{p}/codes", {"allowances": {"staff_seats": 2}}),
    ("GET", "/v1/partners/{p}/codes", None),
    ("GET", "/v1/partners/{p}/codes/1", None),
    ("POST", "/v1/partners/{p}/codes/1/pause", None),
    ("POST", "/v1/partners/{p}/codes/1/resume", None),
    ("POST", "/v1/partners/{p}/codes/1/revoke", None),
    ("POST", "/v1/partners/{p}/codes/1/assign", {"account_id": "cafe"}),
    ("GET", "/v1/partners/{p}/report?month=2026-03", None),
]
GLOBAL_ROUTES: list[tuple[str, str, Any, bool]] = [
    ("GET", "/v1/accounts", None, True),
    (
        "POST",
        "/v1/accounts",
        {"id": "new", "name": "N", "timezone": "UTC", "currency": "EUR"},
        True,
    ),
    ("GET", "/v1/catalog", None, False),
    ("POST", "/v1/catalog", {"yaml": "catalog: x\n"}, True),
    ("GET", "/v1/partners", None, True),
    (
        "POST",
        "/v1/partners",
        {
            "id": "new",
            "name": "N",
            "kind": "agency",
            "contact": "c",
            "currency": "EUR",
            "wholesale_discount": "0.1",
        },
        True,
    ),
    (
        "POST",
        "/v1/webhooks/endpoints",
        {"url": "https://93.184.215.14/", "event_types": ["subscription.updated"]},
        True,
    ),
    ("GET", "/v1/webhooks/endpoints", None, True),
    ("DELETE", "/v1/webhooks/endpoints/1", None, True),
    ("GET", "/v1/webhooks/deliveries", None, True),
    ("GET", "/v1/webhooks/deliveries/1", None, True),
    ("POST", "/v1/webhooks/deliveries/1/redeliver", None, True),
]


def call(api: Api, who: str, method: str, path: str, body: Any) -> Any:
    headers = api.as_(who, **{"Idempotency-Key": f"{who}-{method}-{path}"})
    return api.client.request(method, path, json=body, headers=headers)


def state(api: Api) -> Any:
    with api.db.read() as conn:
        counts = [
            conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar()
            for t in (
                "usage_events",
                "usage_entries",
                "subscriptions",
                "accounts",
                "plans",
                "partners",
                "grants",
            )
        ]
        codes = conn.exec_driver_sql(
            "SELECT id, account_id, paused, revoked_at FROM grants ORDER BY id"
        ).all()
        return counts, [tuple(c) for c in codes]


@pytest.mark.parametrize(
    ("who", "foreign"), [("cafe", "store"), ("store", "cafe"), ("partner", "cafe")]
)
@pytest.mark.parametrize(("method", "path", "body", "_op"), ACCOUNT_ROUTES)
def test_another_tenants_account_answers_404_and_nothing_changes(
    api: Api, who: str, foreign: str, method: str, path: str, body: Any, _op: bool
) -> None:
    before = state(api)
    response = call(api, who, method, path.format(a=foreign), body)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "account_not_found"
    assert state(api) == before


@pytest.mark.parametrize(("method", "path", "body", "operator_only"), ACCOUNT_ROUTES)
def test_an_account_key_on_its_own_account(
    api: Api, method: str, path: str, body: Any, operator_only: bool
) -> None:
    response = call(api, "cafe", method, path.format(a="cafe"), body)
    if operator_only:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "operator_only"
    else:
        assert response.status_code in (200, 201, 404), response.text
        if response.status_code == 404:  # e.g. releasing a seat nobody holds
            assert response.json()["code"] != "account_not_found"


@pytest.mark.parametrize("who", ["cafe", "partner"])
@pytest.mark.parametrize(("method", "path", "body", "operator_only"), GLOBAL_ROUTES)
def test_operator_functions_are_403_for_other_roles(
    api: Api, who: str, method: str, path: str, body: Any, operator_only: bool
) -> None:
    before = state(api)
    response = call(api, who, method, path, body)
    if operator_only:
        assert response.status_code == 403, response.text
        assert state(api) == before
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("who", ["cafe", "store", "partner"])
@pytest.mark.parametrize(("method", "path", "body"), PARTNER_ROUTES)
def test_another_partners_codes_answer_404_and_nothing_changes(
    api: Api, who: str, method: str, path: str, body: Any
) -> None:
    before = state(api)
    response = call(api, who, method, path.format(p="agency-2"), body)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "partner_not_found"
    assert state(api) == before


@pytest.mark.parametrize(("method", "path", "body"), PARTNER_ROUTES)
def test_a_partner_key_on_its_own_codes(api: Api, method: str, path: str, body: Any) -> None:
    response = call(api, "partner", method, path.format(p="agency-1"), body)
    assert response.status_code in (200, 201), response.text


CHARGES = "/v1/partners/{p}/charges?month=2026-03"


def test_storing_a_partners_charges_is_the_operators(api: Api) -> None:
    for who, partner, status in [
        ("cafe", "agency-1", 404),
        ("partner", "agency-2", 404),
        ("partner", "agency-1", 403),
        ("operator", "agency-1", 200),
    ]:
        response = call(api, who, "POST", CHARGES.format(p=partner), None)
        assert response.status_code == status, (who, partner, response.text)


def _shape(path: str) -> str:
    """A path with its parameters and literal ids blanked, to compare table and spec."""
    return re.sub(r"\{[^}]+\}|(?<=/)\d+(?=/|$)", "{}", path.split("?")[0])


def test_every_route_is_in_the_matrix(api: Api) -> None:
    listed = {(m, _shape(p)) for m, p, _b, _o in ACCOUNT_ROUTES + GLOBAL_ROUTES}
    listed |= {(m, _shape(p)) for m, p, _b in PARTNER_ROUTES}
    listed.add(("POST", _shape(CHARGES)))
    spec = api.client.get("/openapi.json").json()
    routes = {
        (method.upper(), _shape(path))
        for path, operations in spec["paths"].items()
        if path != "/v1/health"
        for method in operations
    }
    assert routes == listed
