"""The fast path gives the full waterfall's answers: random histories run both ways.

Each history is played twice on a fresh database — once with the consume
shortcut, once with it switched off — and every answer (outcome, reason,
draws) and every counter must be the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from allot.account.service import create_account
from allot.grant import repository as grant_repo
from allot.grant.service import grant, set_paused
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription.service import subscribe
from allot.usage import fastpath
from allot.usage.models import usage_counters
from allot.usage.service import consume
from tests.conftest import wipe
from tests.factories import load

pytestmark = pytest.mark.slow

actions = st.lists(
    st.one_of(
        st.tuples(st.just("consume"), st.integers(1, 30)),
        st.tuples(st.just("late"), st.integers(1, 30)),  # reported 40 days after it happened
        st.tuples(st.just("wait"), st.integers(1, 24 * 20)),
        st.tuples(st.just("grant"), st.integers(1, 50)),
        st.tuples(st.just("term_grant"), st.integers(1, 50)),
        st.tuples(st.just("pause"), st.integers(0, 3)),
        st.tuples(st.just("resume"), st.integers(0, 3)),
    ),
    min_size=1,
    max_size=40,
)


def play(db: Database, plan: str, history: list[tuple[str, int]]) -> tuple[list[Any], Any]:
    wipe(db)
    clock = FixedClock(datetime(2026, 1, 28, 12, tzinfo=UTC))
    load(db, clock)
    with db.transaction() as conn:
        create_account(
            conn, clock, account_id="acc", name="A", timezone="Pacific/Kiritimati", currency="EUR"
        )
        subscribe(conn, clock, account_id="acc", plan_code=plan)
    answers: list[Any] = []
    for n, (action, value) in enumerate(history):
        with db.transaction() as conn:
            if action in ("consume", "late"):
                at = clock.now() - timedelta(days=40) if action == "late" else None
                r = consume(
                    conn,
                    clock,
                    account_id="acc",
                    metric="card_operations",
                    quantity=value,
                    idempotency_key=f"k{n}",
                    occurred_at=at,
                )
                answers.append((r.outcome, r.reason, r.draws, r.period))
            elif action == "wait":
                clock.advance(timedelta(hours=value))
            elif action in ("grant", "term_grant"):
                ends = (
                    clock.now() + timedelta(days=value % 20 + 1) if action == "term_grant" else None
                )
                grant(
                    conn,
                    clock,
                    account_id="acc",
                    allowances={"card_operations": value},
                    ends_at=ends,
                )
            else:
                ids = [g.id for g in grant_repo.for_account(conn, "acc")]
                if ids:
                    set_paused(
                        conn, clock, grant_id=ids[value % len(ids)], paused=action == "pause"
                    )
    with db.read() as conn:
        counters = sorted(conn.execute(sa.select(usage_counters)).all())
    return answers, counters


@given(plan=st.sampled_from(["free", "paid", "strict"]), history=actions)
# one history per reason a learned route must be dropped: a new month, a grant's
# term ending, a pause (a new revision), a late report for an earlier month
@example(plan="free", history=[("grant", 5), ("consume", 6), ("wait", 24 * 31), ("consume", 1)])
@example(plan="free", history=[("term_grant", 5), ("consume", 1), ("wait", 24 * 7), ("consume", 1)])
@example(plan="paid", history=[("grant", 5), ("consume", 1), ("pause", 0), ("consume", 1)])
@example(plan="free", history=[("grant", 5), ("consume", 5), ("late", 1)])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_U2_the_fast_path_answers_exactly_like_the_full_waterfall(
    db: Database, plan: str, history: list[tuple[str, int]]
) -> None:
    fast = play(db, plan, history)
    with fastpath.disabled():
        full = play(db, plan, history)
    assert fast == full
