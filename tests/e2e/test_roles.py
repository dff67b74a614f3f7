"""The role × route × foreign-object matrix: 0 leaks (404), forbidden functions 403.

Every route is tried by every non-operator key on another tenant's account
(the answer must be the 404 a missing account gets) and on its own (operator
functions answer 403). Default deny: a route missing from this table fails
`test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from allot.core.invoicing import Charge, ChargeKind
from allot.invoice import service as invoice_service
from allot.invoice.parties import set_seller
from allot.invoice.run import run
from tests.e2e.conftest import Api

SEAT = {"holder": "x"}
ORDER_AT = "2026-03-01T10:00:00+00:00"
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
    ("GET", "/v1/accounts/{a}/invoices", None, False),
    ("GET", "/v1/accounts/{a}/invoices.csv", None, False),
    # Subscription 1 is the cafe's (Card Scanner Free); the store's own is 2.
    ("POST", "/v1/accounts/{a}/subscriptions/1/plan-change/preview", {"plan": "monthly"}, False),
    ("POST", "/v1/accounts/{a}/subscriptions/1/plan-change", {"plan": "monthly"}, False),
    # the cafe's own: 1 location, what it has (a change of quantity that changes nothing)
    ("POST", "/v1/accounts/{a}/subscriptions/1/quantity-change/preview", {"quantity": 1}, False),
    ("POST", "/v1/accounts/{a}/subscriptions/1/quantity-change", {"quantity": 1}, False),
    ("GET", "/v1/accounts/{a}/advice", None, False),
    ("GET", "/v1/accounts/{a}/referral", None, False),
    ("PUT", "/v1/accounts/{a}/referral", None, True),
    ("DELETE", "/v1/accounts/{a}/referral", None, True),
    ("POST", "/v1/accounts/{a}/orders", {"orders": [{"id": "o1", "placed_at": ORDER_AT}]}, False),
    ("GET", "/v1/accounts/{a}/reviews", None, False),
    ("PUT", "/v1/accounts/{a}/top-up", {"mode": "unlimited"}, False),
    ("GET", "/v1/accounts/{a}/review-requests", None, False),
    ("POST", "/v1/accounts/{a}/review-requests/ack", {"order_ids": ["o1"]}, False),
    ("GET", "/v1/accounts/{a}/billing-status", None, False),
    ("GET", "/v1/accounts/{a}/credit-balance", None, False),
    ("POST", "/v1/accounts/{a}/portal-sessions", None, False),
    ("POST", "/v1/accounts/{a}/payment-method/setup", None, False),
    ("PUT", "/v1/accounts/{a}/payment-method", {"setup_ref": "sbx_seti_x"}, False),
    ("GET", "/v1/accounts/{a}/payment-method", None, False),
    (
        "POST",
        "/v1/accounts/{a}/payment-method/sandbox-card",
        {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030},
        False,
    ),
    ("GET", "/v1/accounts/{a}/payments", None, False),
    ("POST", "/v1/accounts/{a}/payments/1/sandbox-confirm", {"success": True}, False),
    ("POST", "/v1/accounts/{a}/subscriptions/1/cancel", None, False),
]
# Refusals an account may get on its own account for what its plan does not sell
# (the cafe is on a loyalty-card plan: no orders, no reviews).
OWN_REFUSALS = {"no_orders_plan"}
# Routes of one partner: (method, path, body)
PARTNER_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/v1/partners/{p}", None),
    ("POST", "/v1/partners/{p}/codes", {"allowances": {"staff_seats": 2}}),
    ("GET", "/v1/partners/{p}/codes", None),
    ("GET", "/v1/partners/{p}/codes/1", None),
    ("POST", "/v1/partners/{p}/codes/1/pause", None),
    ("POST", "/v1/partners/{p}/codes/1/resume", None),
    ("POST", "/v1/partners/{p}/codes/1/revoke", None),
    ("POST", "/v1/partners/{p}/codes/1/emails", {"to": "owner@cafe.example"}),
    ("GET", "/v1/partners/{p}/codes/1/emails", None),
    ("POST", "/v1/partners/{p}/codes/1/assign", {"account_id": "cafe"}),
    ("GET", "/v1/partners/{p}/report?month=2026-03", None),
    ("GET", "/v1/partners/{p}/invoices", None),
    ("GET", "/v1/partners/{p}/inventory", None),
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
    ("GET", "/v1/audit-events", None, True),
    ("GET", "/v1/audit-events.csv", None, True),
    ("GET", "/v1/webhooks/deliveries/1", None, True),
    ("POST", "/v1/webhooks/deliveries/1/redeliver", None, True),
    ("POST", "/v1/billing/run", None, True),
    ("GET", "/v1/clock", None, True),
    ("PUT", "/v1/clock", {"advance": {"days": 1}}, True),
    ("PUT", "/v1/clock", {"now": "2027-01-01T00:00:00+00:00"}, True),
    ("DELETE", "/v1/clock", None, True),
    ("GET", "/v1/seller", None, False),
    ("POST", "/v1/credit-notes/{number}/refund", None, True),  # 403 before the lookup
    (
        "PUT",
        "/v1/seller",
        {"legal_name": "X Ltd", "address": {"line1": "1 A St", "city": "X", "country": "GB"}},
        True,
    ),
]
# Routes of one invoice: (method, path, body, operator only). `{i}` is an invoice's id.
INVOICE_ROUTES: list[tuple[str, str, Any, bool]] = [
    ("GET", "/v1/invoices/{i}", None, False),
    ("GET", "/v1/invoices/{i}/pdf", None, False),
    ("POST", "/v1/invoices/{i}/pay", {"note": "cash"}, True),
    ("POST", "/v1/invoices/{i}/void", {"reason": "mistake"}, True),
    ("POST", "/v1/invoices/{i}/uncollectible", {"reason": "gone"}, True),
    ("POST", "/v1/invoices/{i}/credit-notes", {"reason": "goodwill"}, True),
    ("POST", "/v1/invoices/{i}/collect", None, True),
    (
        "POST",
        "/v1/invoices/{i}/credit-notes",
        {"reason": "part", "lines": [{"position": 0, "amount": "1.50"}]},
        True,
    ),
]


def call(api: Api, who: str, method: str, path: str, body: Any) -> Any:
    headers = api.as_(who, **{"Idempotency-Key": f"{who}-{method}-{path}"})
    return api.client.request(method, path, json=body, headers=headers)


@pytest.fixture(autouse=True)
def _seller(api: Api) -> None:
    """The operator has set its seller identity: any key may read it."""
    with api.db.transaction() as conn:
        set_seller(
            conn,
            api.clock,
            {
                "legal_name": "Allot Ltd",
                "address": {"line1": "1 Main St", "city": "L", "country": "GB"},
            },
        )


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
                "credit_notes",
                "simulated_clock",
                "subscription_changes",
                "subscription_quantity_changes",
                "referral_programs",
                "referrals",
                "orders",
                "review_gates",
                "emails",
                "seller",
                "payment_customers",
                "payment_methods",
                "payment_attempts",
                "collections",
            )
        ]
        codes = conn.exec_driver_sql(
            "SELECT id, account_id, paused, revoked_at FROM grants ORDER BY id"
        ).all()
        invoices = conn.exec_driver_sql("SELECT id, state FROM invoices ORDER BY id").all()
        return counts, [tuple(c) for c in codes], [tuple(i) for i in invoices]


@pytest.fixture
def invoices(api: Api) -> dict[str, int]:
    """An invoice of each tenant: the store's from the run, the others issued directly."""
    owners = {"store": run(api.db, api.clock).invoices[0].id}
    charge = Charge(ChargeKind.PLAN, "Monthly", 1, Decimal("29"), Decimal("29"))
    with api.db.transaction() as conn:
        for owner, account, partner in [
            ("cafe", "cafe", None),
            ("agency-1", None, "agency-1"),
            ("agency-2", None, "agency-2"),
        ]:
            owners[owner] = invoice_service.issue(
                conn,
                api.clock,
                billing_key=f"test:{owner}",
                kind="subscription" if account else "partner",
                currency="EUR",
                charges=[charge],
                issued_on=date(2026, 3, 2),
                tax_rate=Decimal("0.2"),
                account_id=account,
                partner_id=partner,
                bill_to={"name": owner, "reference": owner, "details": {}},
            ).id
    return owners


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
    elif response.status_code == 409:
        assert response.json()["code"] in OWN_REFUSALS, response.text
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
    assert response.status_code in (200, 201, 202), response.text


CHARGES = "/v1/partners/{p}/charges?month=2026-03"
INVENTORY = "/v1/partners/{p}/inventory"


@pytest.mark.parametrize(
    ("path", "body"), [(CHARGES, None), (INVENTORY, {"add": {"staff_seats": 100}})]
)
def test_storing_charges_and_topping_up_an_inventory_are_the_operators(
    api: Api, path: str, body: Any
) -> None:
    for who, partner, status in [
        ("cafe", "agency-1", 404),
        ("partner", "agency-2", 404),
        ("partner", "agency-1", 403),
        ("operator", "agency-1", 200),
    ]:
        response = call(api, who, "POST", path.format(p=partner), body)
        assert response.status_code == status, (who, partner, response.text)


@pytest.mark.parametrize(
    ("who", "owner"),
    [
        ("cafe", "store"),
        ("store", "cafe"),
        ("cafe", "agency-1"),
        ("partner", "cafe"),
        ("partner", "agency-2"),
    ],
)
@pytest.mark.parametrize(("method", "path", "body", "_op"), INVOICE_ROUTES)
def test_another_tenants_invoice_answers_404_and_nothing_changes(
    api: Api,
    invoices: dict[str, int],
    who: str,
    owner: str,
    method: str,
    path: str,
    body: Any,
    _op: bool,
) -> None:
    before = state(api)
    response = call(api, who, method, path.format(i=invoices[owner]), body)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "invoice_not_found"
    assert state(api) == before


@pytest.mark.parametrize(("who", "owner"), [("cafe", "cafe"), ("partner", "agency-1")])
@pytest.mark.parametrize(("method", "path", "body", "operator_only"), INVOICE_ROUTES)
def test_a_tenant_on_its_own_invoice(
    api: Api,
    invoices: dict[str, int],
    who: str,
    owner: str,
    method: str,
    path: str,
    body: Any,
    operator_only: bool,
) -> None:
    before = state(api)
    response = call(api, who, method, path.format(i=invoices[owner]), body)
    if operator_only:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "operator_only"
        assert state(api) == before
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("owner", ["store", "cafe", "agency-1"])
@pytest.mark.parametrize(("method", "path", "body", "_op"), INVOICE_ROUTES)
def test_the_operator_on_any_invoice(
    api: Api, invoices: dict[str, int], owner: str, method: str, path: str, body: Any, _op: bool
) -> None:
    response = call(api, "operator", method, path.format(i=invoices[owner]), body)
    if path.endswith("/collect") and owner == "agency-1":  # a partner's: no card to charge
        assert response.json()["code"] == "invoice_not_collectible", response.text
        return
    assert response.status_code == (201 if path.endswith("credit-notes") else 200), response.text


CREDIT_NOTE_PDF = "/v1/credit-notes/{number}/pdf"


@pytest.mark.parametrize(
    ("who", "owner", "status"),
    [
        ("cafe", "cafe", 200),
        ("partner", "agency-1", 200),
        ("operator", "store", 200),
        ("cafe", "store", 404),
        ("store", "cafe", 404),
        ("partner", "cafe", 404),
        ("cafe", "agency-1", 404),
    ],
)
def test_a_credit_note_pdf_is_seen_by_whoever_sees_its_invoice(
    api: Api, invoices: dict[str, int], who: str, owner: str, status: int
) -> None:
    issued = call(
        api, "operator", "POST", f"/v1/invoices/{invoices[owner]}/credit-notes",
        {"reason": "goodwill", "lines": [{"position": 0, "amount": "1.00"}]},
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]
    response = call(api, who, "GET", CREDIT_NOTE_PDF.format(number=number), None)
    assert response.status_code == status, response.text
    if status == 404:
        assert response.json()["code"] == "credit_note_not_found"
    else:
        assert response.content.startswith(b"%PDF")


def _shape(path: str) -> str:
    """A path with its parameters and literal ids blanked, to compare table and spec."""
    return re.sub(r"\{[^}]+\}|(?<=/)\d+(?=/|$)", "{}", path.split("?")[0])


def test_every_route_is_in_the_matrix(api: Api) -> None:
    listed = {(m, _shape(p)) for m, p, _b, _o in ACCOUNT_ROUTES + GLOBAL_ROUTES + INVOICE_ROUTES}
    listed |= {(m, _shape(p)) for m, p, _b in PARTNER_ROUTES}
    listed.add(("POST", _shape(CHARGES)))
    listed.add(("POST", _shape(INVENTORY)))
    listed.add(("GET", _shape(CREDIT_NOTE_PDF)))
    spec = api.client.get("/openapi.json").json()
    routes = {
        (method.upper(), _shape(path))
        for path, operations in spec["paths"].items()
        if path != "/v1/health"
        for method in operations
    }
    assert routes == listed
