"""Hypothesis drives random sequences of consumes, seat moves, grants and month changes
against the real services on SQLite and PostgreSQL, and checks after every step:

* allocations add up to the quantity (U2, U3);
* sources are drawn in priority order: a later source only once the earlier ones are full;
* no counter exceeds its grant;
* every counter equals the sum of its ledger entries (`verify`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from allot.account.service import create_account
from allot.code.grants import grant, set_paused
from allot.core.errors import Conflict, NotFound
from allot.core.periods import month_of, zone
from allot.grant import repository as grant_repo
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription.service import subscribe
from allot.usage.actions import UsageResult
from allot.usage.models import GAUGE_PERIOD
from allot.usage.repository import counters as usage_repo
from allot.usage.seats import release_seat, take_seat
from allot.usage.service import consume
from allot.usage.verify import verify
from tests.conftest import wipe
from tests.factories import load

pytestmark = pytest.mark.slow
ACCOUNT = "acc"
HOLDERS = ("ann", "bo", "cy", "di", "ed")
RANK = {"grant": 0, "plan": 1, "overage": 2, "free_overage": 2, "top_up": 2, "backlog": 2}


class Ledger(RuleBasedStateMachine):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.clock = FixedClock(datetime(2026, 1, 10, 12, tzinfo=UTC))
        self.n = 0
        self.answers: dict[str, tuple[int, str]] = {}
        self.held: set[str] = set()

    @initialize(
        plan=st.sampled_from(["free", "paid"]),
        tz=st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Kyiv"]),
    )
    def open_account(self, plan: str, tz: str) -> None:
        wipe(self.db)
        load(self.db, self.clock)
        self.tz = tz
        with self.db.transaction() as conn:
            create_account(
                conn, self.clock, account_id=ACCOUNT, name="A", timezone=tz, currency="EUR"
            )
            subscribe(conn, self.clock, account_id=ACCOUNT, plan_code=plan)

    def key(self) -> str:
        self.n += 1
        return f"key-{self.n}"

    def check_order(self, result: UsageResult, metric: str, period: str) -> None:
        ranks = [RANK[d.kind.value] for d in result.draws if d.quantity > 0]
        assert ranks == sorted(ranks), result.draws
        with self.db.read() as conn:
            used = usage_repo.counters(conn, ACCOUNT, metric, period)
            grants = sorted(
                grant_repo.active_for_metric(conn, ACCOUNT, metric, self.clock.now()),
                key=lambda ga: ga[0].priority,
            )
        drawn = [d.source for d in result.draws if d.quantity > 0]
        # every active grant ranked before the last grant drawn from is full
        chain = [g.source for g, _ in grants]
        for source in drawn:
            if source in chain:
                for earlier, allowance in grants[: chain.index(source)]:
                    assert used.get(earlier.source, 0) >= allowance, (source, earlier)
        # anything past the grants means every active grant is full
        if any(RANK[d.kind.value] > 0 for d in result.draws if d.quantity > 0):
            for g, allowance in grants:
                assert used.get(g.source, 0) >= allowance

    @rule(quantity=st.integers(1, 40))
    def consume_operations(self, quantity: int) -> None:
        key = self.key()
        with self.db.transaction() as conn:
            result = consume(
                conn,
                self.clock,
                account_id=ACCOUNT,
                metric="card_operations",
                quantity=quantity,
                idempotency_key=key,
            )
        assert result.allowed
        assert sum(d.quantity for d in result.draws) == quantity
        self.answers[key] = (quantity, repr(result.draws))
        self.check_order(result, "card_operations", month_of(self.clock.now(), zone(self.tz)).key)

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        if not self.answers:
            return
        key = data.draw(st.sampled_from(sorted(self.answers)))
        quantity, draws = self.answers[key]
        with self.db.transaction() as conn:
            again = consume(
                conn,
                self.clock,
                account_id=ACCOUNT,
                metric="card_operations",
                quantity=quantity,
                idempotency_key=key,
            )
        assert again.replayed
        assert repr(again.draws) == draws

    @rule(
        operations=st.integers(1, 60), seats=st.integers(0, 3), days=st.none() | st.integers(1, 90)
    )
    def give_grant(self, operations: int, seats: int, days: int | None) -> None:
        allowances = {"card_operations": operations}
        if seats:
            allowances["staff_seats"] = seats
        ends = None if days is None else self.clock.now() + timedelta(days=days)
        with self.db.transaction() as conn:
            grant(conn, self.clock, account_id=ACCOUNT, allowances=allowances, ends_at=ends)

    @rule(data=st.data(), paused=st.booleans())
    def pause_or_resume(self, data: st.DataObject, paused: bool) -> None:
        with self.db.read() as conn:
            ids = [g.id for g in grant_repo.for_account(conn, ACCOUNT)]
        if not ids:
            return
        with self.db.transaction() as conn:
            set_paused(conn, self.clock, grant_id=data.draw(st.sampled_from(ids)), paused=paused)

    @rule(holder=st.sampled_from(HOLDERS))
    def take(self, holder: str) -> None:
        if holder in self.held:
            with pytest.raises(Conflict, match="already holds"), self.db.transaction() as conn:
                take_seat(
                    conn,
                    self.clock,
                    account_id=ACCOUNT,
                    metric="staff_seats",
                    holder=holder,
                    idempotency_key=self.key(),
                )
            return
        with self.db.transaction() as conn:
            result = take_seat(
                conn,
                self.clock,
                account_id=ACCOUNT,
                metric="staff_seats",
                holder=holder,
                idempotency_key=self.key(),
            )
        self.held.add(holder)
        assert [d.quantity for d in result.draws] == [1]
        self.check_order(result, "staff_seats", GAUGE_PERIOD)

    @rule(holder=st.sampled_from(HOLDERS))
    def release(self, holder: str) -> None:
        if holder not in self.held:
            with pytest.raises(NotFound, match="holds no seat"), self.db.transaction() as conn:
                release_seat(
                    conn,
                    self.clock,
                    account_id=ACCOUNT,
                    metric="staff_seats",
                    holder=holder,
                    idempotency_key=self.key(),
                )
            return
        with self.db.transaction() as conn:
            result = release_seat(
                conn,
                self.clock,
                account_id=ACCOUNT,
                metric="staff_seats",
                holder=holder,
                idempotency_key=self.key(),
            )
        self.held.discard(holder)
        assert sum(d.quantity for d in result.draws) == -1  # moves net to zero

    @rule(hours=st.integers(1, 24 * 45))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    @invariant()
    def counters_equal_the_ledger_and_stay_within_grants(self) -> None:
        if not hasattr(self, "tz"):
            return
        with self.db.read() as conn:
            report = verify(conn)
        assert report.ok, report.mismatches


def test_U2_U3_random_histories_keep_the_ledger_exact(db: Database) -> None:
    run_state_machine_as_test(
        lambda: Ledger(db),  # type: ignore[arg-type]  # a factory, which Hypothesis accepts
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
