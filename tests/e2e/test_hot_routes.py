"""The hot consume route (`allot.hot`) answers exactly as its FastAPI route would.

The same history of requests — the common one, replays, and every kind of bad
input, key and header — is sent once with the hot routes off and once with
them on, on the same world from scratch; every answer (status, the headers a
client acts on, the body) must be the same. A second test proves the common
request really is served without FastAPI, so the speed cannot silently leave.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allot.hot import HotRoutes
from allot.kit.db import Database
from allot.usage import api as usage_api
from tests.conftest import wipe
from tests.e2e.conftest import Api, make_api

PATH = "/v1/accounts/cafe/consume"
OK = {"metric": "card_operations", "quantity": 1}


def _history(api: Api) -> list[tuple[str, str, Any, dict[str, str]]]:
    """(method, path, body — bytes as sent, else JSON —, headers) in order."""
    cafe, store = api.keys["cafe"], api.keys["store"]
    auth = {"Authorization": f"Bearer {cafe}"}
    json_ = {"Content-Type": "application/json"}

    def consume(
        key: str | None, body: Any = OK, **headers: str
    ) -> tuple[str, str, Any, dict[str, str]]:
        sent = {**auth, **json_, **({"Idempotency-Key": key} if key else {}), **headers}
        return ("POST", PATH, body, sent)

    return [
        consume("k1"),
        consume("k1"),  # a replay
        consume("k1", {"metric": "card_operations", "quantity": 2}),  # same key, other body
        consume("k2", {"metric": "card_operations", "quantity": 50}),  # past the free plan
        consume(None),
        consume("x" * 255),
        consume("x" * 256),
        consume("k3", Authorization=""),
        consume("k4", Authorization="Basic abc"),
        consume("k5", Authorization=f"bearer  {cafe}  "),
        consume("k6", Authorization="Bearer allot_not-a-key"),
        consume("k7", Authorization=f"Bearer {store}"),  # another business's key
        consume("k8", {"metric": "nope", "quantity": 1}),
        consume("k9", {"metric": "card_operations", "quantity": 0}),
        consume("k10", {"metric": "card_operations", "quantity": "1"}),
        consume("k11", {"metric": "card_operations", "quantity": 1.5}),
        consume("k12", {"metric": "card_operations", "quantity": 10**30}),
        consume("k13", {"quantity": 1}),
        consume("k14", {**OK, "extra": True}),
        consume("k15", [OK]),
        consume("k16", None),
        consume("k17", b"{not json"),
        consume("k18", b""),
        consume("k19", b"\xff\xfe"),
        consume("k20", {**OK, "occurred_at": "2026-03-02T09:00:00+02:00"}),
        consume("k21", {**OK, "occurred_at": "2026-03-09T09:00:00Z"}),  # in the future
        consume("k22", {**OK, "occurred_at": "2019-01-01T00:00:00Z"}),  # before the plan
        consume("k23", {**OK, "occurred_at": "9999-12-31T23:59:59Z"}),
        consume("k24", {**OK, "occurred_at": "2026-03-02T09:00:00"}),  # naive
        consume("k25", {"metric": "card\u0000operations", "quantity": 1}),
        consume("k26", Content_Type="text/plain"),
        consume("k27", **{"Content-Type": "application/json; charset=utf-8"}),
        consume("k28", **{"Content-Type": "application/merge-patch+json"}),
        consume("k29", **{"Content-Type": "APPLICATION/JSON"}),
        ("POST", PATH, OK, {**auth, "Idempotency-Key": "k30"}),  # no content type
        ("POST", "/v1/accounts/nobody/consume", OK, {**auth, **json_, "Idempotency-Key": "k31"}),
        (
            "POST",
            "/v1/accounts/nobody/consume",
            OK,
            {"Authorization": f"Bearer {api.keys['operator']}", **json_, "Idempotency-Key": "k"},
        ),
        ("POST", PATH + "/", OK, {**auth, **json_, "Idempotency-Key": "k32"}),
        ("GET", PATH, None, auth),
        ("PUT", PATH, OK, {**auth, **json_, "Idempotency-Key": "k33"}),
        consume("k34", b"{" + b" " * (3 * 1024 * 1024) + b"}"),  # over the body limit
        consume("k35"),
    ]


def _answers(client: TestClient, history: list[tuple[str, str, Any, dict[str, str]]]) -> list[Any]:
    out = []
    for method, path, body, headers in history:
        content = body if isinstance(body, bytes) else None
        payload = None if isinstance(body, bytes) or body is None else json.dumps(body)
        response = client.request(
            method,
            path,
            content=content if content is not None else payload,
            headers={k.replace("_", "-"): v for k, v in headers.items()},
            follow_redirects=False,
        )
        kept = ("content-type", "www-authenticate", "retry-after", "location")
        out.append(
            (
                method,
                path,
                response.status_code,
                {k: response.headers.get(k) for k in kept},
                response.content,
            )
        )
    return out


def _from_scratch(db: Database, *, hot: bool) -> list[Any]:
    wipe(db)  # ids start again from 1 on both databases
    api = make_api(db)
    app: Any = api.client.app
    if not hot:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HotRoutes]
    return _answers(api.client, _history(api))


def test_the_hot_route_answers_as_fastapi_does_U1_U3(db: Database) -> None:
    plain = _from_scratch(db, hot=False)
    hot = _from_scratch(db, hot=True)
    assert [a[2] for a in hot].count(200) >= 8  # the history is not all refusals
    for fastapi_answer, hot_answer in zip(plain, hot, strict=True):
        assert hot_answer == fastapi_answer


class _ReachedFastAPI(Exception):
    pass


def test_the_common_request_never_reaches_fastapi(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def reached(*_args: object) -> None:
        raise _ReachedFastAPI

    monkeypatch.setattr(usage_api, "run_in_threadpool", reached)  # the FastAPI route's one hop
    headers = api.as_("cafe", **{"Idempotency-Key": "fast-1"})
    served = api.client.post(PATH, json=OK, headers=headers)
    assert served.status_code == 200, served.text
    assert served.json()["allowed"] is True
    uncommon = {**headers, "Content-Type": "application/merge-patch+json"}
    with pytest.raises(_ReachedFastAPI):  # FastAPI reads +json too: it answers this one
        api.client.post(PATH, content=json.dumps(OK), headers=uncommon)
