"""Idempotency under real concurrency, over real HTTP, on SQLite and PostgreSQL.

32 clients send the same POST at the same time, for each of 200 keys: every
key must have exactly one effect, and all 32 answers must be the first one.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest

from allot.app import create_app
from allot.usage.repository import ledger as usage_repo
from allot.usage.verify import verify
from allot_client import Client
from tests.e2e.conftest import Api
from tests.e2e.live import serve

pytestmark = pytest.mark.slow


def race(threads: int, work: Any) -> None:
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]


def test_U1_32_concurrent_identical_posts_for_each_of_200_keys_have_one_effect(
    api: Api,
) -> None:
    answers: dict[str, list[Any]] = defaultdict(list)
    lock = threading.Lock()
    with serve(create_app(api.db, api.clock)) as url:

        def client_work(n: int) -> None:
            with Client(url, api.keys["store"]) as client:
                for k in range(200):
                    d = client.consume("store", "orders", 2, idempotency_key=f"order-{k}")
                    with lock:
                        answers[f"order-{k}"].append(d)

        race(32, client_work)

    assert len(answers) == 200
    for key, decisions in answers.items():
        assert len(decisions) == 32
        assert len({(d.event_id, repr(d.draws)) for d in decisions}) == 1, key
        assert sum(not d.replayed for d in decisions) == 1, key
    with api.db.read() as conn:
        assert usage_repo.entry_count(conn) == 200
        assert verify(conn).ok


def test_concurrent_account_creation_with_one_key_creates_one_account(api: Api) -> None:
    results: dict[int, list[Any]] = defaultdict(list)
    lock = threading.Lock()
    with serve(create_app(api.db, api.clock)) as url:

        def client_work(n: int) -> None:
            with Client(url, api.keys["operator"]) as client:
                for k in range(20):
                    a = client.create_account(
                        f"shop-{k}",
                        name=f"Shop {k}",
                        timezone="UTC",
                        currency="EUR",
                        idempotency_key=f"create-{k}",
                    )
                    with lock:
                        results[k].append(a)

        race(16, client_work)

    assert all(len({a.model_dump_json() for a in accounts}) == 1 for accounts in results.values())
    with api.db.read() as conn:
        from allot.account.service import list_accounts

        shops = [a.id for a in list_accounts(conn, limit=1000) if a.id.startswith("shop-")]
        assert len(shops) == 20
