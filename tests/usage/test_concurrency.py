"""Exactness under concurrency, on SQLite and PostgreSQL (DESIGN rule 7).

16 threads race for one account whose grant + plan allow exactly 20,000 units;
8 threads replay the same 1,000 idempotency keys. Counters and the ledger must
come out exact: nothing lost, nothing drawn twice, nothing past a limit.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from allot.account.service import create_account
from allot.code.grants import grant
from allot.core.allocation import SourceKind
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription.service import subscribe
from allot.usage.actions import UsageResult
from allot.usage.repository import ledger as usage_repo
from allot.usage.service import consume
from allot.usage.summary import usage_summary
from allot.usage.verify import verify
from tests.factories import load

pytestmark = pytest.mark.slow


def _race(threads: int, work: Callable[[int], None]) -> None:
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as exc:  # surfaced below, with the thread's traceback
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]


def _shop(db: Database, clock: FixedClock) -> None:
    load(db, clock)
    with db.transaction() as conn:
        create_account(
            conn, clock, account_id="hot", name="Hot shop", timezone="UTC", currency="EUR"
        )
        subscribe(conn, clock, account_id="hot", plan_code="paid", quantity=19)  # 19,000
        grant(conn, clock, account_id="hot", allowances={"card_operations": 1000})


def test_U2_16_threads_x_2000_consumes_draw_exactly_20000_from_grant_and_plan(
    db: Database, clock: FixedClock
) -> None:
    _shop(db, clock)
    results: list[list[UsageResult]] = [[] for _ in range(16)]

    def work(n: int) -> None:
        for i in range(2000):
            with db.transaction() as conn:
                results[n].append(
                    consume(
                        conn,
                        clock,
                        account_id="hot",
                        metric="card_operations",
                        quantity=1,
                        idempotency_key=f"t{n}-{i}",
                    )
                )

    _race(16, work)

    drawn: Counter[str] = Counter()
    for per_thread in results:
        for r in per_thread:
            for d in r.draws:
                drawn[d.kind.value] += d.quantity
    assert drawn == {"grant": 1000, "plan": 19000, "overage": 12000}
    with db.read() as conn:
        report = verify(conn)
        assert report.ok, report.mismatches
        assert report.entries == 32000
        ops = usage_summary(conn, clock, account_id="hot").metrics[0]
    assert (ops.from_grants, ops.included, ops.used) == (1000, 19000, 31000)
    assert {s.kind: s.used for s in ops.split} == {
        SourceKind.GRANT.value: 1000,
        SourceKind.PLAN.value: 19000,
        SourceKind.OVERAGE.value: 12000,
    }


def test_U1_8_threads_replaying_the_same_1000_keys_make_exactly_1000_entries(
    db: Database, clock: FixedClock
) -> None:
    _shop(db, clock)
    answers: dict[str, set[int]] = {}
    lock = threading.Lock()

    def work(n: int) -> None:
        keys = [f"receipt-{i}" for i in range(1000)]
        random.Random(n).shuffle(keys)
        for key in keys:
            with db.transaction() as conn:
                r = consume(
                    conn,
                    clock,
                    account_id="hot",
                    metric="card_operations",
                    quantity=1,
                    idempotency_key=key,
                )
            with lock:
                answers.setdefault(key, set()).add(r.event_id)

    _race(8, work)

    assert len(answers) == 1000
    assert all(len(ids) == 1 for ids in answers.values())  # every replay saw the first answer
    with db.read() as conn:
        assert usage_repo.entry_count(conn) == 1000
        assert verify(conn).ok
