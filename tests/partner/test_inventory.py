"""A3: a partner's inventory — bought, held by its live codes, left — and codes refused
past it, by the API, the CLI and the portal alike.

    bought 100 staff seats; codes hold 36 + 36; left 28 → a code of 36 seats is refused;
    revoking an unused code gives its 36 back; a code that has ended holds nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from allot.audit.service import Search, search
from allot.cli.main import app
from allot.code.service import issue_code
from allot.core.errors import NotFound, Refused
from allot.partner.inventory import stock, top_up
from tests.cli.test_cli import allot  # noqa: F401  (the CLI on the test's database)
from tests.e2e.conftest import Api, make_api

SEATS = {"staff_seats": 36}


@pytest.fixture
def api(db: Any) -> Api:
    """The API's world, agency-2's one code (never used) revoked: it starts holding nothing."""
    world = make_api(db)
    gone = world.client.post("/v1/partners/agency-2/codes/1/revoke", headers=world.as_("operator"))
    assert gone.status_code == 200, gone.text
    return world


def issue(api: Api, allowances: dict[str, int], **extra: Any) -> Any:
    return api.client.post(
        "/v1/partners/agency-2/codes", json={"allowances": allowances, **extra},
        headers=api.as_("operator"),
    )  # fmt: skip


def inventory(api: Api) -> dict[str, tuple[int, int, int]]:
    found = api.client.get("/v1/partners/agency-2/inventory", headers=api.as_("operator"))
    assert found.status_code == 200, found.text
    return {s["metric"]: (s["bought"], s["held"], s["left"]) for s in found.json()}


def buy(api: Api, **quantities: int) -> Any:
    return api.client.post(
        "/v1/partners/agency-2/inventory", json={"add": quantities, "note": "invoice 42"},
        headers=api.as_("operator"),
    )  # fmt: skip


def test_a3_codes_are_issued_from_the_inventory_and_refused_past_it(api: Api) -> None:
    assert buy(api, staff_seats=100).status_code == 200
    assert issue(api, SEATS).status_code == 201
    assert issue(api, SEATS).status_code == 201
    assert inventory(api) == {"staff_seats": (100, 72, 28)}
    refused = issue(api, SEATS)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "inventory_exceeded"
    assert "only 28 staff_seats left" in problem["detail"]
    assert problem["errors"][0]["field"] == "allowances.staff_seats"
    assert issue(api, {"card_operations": 1}).status_code == 409  # never bought: none left
    assert inventory(api) == {"staff_seats": (100, 72, 28)}  # the refusals took nothing


def test_a3_a_revoked_or_ended_code_gives_its_units_back(api: Api) -> None:
    buy(api, staff_seats=72)
    first = issue(api, SEATS).json()
    ends = (api.clock.now() + timedelta(days=1)).isoformat()
    assert issue(api, SEATS, ends_at=ends).status_code == 201
    assert issue(api, SEATS).status_code == 409
    revoked = api.client.post(
        f"/v1/partners/agency-2/codes/{first['number']}/revoke", headers=api.as_("operator")
    )
    assert revoked.status_code == 200
    assert inventory(api) == {"staff_seats": (72, 36, 36)}
    api.clock.advance(timedelta(days=1))
    assert inventory(api) == {"staff_seats": (72, 0, 72)}


def test_a3_a_paused_code_still_holds_its_units(api: Api) -> None:
    buy(api, staff_seats=36)
    code = issue(api, SEATS).json()
    api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": code["code"]}, headers=api.as_("cafe")
    )
    api.client.post(
        f"/v1/partners/agency-2/codes/{code['number']}/pause", headers=api.as_("operator")
    )
    assert inventory(api) == {"staff_seats": (36, 36, 0)}


def test_a3_the_inventory_cannot_go_below_what_the_codes_hold(api: Api) -> None:
    buy(api, staff_seats=50)
    issue(api, SEATS)
    taken = buy(api, staff_seats=-20)
    assert (taken.status_code, taken.json()["code"]) == (409, "inventory_held")
    assert buy(api, staff_seats=-14).status_code == 200
    assert inventory(api) == {"staff_seats": (36, 36, 0)}


@pytest.mark.parametrize(
    ("quantities", "code"),
    [
        ({"staff_seats": 0}, "invalid_quantity"),
        ({"nope": 5}, "metric_not_found"),
        ({}, "empty_top_up"),
    ],
)
def test_a3_a_bad_top_up_names_its_field(api: Api, quantities: dict[str, int], code: str) -> None:
    refused = buy(api, **quantities)
    assert refused.status_code in (404, 422), refused.text
    assert refused.json()["code"] == code


def test_a3_only_the_operator_tops_up_and_only_its_partner_reads(api: Api) -> None:
    buy(api, staff_seats=10)
    as_partner = api.client.post(
        "/v1/partners/agency-1/inventory", json={"add": {"staff_seats": 5}},
        headers=api.as_("partner"),
    )  # fmt: skip
    assert as_partner.status_code == 403
    theirs = api.client.get("/v1/partners/agency-2/inventory", headers=api.as_("partner"))
    assert theirs.status_code == 404  # agency-1's key: another partner is not found
    own = api.client.get("/v1/partners/agency-1/inventory", headers=api.as_("partner"))
    assert (own.status_code, own.json()) == (200, [])  # no inventory: no cap


def test_a3_a_top_up_is_in_the_audit_log(api: Api) -> None:
    buy(api, staff_seats=10)
    buy(api, staff_seats=5, card_operations=100)
    with api.db.read() as conn:
        [second, first] = search(conn, Search(change="inventory.topped_up"))
    assert (first.before, first.after) == ({}, {"staff_seats": 10})
    assert (second.before, second.after) == (
        {"staff_seats": 10}, {"staff_seats": 15, "card_operations": 100},
    )  # fmt: skip


def test_a3_two_services_racing_for_the_last_units(api: Api) -> None:
    """The check and the issue run under the partner's lock: service calls in turn."""
    with api.db.transaction() as conn:
        top_up(conn, api.clock, partner_id="agency-2", quantities={"staff_seats": 36})
    assert issue(api, SEATS).status_code == 201
    with api.db.transaction() as conn, pytest.raises(Refused):
        issue_code(conn, api.clock, partner_id="agency-2", allowances=SEATS)
    with api.db.read() as conn:
        assert [s.left for s in stock(conn, api.clock, partner_id="agency-2")] == [0]


def test_a3_the_cli_shows_and_tops_up(allot: CliRunner, api: Api) -> None:  # noqa: F811
    shown = allot.invoke(app, ["partners", "inventory", "agency-2", "--add", "staff_seats=100"])
    assert shown.exit_code == 0, shown.output
    assert "bought        100" in shown.output
    assert "left        100" in shown.output
    bad = allot.invoke(app, ["partners", "inventory", "agency-2", "--add", "staff_seats=lots"])
    assert (bad.exit_code, "invalid_quantity" in bad.output) == (2, True)
    with api.db.read() as conn, pytest.raises(NotFound):
        stock(conn, api.clock, partner_id="nobody")
