"""The fast path gives the full waterfall's answers, from committed data only (U2, U8).

Each random history is played twice on a fresh database — once with the
consume shortcut, once with it switched off — and every answer (outcome,
reason, draws, or the refusal's code) and every counter must be the same.
Histories roll transactions back after a consume, change plans and
quantities, claim, pause, resume and revoke codes, cross months, and send
some consumes through a second OS process on the same database.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from multiprocessing.connection import Connection as Pipe
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from allot.account.service import create_account, update_account
from allot.billing.changes import change_plan, change_quantity
from allot.catalog.models import metrics
from allot.code.grants import grant, set_paused
from allot.code.service import claim_code, issue_code, revoke_code
from allot.core.errors import DomainError
from allot.grant import repository as grant_repo
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.partner.service import enroll_partner
from allot.subscription import repository as sub_repo
from allot.subscription.service import subscribe
from allot.usage import fastpath, sources
from allot.usage import service as usage_service
from allot.usage.models import usage_counters, usage_routes
from allot.usage.service import consume
from tests.conftest import wipe
from tests.factories import load

START = datetime(2026, 1, 28, 12, tzinfo=UTC)


class RolledBack(Exception):
    pass


def _answer(r: Any) -> tuple[Any, ...]:
    return (r.outcome, r.reason, r.draws, r.period)


def _serve(url: str, pipe: Pipe) -> None:
    """A second process: consumes on the same database with an engine of its own."""
    db = Database(url)
    try:
        while (request := pipe.recv()) is not None:
            now, quantity, key = request
            with db.transaction() as conn:
                r = consume(
                    conn,
                    FixedClock(now),
                    account_id="acc",
                    metric="card_operations",
                    quantity=quantity,
                    idempotency_key=key,
                )
            pipe.send(_answer(r))  # once committed
    finally:
        db.dispose()


class Elsewhere:
    """The other process, started once per database, asked over a pipe."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.start()

    def start(self) -> None:
        self.pipe, theirs = multiprocessing.get_context("spawn").Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(self.url, theirs), daemon=True
        )
        self.process.start()

    def consume(self, now: datetime, quantity: int, key: str) -> tuple[Any, ...]:
        self.pipe.send((now, quantity, key))
        answer: tuple[Any, ...] = self.pipe.recv()
        return answer

    def stop(self) -> None:
        self.pipe.send(None)
        self.process.join(timeout=30)

    def restart(self) -> None:
        """Kill the other process mid-history and start a new one (it keeps nothing)."""
        self.process.kill()
        self.process.join(timeout=30)
        self.start()


@pytest.fixture
def elsewhere(db: Database) -> Iterator[Elsewhere]:
    other = Elsewhere(db.url.render_as_string(hide_password=False))
    yield other
    other.stop()


actions = st.lists(
    st.one_of(
        st.tuples(st.just("consume"), st.integers(1, 30)),
        st.tuples(st.just("elsewhere"), st.integers(1, 30)),  # through the second process
        st.tuples(st.just("rollback"), st.integers(1, 30)),  # consumed, then rolled back
        st.tuples(st.just("late"), st.integers(1, 30)),  # reported 40 days after it happened
        st.tuples(st.just("wait"), st.integers(1, 24 * 20)),
        st.tuples(st.just("grant"), st.integers(1, 50)),
        st.tuples(st.just("term_grant"), st.integers(1, 50)),
        st.tuples(st.just("pause"), st.integers(0, 3)),
        st.tuples(st.just("resume"), st.integers(0, 3)),
        st.tuples(st.just("code"), st.integers(1, 50)),  # a partner's code, claimed
        st.tuples(st.just("revoke"), st.integers(1, 3)),
        st.tuples(st.just("plan"), st.sampled_from(["free", "paid"])),
        st.tuples(st.just("quantity"), st.integers(1, 3)),
        st.tuples(
            st.just("timezone"), st.sampled_from(["Pacific/Niue", "Europe/Kyiv", "Asia/Tokyo"])
        ),
    ),
    min_size=1,
    max_size=40,
)


def _do(conn: Any, clock: FixedClock, n: int, action: str, value: Any) -> Any:
    if action in ("consume", "late", "rollback"):
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
        if action == "rollback":
            raise RolledBack(_answer(r))
        return _answer(r)
    if action == "wait":
        clock.advance(timedelta(hours=value))
    elif action in ("grant", "term_grant"):
        ends = clock.now() + timedelta(days=value % 20 + 1) if action == "term_grant" else None
        grant(conn, clock, account_id="acc", allowances={"card_operations": value}, ends_at=ends)
    elif action in ("pause", "resume"):
        ids = [g.id for g in grant_repo.for_account(conn, "acc")]
        if ids:
            set_paused(conn, clock, grant_id=ids[value % len(ids)], paused=action == "pause")
    elif action == "code":
        code = issue_code(conn, clock, partner_id="brew", allowances={"card_operations": value})
        assert code.code is not None
        claim_code(conn, clock, account_id="acc", code=code.code)
    elif action == "revoke":
        revoke_code(conn, clock, partner_id="brew", number=value)
    elif action == "timezone":
        update_account(conn, clock, account_id="acc", timezone=value)
    else:
        (sub,) = sub_repo.live(conn, "acc")
        if action == "plan":
            change_plan(conn, clock, account_id="acc", subscription_id=sub.id, plan_code=value)
        else:
            change_quantity(conn, clock, account_id="acc", subscription_id=sub.id, quantity=value)
    return None


def play(
    db: Database, plan: str, history: list[tuple[str, Any]], other: Elsewhere
) -> tuple[list[Any], Any]:
    wipe(db)
    clock = FixedClock(START)
    load(db, clock)
    with db.transaction() as conn:
        create_account(
            conn, clock, account_id="acc", name="A", timezone="Pacific/Kiritimati", currency="EUR"
        )
        subscribe(conn, clock, account_id="acc", plan_code=plan)
        enroll_partner(
            conn,
            clock,
            partner_id="brew",
            name="Brew Consultants",
            kind="restaurant_consultant",
            contact="hello@brew.example",
            currency="EUR",
            wholesale_discount=Decimal("0.30"),
            prices={"card_operations": Decimal("0.02")},
        )
    answers: list[Any] = []
    for n, (action, value) in enumerate(history):
        try:
            if action == "elsewhere":  # its own transaction, in the other process
                answer = other.consume(clock.now(), value, f"k{n}")
            elif action == "restart":
                other.restart()
                answer = None
            else:
                with db.transaction() as conn:
                    answer = _do(conn, clock, n, action, value)
        except RolledBack as undone:
            answer = ("rolled back", *undone.args)
        except DomainError as refused:
            answer = ("refused", refused.code)
        if answer is not None:
            answers.append(answer)
    with db.read() as conn:
        counters = sorted(conn.execute(sa.select(usage_counters)).all())
    return answers, counters


@pytest.mark.slow
@given(plan=st.sampled_from(["free", "paid", "strict"]), history=actions)
# one history per reason a learned route must be dropped: a new month, a grant's
# term ending, a pause (a new revision), a late report for an earlier month, a
# rolled-back transaction, a code claimed, a plan upgraded, more locations, a new
# time zone
@example(plan="free", history=[("grant", 5), ("consume", 6), ("wait", 24 * 31), ("consume", 1)])
@example(plan="free", history=[("term_grant", 5), ("consume", 1), ("wait", 24 * 7), ("consume", 1)])
@example(plan="paid", history=[("grant", 5), ("consume", 1), ("pause", 0), ("consume", 1)])
@example(plan="free", history=[("grant", 5), ("consume", 5), ("late", 1)])
@example(plan="free", history=[("grant", 2), ("rollback", 2), ("consume", 1)])
@example(plan="free", history=[("grant", 2), ("rollback", 2), ("elsewhere", 1)])
@example(plan="free", history=[("consume", 100), ("code", 5), ("elsewhere", 1)])
@example(plan="free", history=[("consume", 100), ("plan", "paid"), ("consume", 1)])
@example(plan="paid", history=[("consume", 1000), ("quantity", 2), ("elsewhere", 1)])
@example(plan="free", history=[("timezone", "Pacific/Niue"), ("wait", 24 * 4), ("consume", 1)])
# the other process killed and started again between its consumes (examples only:
# a process start costs a second)
@example(
    plan="free",
    history=[("grant", 3), ("elsewhere", 2), ("restart", 0), ("elsewhere", 2), ("consume", 1)],
)
@example(plan="paid", history=[("elsewhere", 999), ("restart", 0), ("elsewhere", 2)])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_U8_the_fast_path_answers_exactly_like_the_full_waterfall(
    db: Database, elsewhere: Elsewhere, plan: str, history: list[tuple[str, Any]]
) -> None:
    fast = play(db, plan, history, elsewhere)
    with fastpath.disabled():
        full = play(db, plan, history, _Here(db))
    assert fast == full


class _Here(Elsewhere):
    """The same consumes in this process, for the run without the shortcut.

    (The second process has the shortcut on; the full-path run must not use it.)
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def restart(self) -> None:
        pass

    def consume(self, now: datetime, quantity: int, key: str) -> tuple[Any, ...]:
        with self.db.transaction() as conn:
            return _answer(
                consume(
                    conn,
                    FixedClock(now),
                    account_id="acc",
                    metric="card_operations",
                    quantity=quantity,
                    idempotency_key=key,
                )
            )


def _free_account_with_a_grant_of_two(db: Database, clock: FixedClock) -> None:
    load(db, clock)
    with db.transaction() as conn:
        create_account(
            conn, clock, account_id="acc", name="A", timezone="Europe/Kyiv", currency="EUR"
        )
        subscribe(conn, clock, account_id="acc", plan_code="free")
        grant(conn, clock, account_id="acc", allowances={"card_operations": 2})


def _consume(conn: Any, clock: FixedClock, quantity: int, key: str) -> Any:
    return consume(
        conn,
        clock,
        account_id="acc",
        metric="card_operations",
        quantity=quantity,
        idempotency_key=key,
    )


def test_U8_a_rolled_back_consume_leaves_nothing_that_changes_the_next_answer(
    db: Database,
) -> None:
    """The issue's reproduction: 2 from grant:1, rolled back; the next unit is still grant:1's."""
    clock = FixedClock(START)
    _free_account_with_a_grant_of_two(db, clock)
    took: list[Any] = []

    def consume_then_fail() -> None:
        with db.transaction() as conn:
            took.append(_consume(conn, clock, 2, "a"))
            raise RolledBack

    with pytest.raises(RolledBack):
        consume_then_fail()
    assert [(d.source, d.quantity) for d in took[0].draws] == [("grant:1", 2)]
    with db.transaction() as conn:
        again = _consume(conn, clock, 1, "b")
    assert [(d.source, d.quantity) for d in again.draws] == [("grant:1", 1)]
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(usage_routes)).scalar() == 1


def test_U8_the_route_is_followed_from_the_database_without_a_waterfall_read(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortcut is real: once learned, a unit is paid with no waterfall read.

    A second database handle (another engine, as another process would have)
    follows the route the first one learned, because the route is a row.
    """
    clock = FixedClock(START)
    _free_account_with_a_grant_of_two(db, clock)
    with db.transaction() as conn:
        _consume(conn, clock, 1, "a")  # learns: the next unit is grant:1's
    reads: list[str] = []
    real = sources.waterfall  # the function usage.service calls, patched there below

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs["metric"])
        return real(*args, **kwargs)

    monkeypatch.setattr(usage_service, "waterfall", counted)
    other = Database(db.url.render_as_string(hide_password=False))
    try:
        with other.transaction() as conn:
            second = _consume(conn, clock, 1, "b")
        assert [(d.source, d.quantity) for d in second.draws] == [("grant:1", 1)]
        assert reads == []  # followed the route
        with other.transaction() as conn:
            third = _consume(conn, clock, 1, "c")  # grant:1 is full now: the plan pays
        assert [(d.source, d.quantity) for d in third.draws] == [("plan:1", 1)]
        assert reads == ["card_operations"]  # the full path took over, and learned the plan
        with other.transaction() as conn:
            fourth = _consume(conn, clock, 1, "d")
        assert [(d.source, d.quantity) for d in fourth.draws] == [("plan:1", 1)]
        assert reads == ["card_operations"]
        with other.transaction() as conn:
            replay = _consume(conn, clock, 1, "d")
        assert replay.replayed
        assert replay.draws == fourth.draws
    finally:
        other.dispose()


def test_U8_a_metric_read_in_a_rolled_back_load_is_forgotten_with_it(db: Database) -> None:
    """A metric defined, read and rolled back may come back as another kind; the answer follows."""
    clock = FixedClock(START)
    _free_account_with_a_grant_of_two(db, clock)

    def define_as_counter_then_fail() -> None:
        with db.transaction() as conn:
            conn.execute(
                sa.insert(metrics).values(
                    code="stamps", catalog="test", name="Stamps", kind="counter", unit="stamp"
                )
            )
            with pytest.raises(DomainError) as refused:
                usage_service.take_seat(
                    conn, clock, account_id="acc", metric="stamps", holder="x", idempotency_key="k"
                )
            assert refused.value.code == "wrong_metric_kind"
            raise RolledBack

    with pytest.raises(RolledBack):
        define_as_counter_then_fail()
    with db.transaction() as conn:
        conn.execute(
            sa.insert(metrics).values(
                code="stamps", catalog="test", name="Stamps", kind="gauge", unit="seat"
            )
        )
    with db.transaction() as conn, pytest.raises(DomainError) as refused:
        _consume_metric(conn, clock, "stamps")
    assert refused.value.code == "wrong_metric_kind"
    assert "is a gauge" in str(refused.value)


def _consume_metric(conn: sa.Connection, clock: FixedClock, metric: str) -> Any:
    return consume(conn, clock, account_id="acc", metric=metric, quantity=1, idempotency_key="c")
