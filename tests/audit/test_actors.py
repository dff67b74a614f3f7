"""S1 across the doors: who the audit log names for a change made with an API key, on the
business's page, at the command line and by the worker — and the log over the API
(`GET /v1/audit-events`, JSON and CSV), for the operator alone."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from allot.audit.service import Search, search
from allot.cli.main import app
from allot.invoice.run import run
from tests.cli.test_cli import allot  # noqa: F401  (the CLI on the test's database)
from tests.e2e.conftest import Api
from tests.web.test_billing_page import csrf, signed_in


def events(api: Api, **query: Any) -> list[dict[str, Any]]:
    found = api.client.get("/v1/audit-events", params=query, headers=api.as_("operator"))
    assert found.status_code == 200, found.text
    return list(reversed(found.json()["data"]))  # oldest first, as the stories run


def issue(api: Api) -> dict[str, Any]:
    made = api.client.post(
        "/v1/partners/agency-1/codes",
        json={"allowances": {"staff_seats": 36, "card_operations": 18}},
        headers=api.as_("partner"),
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_s1_a_partners_key_issues_and_pauses_a_code_before_and_after(
    api: Api,
) -> None:
    code = issue(api)
    paused = api.client.post(
        f"/v1/partners/agency-1/codes/{code['number']}/pause", headers=api.as_("partner")
    )
    assert paused.status_code == 200, paused.text
    issued, pause = events(api, subject_id=f"agency-1/{code['number']}")
    assert (issued["change"], issued["actor_kind"], issued["actor_role"]) == (
        "code.issued", "api_key", "partner",
    )  # fmt: skip
    assert (issued["acting_for"], issued["partner_id"], issued["before"]) == (
        "agency-1", "agency-1", None,
    )  # fmt: skip
    assert issued["after"]["allowances"] == {"staff_seats": 36, "card_operations": 18}
    assert code["code"] not in json.dumps(issued)  # the secret text is never logged
    assert (pause["change"], pause["subject_id"]) == ("code.paused", f"agency-1/{code['number']}")
    assert (pause["before"]["paused"], pause["after"]["paused"]) == (False, True)


def test_s1_the_business_claims_on_its_page_as_itself(
    api: Api,
) -> None:
    code = issue(api)
    b = signed_in(api, "cafe")
    page = b.get("/billing").text
    done = b.post("/billing/codes/claim", data={"code": code["code"], "csrf_token": csrf(page)})
    assert done.status_code == 303, done.text
    [claimed] = events(api, change="code.claimed", subject_id=f"agency-1/{code['number']}")
    assert (claimed["actor_kind"], claimed["actor_id"], claimed["account_id"]) == (
        "portal", "cafe", "cafe",
    )  # fmt: skip
    assert (claimed["before"]["account_id"], claimed["after"]["account_id"]) == (None, "cafe")


def test_s1_a_refused_change_leaves_nothing_in_the_log(
    api: Api,
) -> None:
    code = issue(api)
    b = signed_in(api, "cafe")
    b.post(
        "/billing/codes/claim",
        data={"code": code["code"], "csrf_token": csrf(b.get("/billing").text)},
    )
    again = signed_in(api, "store")
    refused = again.post(
        "/billing/codes/claim",
        data={"code": code["code"], "csrf_token": csrf(again.get("/billing").text)},
    )
    assert refused.status_code == 404  # already claimed: the same answer as no such code
    changes = [e["change"] for e in events(api, subject_id=f"agency-1/{code['number']}")]
    assert changes == ["code.issued", "code.claimed"]


def test_s1_the_operator_at_the_command_line_and_the_invoice_run_as_the_system(
    api: Api,
    allot: CliRunner,  # noqa: F811
) -> None:
    code = issue(api)
    result = allot.invoke(app, ["codes", "pause", "agency-1", str(code["number"])])
    assert result.exit_code == 0, result.output
    [paused] = events(api, change="code.paused", subject_id=f"agency-1/{code['number']}")
    assert (paused["actor_kind"], paused["actor_role"]) == ("cli", "operator")
    api.clock.set(api.clock.now().replace(month=4, day=2))
    run(api.db, api.clock)  # the store's renewal on 1 April
    finalized = events(api, change="invoice.finalized", account_id="store")
    assert finalized
    assert {e["actor_kind"] for e in finalized} == {"system"}
    assert finalized[-1]["after"]["state"] == "finalized"


def test_s1_the_log_as_csv_and_only_for_the_operator(
    api: Api,
) -> None:
    issue(api)
    exported = api.client.get("/v1/audit-events.csv", headers=api.as_("operator"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert "code.issued" in [r["change"] for r in rows]
    issued = next(r for r in rows if r["change"] == "code.issued")
    assert json.loads(issued["after"])["allowances"]["staff_seats"] == 36
    for who in ("partner", "cafe"):
        for path in ("/v1/audit-events", "/v1/audit-events.csv"):
            refused = api.client.get(path, headers=api.as_(who))
            assert refused.status_code == 403, refused.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2026-03-01T00:00:00"}, "since"),  # no offset
        ({"limit": "0"}, "limit"),
        ({"change": ""}, "change"),
    ],
)
def test_s1_a_bad_query_names_its_field(
    api: Api,
    query: dict[str, str],
    field: str,
) -> None:
    refused = api.client.get("/v1/audit-events", params=query, headers=api.as_("operator"))
    assert refused.status_code == 422, refused.text
    assert field in refused.text


def test_s1_the_log_pages_newest_first(
    api: Api,
) -> None:
    for _ in range(3):
        issue(api)
    first = api.client.get(
        "/v1/audit-events", params={"limit": 2}, headers=api.as_("operator")
    ).json()
    rest = api.client.get(
        "/v1/audit-events",
        params={"limit": 2, "before": first["next_before"]},
        headers=api.as_("operator"),
    ).json()
    ids = [e["id"] for e in first["data"] + rest["data"]]
    assert ids == sorted(ids, reverse=True)
    with api.db.read() as conn:
        assert len(ids) == len(search(conn, Search(limit=1000))) or rest["next_before"]


def test_s1_the_cli_lists_and_exports_the_log(
    api: Api,
    allot: CliRunner,  # noqa: F811
    tmp_path: Path,
) -> None:
    code = issue(api)
    listed = allot.invoke(app, ["audit", "--change", "code.", "--partner", "agency-1"])
    assert listed.exit_code == 0, listed.output
    assert "code.issued" in listed.output
    assert f"agency-1/{code['number']}" in listed.output
    assert "api_key:" in listed.output
    assert "for agency-1" in listed.output
    out = tmp_path / "audit.csv"
    exported = allot.invoke(app, ["audit", "--csv", str(out), "--limit", "100000"])
    assert exported.exit_code == 0, exported.output
    assert "code.issued" in out.read_text(encoding="utf-8")
    bad = allot.invoke(app, ["audit", "--since", "yesterday"])
    assert bad.exit_code == 2
    assert "since" in bad.output


def test_s1_a_card_saved_around_the_providers_call_is_still_the_callers(api: Api) -> None:
    """`save_card` opens its own transactions (the provider is called outside any): the
    request's actor is named in each of them, not the system."""
    saved = api.client.post(
        "/v1/accounts/store/payment-method/sandbox-card",
        json={"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030},
        headers=api.as_("store"),
    )
    assert saved.status_code == 200, saved.text
    [card] = events(api, change="payment_method.saved")
    assert (card["actor_kind"], card["actor_role"], card["acting_for"]) == (
        "api_key", "account", "store",
    )  # fmt: skip
    assert card["after"] == {"brand": "visa", "last4": "4242", "exp": "12/2030"}
    assert "4242 4242 4242 4242" not in json.dumps(card)
