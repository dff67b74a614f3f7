"""The Reviews gate on its tables (R1-R5, U1, U5, U8): orders counted in the month they were
placed, requests released within the limit, bought by the top-up, queued in the backlog or
archived; the backlog released oldest first at the local start of a month and newest first when
a top-up makes room; and every refusal by code and field, writing nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from allot.backlog import repository as repo
from allot.backlog.models import orders as orders_table
from allot.core.errors import DomainError, InvalidInput, NotFound, Refused
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.reviews.limits import MAX_BATCH
from allot.reviews.service import (
    IngestResult,
    OrderIn,
    ReviewStatus,
    acknowledge,
    ingest_orders,
    list_requests,
    review_status,
    set_top_up_limit,
)
from allot.subscription.service import subscribe
from tests.domains import (
    add_account,
    count,
    events,
    load_presets,
    read,
    refusal,
    refused_before_writing,
    run,
    snapshot,
)
from tests.scenarios.world import local

NY = "America/New_York"
START = local(NY, 2026, 3, 10, 10)


@pytest.fixture
def world(db: Database, clock: FixedClock) -> Database:
    clock.set(START)
    load_presets(db, clock, "reviews-loyalty")
    return db


def store(db: Database, clock: FixedClock, plan: str, account_id: str = "store") -> str:
    """A New York store on `plan`, its contract from 1 January."""
    add_account(db, clock, account_id, tz=NY, currency="USD")
    run(
        db,
        lambda conn: subscribe(
            conn, clock, account_id=account_id, plan_code=plan, started_on=date(2026, 1, 1)
        ),
    )
    return account_id


def batch(
    n: int, first: datetime = START - timedelta(days=3), prefix: str = "o", **kw: bool
) -> list[OrderIn]:
    """`n` orders a minute apart after `first` (by default three days before the clock), with
    ids o001, o002, … (placed in that order)."""
    return [
        OrderIn(f"{prefix}{i:03d}", first + timedelta(minutes=i), **kw) for i in range(1, n + 1)
    ]


def ingest(
    db: Database, clock: FixedClock, orders: Sequence[OrderIn], account_id: str = "store"
) -> IngestResult:
    return run(db, lambda conn: ingest_orders(conn, clock, account_id=account_id, orders=orders))


def status(db: Database, clock: FixedClock, account_id: str = "store") -> ReviewStatus:
    return run(db, lambda conn: review_status(conn, clock, account_id=account_id))


def states(db: Database, ids: Sequence[str]) -> list[str | None]:
    found = read(db, lambda conn: repo.states_of(conn, "store", ids))
    return [found[i] for i in ids]


def top_up(db: Database, clock: FixedClock, mode: str, cap: str | None = None) -> None:
    run(
        db,
        lambda conn: set_top_up_limit(
            conn,
            clock,
            account_id="store",
            mode=mode,
            cap=None if cap is None else Decimal(cap),
        ),
    )


def released_ids(db: Database) -> list[list[str]]:
    return [e["order_ids"] for e in events(db, "review_requests.released")]


# --- R1, R3: within the limit, then the backlog, then the archive -------------------------------


def test_r1_within_the_limit_every_request_is_released_and_announced(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-basic")
    result = ingest(world, clock, batch(3))
    assert (result.received, result.new, result.duplicates, result.released) == (3, 3, 0, 3)
    assert result.outcomes == {"within": 3}
    with world.read() as conn:
        rows = repo.requests(conn, "store", state="to_send", after=None, limit=10)
    assert [(r.order_id, r.month, r.place, r.paid_by, r.released_month) for r in rows] == [
        ("o001", "2026-03", 1, "plan", "2026-03"),
        ("o002", "2026-03", 2, "plan", "2026-03"),
        ("o003", "2026-03", 3, "plan", "2026-03"),
    ]
    assert released_ids(world) == [["o001", "o002", "o003"]]
    now = status(world, clock)
    assert (now.orders, now.within, now.topped_up, now.limit) == (3, 3, 0, 200)


def test_r3_past_the_limit_requests_wait_up_to_the_limit_then_the_newest_are_archived(
    world: Database, clock: FixedClock
) -> None:
    """Reviews Free: 50 orders a month; the backlog holds 50 more; the rest are archived."""
    store(world, clock, "reviews-free")
    result = ingest(world, clock, batch(120, first=START - timedelta(days=5)))
    assert result.outcomes == {"within": 50, "waiting": 50, "archived": 20}
    assert states(world, ["o050", "o051", "o100", "o101", "o120"]) == [
        "to_send",
        "waiting",
        "waiting",
        "archived",
        "archived",
    ]
    assert read(world, lambda conn: repo.state_counts(conn, "store")) == {
        "to_send": 50,
        "waiting": 50,
        "archived": 20,
    }
    assert read(world, lambda conn: repo.gate(conn, "store")).waiting == 50  # type: ignore[union-attr]


def test_u5_r1_an_excluded_order_counts_and_takes_its_place_but_has_no_request(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-free")
    ingest(world, clock, batch(49))
    result = ingest(world, clock, [*batch(2, prefix="x", excluded=True), *batch(1, prefix="y")])
    assert result.outcomes == {"within": 1, "counted": 1, "waiting": 1}
    assert (result.released, status(world, clock).orders) == (0, 52)
    assert read(world, lambda conn: repo.states_of(conn, "store", ["x001", "x002", "y001"])) == {
        "x001": None,
        "x002": None,
        "y001": "waiting",
    }


def test_u4_loyalty_counts_orders_and_sends_no_requests_full_suite_sends_them_all(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "loyalty-premium")
    loyal = ingest(world, clock, batch(3))
    assert (loyal.outcomes, loyal.released) == ({"within": 3}, 0)
    assert states(world, ["o001", "o003"]) == [None, None]
    store(world, clock, "full-suite-business", "suite")
    suite = ingest(world, clock, batch(1501), "suite")
    assert (suite.outcomes, suite.released) == ({"within": 1500, "overage": 1}, 1501)


# --- U1: reported again, nothing changes ---------------------------------------------------------


def test_u1_orders_reported_again_change_nothing(world: Database, clock: FixedClock) -> None:
    store(world, clock, "reviews-free")
    ingest(world, clock, batch(60))
    before = snapshot(world)
    again = ingest(world, clock, list(reversed(batch(60))))
    assert (again.new, again.duplicates, again.released, again.outcomes) == (0, 60, 0, {})
    assert snapshot(world) == before


def test_u1_within_a_batch_the_first_of_an_id_counts_and_spaces_do_not_make_a_new_id(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-basic")
    first, later = START + timedelta(minutes=1), START + timedelta(minutes=2)
    result = ingest(
        world, clock, [OrderIn("A1", first), OrderIn(" A1 ", later), OrderIn("B", later)]
    )
    assert (result.received, result.new, result.duplicates) == (3, 2, 1)
    (row, _) = read(
        world, lambda conn: repo.requests(conn, "store", state="to_send", after=None, limit=5)
    )
    assert (row.order_id, row.placed_at) == ("A1", first)


def test_u8_an_ingest_rolled_back_leaves_nothing_and_the_orders_count_next_time(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-free")

    class Crash(Exception):
        pass

    def ingest_then_crash() -> None:
        with world.transaction() as conn:
            ingest_orders(conn, clock, account_id="store", orders=batch(10))
            raise Crash

    with pytest.raises(Crash):
        ingest_then_crash()
    assert count(world, orders_table) == 0
    assert ingest(world, clock, batch(10)).new == 10
    assert status(world, clock).orders == 10


# --- U5: the month of an order is its placing's, in the store's time zone ------------------------


def test_u5_an_order_placed_at_2230_on_31_january_in_new_york_counts_in_january(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-basic")
    clock.set(local(NY, 2026, 2, 2, 9))
    placed = local(NY, 2026, 1, 31, 22, 30)  # already 1 February in UTC
    assert placed.month == 2
    ingest(world, clock, [OrderIn("late", placed), OrderIn("feb", local(NY, 2026, 2, 1, 0, 0))])
    with world.read() as conn:
        rows = repo.requests(conn, "store", state="to_send", after=None, limit=5)
        january = repo.month_row(conn, "store", "2026-01")
        february = repo.month_row(conn, "store", "2026-02")
    assert [(r.order_id, r.month) for r in rows] == [("late", "2026-01"), ("feb", "2026-02")]
    assert (january.orders, february.orders) == (1, 1)


def test_r4_the_backlog_is_released_at_local_midnight_oldest_first_into_the_new_month(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-free")
    ingest(world, clock, batch(53, first=START - timedelta(days=9)))  # 3 wait in March
    clock.set(local(NY, 2026, 3, 31, 23, 59))
    assert status(world, clock).states["waiting"] == 3
    clock.set(local(NY, 2026, 4, 1, 0, 0))
    april = status(world, clock)
    assert released_ids(world)[-1] == ["o051", "o052", "o053"]  # oldest first
    assert (april.month.key, april.within, april.orders) == ("2026-04", 3, 0)
    with world.read() as conn:
        rows = repo.requests(conn, "store", state="to_send", after="o050", limit=5)
    assert [(r.order_id, r.month, r.released_month, r.paid_by) for r in rows] == [
        ("o051", "2026-03", "2026-04", "plan"),
        ("o052", "2026-03", "2026-04", "plan"),
        ("o053", "2026-03", "2026-04", "plan"),
    ]


# --- R2, R4: the top-up limit -------------------------------------------------------------------


def test_r2_a_defined_cap_buys_whole_orders_within_it(world: Database, clock: FixedClock) -> None:
    """$1.00 at $0.16 buys 6 orders ($0.96): 200 within Basic's limit, 6 topped up, 4 wait."""
    store(world, clock, "reviews-basic")
    top_up(world, clock, "defined", "1.00")
    result = ingest(world, clock, batch(210))
    assert result.outcomes == {"within": 200, "top_up": 6, "waiting": 4}
    now = status(world, clock)
    assert (now.top_up, now.top_up_cap, now.top_up_orders) == ("defined", Decimal("1.00"), 6)
    assert (now.topped_up, now.top_up_amount) == (6, 6 * Decimal("0.16"))
    assert read(world, repo.topped_up_months) == {("store", "2026-03"): 6}


def test_r4_a_raised_cap_releases_the_backlog_newest_first(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-basic")
    ingest(world, clock, batch(205, first=START - timedelta(days=9)))
    top_up(world, clock, "defined", "0.32")  # buys 2
    assert released_ids(world)[-1] == ["o205", "o204"]
    assert states(world, ["o201", "o203", "o204", "o205"]) == [
        "waiting",
        "waiting",
        "to_send",
        "to_send",
    ]
    with world.read() as conn:
        paid = repo.requests(conn, "store", state="to_send", after="o203", limit=5)
    assert [(r.order_id, r.paid_by) for r in paid] == [("o204", "top_up"), ("o205", "top_up")]


def test_r2_unlimited_buys_every_order_past_the_limit(world: Database, clock: FixedClock) -> None:
    store(world, clock, "reviews-basic")
    top_up(world, clock, "unlimited")
    result = ingest(world, clock, batch(260))
    assert result.outcomes == {"within": 200, "top_up": 60}
    assert status(world, clock).top_up_orders is None


def test_r2_a_cap_lowered_below_what_was_used_keeps_what_was_bought(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-basic")
    top_up(world, clock, "defined", "1.60")  # 10 orders
    ingest(world, clock, batch(208))
    top_up(world, clock, "defined", "0.16")  # 1 order: 8 already bought
    more = ingest(world, clock, batch(2, prefix="n"))
    assert more.outcomes == {"waiting": 2}
    assert status(world, clock).topped_up == 8


def top_up_refusal(
    db: Database, clock: FixedClock, mode: str, cap: Decimal | None = None, account: str = "store"
) -> DomainError:
    return refused_before_writing(
        db, lambda conn: set_top_up_limit(conn, clock, account_id=account, mode=mode, cap=cap)
    )


@pytest.mark.parametrize(
    ("mode", "cap", "expected"),
    [
        ("lots", None, (InvalidInput, "invalid_top_up", "mode")),
        ("defined", None, (InvalidInput, "invalid_top_up_cap", "cap")),
        ("unlimited", Decimal(5), (InvalidInput, "invalid_top_up_cap", "cap")),
        ("none", Decimal(5), (InvalidInput, "invalid_top_up_cap", "cap")),
        ("defined", Decimal(0), (InvalidInput, "not_positive", "cap")),
        ("defined", Decimal("-1"), (InvalidInput, "not_positive", "cap")),
        ("defined", Decimal("150.001"), (InvalidInput, "too_many_decimals", "cap")),
    ],
)
def test_r2_a_top_up_limit_that_is_not_one_is_refused(
    world: Database,
    clock: FixedClock,
    mode: str,
    cap: Decimal | None,
    expected: tuple[object, ...],
) -> None:
    store(world, clock, "reviews-basic")
    assert refusal(top_up_refusal(world, clock, mode, cap)) == expected


def test_r2_plans_that_sell_no_top_up_refuse_one(world: Database, clock: FixedClock) -> None:
    store(world, clock, "reviews-free")
    store(world, clock, "loyalty-business", "loyal")
    assert refusal(top_up_refusal(world, clock, "unlimited")) == (
        Refused,
        "top_up_not_on_free_plan",
        "top_up_limit",
    )
    assert refusal(top_up_refusal(world, clock, "defined", Decimal(150), "loyal")) == (
        Refused,
        "top_up_not_offered",
        "top_up_limit",
    )
    run(world, lambda conn: set_top_up_limit(conn, clock, account_id="loyal", mode="none"))


def test_r1_an_account_without_an_orders_plan_has_no_gate(
    world: Database, clock: FixedClock
) -> None:
    add_account(world, clock, "bare", tz=NY, currency="USD")
    for call in (
        lambda conn: ingest_orders(conn, clock, account_id="bare", orders=batch(1)),
        lambda conn: set_top_up_limit(conn, clock, account_id="bare", mode="unlimited"),
        lambda conn: review_status(conn, clock, account_id="bare"),
    ):
        assert refusal(refused_before_writing(world, call)) == (
            Refused,
            "no_orders_plan",
            "account_id",
        )
    error = refused_before_writing(
        world, lambda conn: ingest_orders(conn, clock, account_id="ghost", orders=batch(1))
    )
    assert refusal(error) == (NotFound, "account_not_found", "account_id")


# --- ingest refusals -----------------------------------------------------------------------------


def test_u8_an_order_more_than_five_minutes_ahead_is_refused_by_its_line(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-basic")
    ok = OrderIn("ok", START)
    edge = OrderIn("edge", START + timedelta(minutes=5))
    ahead = OrderIn("ahead", START + timedelta(minutes=5, microseconds=1))
    error = refused_before_writing(
        world, lambda conn: ingest_orders(conn, clock, account_id="store", orders=[ok, edge, ahead])
    )
    assert refusal(error) == (InvalidInput, "occurred_in_future", "orders[2].placed_at")
    assert ingest(world, clock, [ok, edge]).new == 2


def test_u8_b7_orders_before_the_plan_or_in_a_closed_month_are_refused(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-basic")  # from 1 January, New York
    before_plan = OrderIn("early", local(NY, 2025, 12, 31, 23, 59))
    clock.set(local(NY, 2026, 3, 8, 0, 0))  # January closed 35 days after it ended
    closed = OrderIn("closed", local(NY, 2026, 1, 31, 23, 59))
    for orders, expected in (
        ([OrderIn("ok", local(NY, 2026, 3, 1)), before_plan], "before_plan_started"),
        ([closed], "period_closed"),
    ):

        def call(conn: Connection, o: list[OrderIn] = orders) -> object:
            return ingest_orders(conn, clock, account_id="store", orders=o)

        error = refused_before_writing(world, call)
        assert refusal(error)[1:] == (expected, f"orders[{len(orders) - 1}].placed_at")
    clock.set(local(NY, 2026, 3, 7, 23, 59))
    assert ingest(world, clock, [closed]).new == 1  # the last minute of the grace window


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (OrderIn("", START), ("required", "orders[0].order_id")),
        (OrderIn("x" * 129, START), ("too_long", "orders[0].order_id")),
        (OrderIn("a\x00", START), ("invalid_character", "orders[0].order_id")),
        (OrderIn("n", datetime(2026, 3, 10, 9)), ("naive_datetime", "orders[0].placed_at")),  # noqa: DTZ001
        (OrderIn("b", START, excluded=1), ("not_boolean", "orders[0].excluded")),  # type: ignore[arg-type]
    ],
)
def test_r5_a_malformed_order_is_refused_by_its_field(
    world: Database, clock: FixedClock, order: OrderIn, expected: tuple[str, str]
) -> None:
    store(world, clock, "reviews-basic")
    error = refused_before_writing(
        world, lambda conn: ingest_orders(conn, clock, account_id="store", orders=[order])
    )
    assert (type(error), error.code, error.field) == (InvalidInput, *expected)


def test_r5_a_batch_is_1_to_10000_orders(world: Database, clock: FixedClock) -> None:
    store(world, clock, "reviews-basic")
    too_many = batch(1, prefix="z") * (MAX_BATCH + 1)
    for orders in ([], too_many):

        def call(conn: Connection, o: list[OrderIn] = orders) -> object:
            return ingest_orders(conn, clock, account_id="store", orders=o)

        assert refusal(refused_before_writing(world, call)) == (
            InvalidInput,
            "invalid_batch",
            "orders",
        )


# --- R5: the platform lists and acknowledges requests --------------------------------------------


def test_r5_acknowledged_requests_are_sent_once_and_the_rest_say_what_they_are(
    world: Database, clock: FixedClock
) -> None:
    store(world, clock, "reviews-free")
    ingest(world, clock, batch(51))
    done, others = run(
        world,
        lambda conn: acknowledge(
            conn, clock, account_id="store", order_ids=["o001", "o002", "o051", "nope"]
        ),
    )
    assert (done, others) == (2, {"o051": "waiting", "nope": "unknown"})
    again = run(
        world, lambda conn: acknowledge(conn, clock, account_id="store", order_ids=["o001"])
    )
    assert again == (0, {})
    with world.read() as conn:
        sent = repo.requests(conn, "store", state="sent", after=None, limit=10)
    assert [(r.order_id, r.sent_at) for r in sent] == [("o001", START), ("o002", START)]


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([], ("invalid_batch", "order_ids")),
        (["ok", "  "], ("required", "order_ids[1]")),
        (["x" * 129], ("too_long", "order_ids[0]")),
    ],
)
def test_r5_acknowledge_refusals(
    world: Database, clock: FixedClock, ids: list[str], expected: tuple[str, str]
) -> None:
    store(world, clock, "reviews-free")
    ingest(world, clock, batch(1, prefix="ok"))
    error = refused_before_writing(
        world, lambda conn: acknowledge(conn, clock, account_id="store", order_ids=ids)
    )
    assert (type(error), error.code, error.field) == (InvalidInput, *expected)


def test_r5_requests_are_listed_oldest_first_in_pages(world: Database, clock: FixedClock) -> None:
    store(world, clock, "reviews-basic")
    same = START - timedelta(hours=1)
    ingest(world, clock, [OrderIn("c", same), OrderIn("a", same), OrderIn("b", START)])

    def page(after: str | None) -> list[str]:
        rows = run(
            world,
            lambda conn: list_requests(
                conn, clock, account_id="store", state="to_send", after=after, limit=2
            ),
        )
        return [r.order_id for r in rows]

    assert page(None) == ["a", "c"]  # the same instant: by order id
    assert page("c") == ["b"]
    assert page("b") == []


@pytest.mark.parametrize(
    ("state", "limit", "expected"),
    [
        ("lost", 10, ("invalid_state", "state")),
        ("waiting", 0, ("invalid_limit", "limit")),
        ("waiting", MAX_BATCH + 1, ("invalid_limit", "limit")),
    ],
)
def test_r5_list_refusals(
    world: Database, clock: FixedClock, state: str, limit: int, expected: tuple[str, str]
) -> None:
    store(world, clock, "reviews-basic")

    def call(conn: Connection) -> object:
        return list_requests(conn, clock, account_id="store", state=state, limit=limit)

    error = refused_before_writing(world, call)
    assert (type(error), error.code, error.field) == (InvalidInput, *expected)
