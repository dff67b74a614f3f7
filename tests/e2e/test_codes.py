"""Access Codes over HTTP: the partner's side, the business's side, and guessing (K2, K5)."""

from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest

from allot.account.service import create_account
from allot.apikey.service import create_key
from allot.app import create_app
from allot.core.codes import ENTROPY_BYTES, format_code
from allot.subscription.service import subscribe
from allot_client import AllotError, Client
from tests.e2e.conftest import Api
from tests.e2e.live import serve

PROBLEM = "application/problem+json"


def test_K1_K7_a_partner_issues_a_code_and_a_business_claims_it(api: Api) -> None:
    issued = api.client.post(
        "/v1/partners/agency-1/codes",
        json={"allowances": {"staff_seats": 3, "card_operations": 18}},
        headers=api.as_("partner"),
    )
    assert issued.status_code == 201
    code = issued.json()
    assert (code["label"], code["state"]) == ("Code #2", "issued")
    claimed = api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": code["code"]}, headers=api.as_("cafe")
    )
    assert claimed.json() == {"label": "Code #2", "allowances": code["allowances"], "ends_at": None}
    listed = api.client.get("/v1/partners/agency-1/codes", headers=api.as_("partner")).json()
    assert [(c["label"], c["state"], c["account_id"]) for c in listed] == [
        ("Code #1", "issued", None),
        ("Code #2", "claimed", "cafe"),
    ]
    usage = api.client.get("/v1/accounts/cafe/usage", headers=api.as_("cafe")).json()
    assert [
        (g["label"], [(r["name"], r["used"], r["available"]) for r in g["resources"]])
        for g in usage["grants"]
    ] == [("Code #2", [("Card operations", 0, 18), ("Staff seats", 0, 3)])]


def test_K5_pause_resume_and_revoke_over_http(api: Api) -> None:
    code = api.client.get("/v1/partners/agency-1/codes/1", headers=api.as_("partner")).json()
    api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": code["code"]}, headers=api.as_("cafe")
    )
    paused = api.client.post("/v1/partners/agency-1/codes/1/pause", headers=api.as_("partner"))
    assert paused.json()["state"] == "paused"
    resumed = api.client.post("/v1/partners/agency-1/codes/1/resume", headers=api.as_("partner"))
    assert resumed.json()["state"] == "claimed"
    api.client.post(
        "/v1/accounts/cafe/consume",
        json={"metric": "card_operations"},
        headers=api.as_("cafe", **{"Idempotency-Key": "op-1"}),
    )
    refused = api.client.post("/v1/partners/agency-1/codes/1/revoke", headers=api.as_("partner"))
    assert refused.status_code == 409
    assert refused.json()["code"] == "code_in_use"


def test_K2_a_typo_and_an_unknown_code_are_told_apart_only_by_the_check_symbol(api: Api) -> None:
    typo = api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": "ABCD-EFGH"}, headers=api.as_("cafe")
    )
    assert (typo.status_code, typo.json()["code"]) == (422, "invalid_code_format")
    unknown = api.client.post(
        "/v1/accounts/cafe/codes/claim",
        json={"code": format_code(secrets.token_bytes(ENTROPY_BYTES))},
        headers=api.as_("cafe"),
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "code_not_found")


@pytest.mark.slow
def test_K2_10000_wrong_guesses_from_one_key_win_nothing_and_are_throttled(api: Api) -> None:
    answers: dict[int, int] = {}
    for _ in range(10_000):
        guess = format_code(secrets.token_bytes(ENTROPY_BYTES))  # well formed: reaches lookup
        status = api.client.post(
            "/v1/accounts/cafe/codes/claim", json={"code": guess}, headers=api.as_("cafe")
        ).status_code
        answers[status] = answers.get(status, 0) + 1
    assert 200 not in answers
    # a burst of 10, then 10 a minute while the test runs; everything else is 429
    assert answers[404] < 50
    assert answers[429] > 9_950
    limited = api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": "x"}, headers=api.as_("cafe")
    )
    assert int(limited.headers["retry-after"]) >= 1


@pytest.mark.slow
def test_K2_50_concurrent_claims_of_one_code_exactly_one_succeeds(api: Api) -> None:
    keys = {}
    with api.db.transaction() as conn:
        for n in range(50):
            create_account(
                conn,
                api.clock,
                account_id=f"biz-{n}",
                name=f"Biz {n}",
                timezone="UTC",
                currency="EUR",
            )
            subscribe(conn, api.clock, account_id=f"biz-{n}", plan_code="card-scanner-free")
            keys[n] = create_key(conn, api.clock, role="account", subject=f"biz-{n}")[1]
    code = api.client.get("/v1/partners/agency-2/codes/1", headers=api.as_("operator")).json()
    results: list[Any] = []
    start = threading.Barrier(50)
    with serve(create_app(api.db, api.clock)) as url:

        def claim(n: int) -> None:
            with Client(url, keys[n]) as client:
                start.wait()
                try:
                    client.claim_code(f"biz-{n}", code["code"])
                    results.append((n, 200))
                except AllotError as refused:
                    results.append((n, refused.status))

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    statuses = sorted(s for _n, s in results)
    assert statuses.count(200) == 1
    assert statuses.count(404) == 49
    winner = next(n for n, s in results if s == 200)
    after = api.client.get("/v1/partners/agency-2/codes/1", headers=api.as_("operator")).json()
    assert after["account_id"] == f"biz-{winner}"


def test_K8_the_partners_report_over_http(api: Api) -> None:
    code = api.client.get("/v1/partners/agency-1/codes/1", headers=api.as_("partner")).json()
    api.client.post(
        "/v1/accounts/cafe/codes/claim", json={"code": code["code"]}, headers=api.as_("cafe")
    )
    api.client.post(
        "/v1/accounts/cafe/consume",
        json={"metric": "card_operations", "quantity": 3},
        headers=api.as_("cafe", **{"Idempotency-Key": "r1"}),
    )
    report = api.client.get(
        "/v1/partners/agency-1/report", params={"month": "2026-03"}, headers=api.as_("partner")
    ).json()
    (first,) = report["codes"]
    assert (first["account_id"], first["billed"]) == ("cafe", True)
    assert [(r["metric"], r["used"], r["available"]) for r in first["resources"]] == [
        ("card_operations", 3, 18),
        ("staff_seats", 0, 36),
    ]
    # agency-1 pays 4 a seat less 25 %: 36 x 4 x 0.75; card operations carry no price
    assert (report["total"], report["total_rounded"]) == ("108.00", "108.00")
    stored = api.client.post(
        "/v1/partners/agency-1/charges", params={"month": "2026-03"}, headers=api.as_("operator")
    )
    assert stored.json()["total"] == report["total"]
