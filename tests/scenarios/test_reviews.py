"""The Reviews gate over real months (R1-R5, U4, U5) with seed 003's figures:
Reviews Business has an order limit of 1,500 and a top-up price of $0.14."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from allot.backlog.service import (
    OrderIn,
    acknowledge,
    ingest_orders,
    list_requests,
    review_status,
    set_top_up_limit,
)
from allot.catalog.loader import load_catalog_with_extras
from allot.catalog.service import load_catalog
from allot.core.errors import InvalidInput, Refused
from allot.core.periods import Month
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.webhook.models import webhook_events
from tests.scenarios.world import PRESETS, World, local

NY = "America/New_York"


@pytest.fixture
def world(db: Database) -> World:
    w = World(db, FixedClock(local(NY, 2026, 12, 1, 9)))
    w.business("store", plan="reviews-business", tz=NY, currency="USD")
    return w


def batch(
    first: int, last: int, *, start: datetime, excluded: Callable[[int], bool] = lambda n: False
) -> list[OrderIn]:
    """Orders #first..#last, one a minute from `start`, so that their ids sort as placed."""
    return [
        OrderIn(f"o{n:05d}", start + timedelta(minutes=n - first), excluded(n))
        for n in range(first, last + 1)
    ]


def ingest(world: World, orders: list[OrderIn], account: str = "store") -> None:
    for i in range(0, len(orders), 5000):
        with world.db.transaction() as conn:
            ingest_orders(conn, world.clock, account_id=account, orders=orders[i : i + 5000])


def states(world: World, account: str = "store") -> dict[str, str | None]:
    with world.db.read() as conn:
        rows = conn.execute(
            sa.text("SELECT order_id, state FROM orders WHERE account_id = :a"), {"a": account}
        )
        return {r.order_id: r.state for r in rows}


def ids(first: int, last: int) -> set[str]:
    return {f"o{n:05d}" for n in range(first, last + 1)}


def of_state(world: World, state: str) -> set[str]:
    return {i for i, s in states(world).items() if s == state}


def top_up(world: World, mode: str, cap: str | None = None, account: str = "store") -> None:
    with world.db.transaction() as conn:
        set_top_up_limit(
            conn,
            world.clock,
            account_id=account,
            mode=mode,
            cap=None if cap is None else Decimal(cap),
        )


DEC = local(NY, 2026, 12, 2, 8)


def test_R1_R3_business_releases_1500_queues_1501_to_3000_archives_the_rest(
    world: World,
) -> None:
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 3200, start=DEC))
    assert of_state(world, "to_send") == ids(1, 1500)
    assert of_state(world, "waiting") == ids(1501, 3000)
    assert of_state(world, "archived") == ids(3001, 3200)
    with world.db.transaction() as conn:
        status = review_status(conn, world.clock, account_id="store")
    assert (status.orders, status.within, status.topped_up) == (3200, 1500, 0)


def test_R2_a_150_dollar_top_up_buys_1071_orders_billed_149_94_on_the_1st(
    world: World,
) -> None:
    top_up(world, "defined", "150")
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 3000, start=DEC))
    assert of_state(world, "to_send") == ids(1, 2571)
    assert of_state(world, "waiting") == ids(2572, 3000)
    with world.db.transaction() as conn:
        status = review_status(conn, world.clock, account_id="store")
    assert (status.topped_up, status.top_up_amount, status.top_up_orders) == (
        1071,
        Decimal("149.94"),
        1071,
    )
    world.at(NY, 2027, 1, 1, 9)
    world.bill()
    (usage,) = world.invoices("store", "usage")
    assert usage.issued_on.isoformat() == "2027-01-01"  # top-ups: at the start of the month
    (line,) = usage.lines
    assert (line.charge.kind, line.charge.quantity, line.charge.unit_price) == (
        "top_up",
        1071,
        Decimal("0.14"),
    )
    assert usage.total_minor == 14994


def test_R4_next_month_the_backlog_goes_first_oldest_first_then_new_orders_queue(
    world: World,
) -> None:
    world.at(NY, 2026, 12, 31, 12)
    ingest(world, batch(1, 3000, start=DEC))  # 1,501-3,000 wait
    world.at(NY, 2027, 1, 2, 12)
    ingest(world, batch(3001, 3100, start=local(NY, 2027, 1, 1, 8)))
    # the 1,500 waiting take January's 1,500 places: January's own orders now wait
    assert of_state(world, "to_send") == ids(1, 3000)
    assert of_state(world, "waiting") == ids(3001, 3100)
    with world.db.read() as conn:
        released_at = dict(
            conn.execute(
                sa.text(
                    "SELECT order_id, released_month FROM orders "
                    "WHERE order_id IN ('o01501', 'o03000')"
                )
            ).all()
        )
    assert released_at == {"o01501": "2027-01", "o03000": "2027-01"}


def test_R4_an_upgrade_mid_month_releases_the_backlog_newest_first(world: World) -> None:
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 3000, start=DEC))
    world.change("store", "reviews-professional")  # 3,500 orders: room for 2,000 more
    assert of_state(world, "to_send") == ids(1, 3000)
    ingest(world, batch(3001, 4000, start=local(NY, 2026, 12, 19)))
    assert of_state(world, "to_send") == ids(1, 3500)
    assert of_state(world, "waiting") == ids(3501, 4000)


def test_R4_a_mid_month_top_up_releases_the_backlog_newest_first(world: World) -> None:
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 3000, start=DEC))
    top_up(world, "defined", "14")  # buys 100 orders
    released = of_state(world, "to_send") - ids(1, 1500)
    assert released == ids(2901, 3000)  # last in, first out
    assert of_state(world, "waiting") == ids(1501, 2900)


def test_R2_a_top_up_limit_on_the_free_plan_is_refused(world: World) -> None:
    world.business("tiny", plan="reviews-free", tz=NY, currency="USD")
    with pytest.raises(Refused) as refused:
        top_up(world, "unlimited", account="tiny")
    assert (refused.value.code, refused.value.field) == ("top_up_not_on_free_plan", "top_up_limit")


def test_U5_exclusions_reduce_requests_not_the_order_count(world: World) -> None:
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 2000, start=DEC, excluded=lambda n: n % 2 == 0))
    with world.db.transaction() as conn:
        status = review_status(conn, world.clock, account_id="store")
    assert status.orders == 2000  # every order counts against the limit
    requests = {i: s for i, s in states(world).items() if s is not None}
    assert len(requests) == 1000
    assert Counter(requests.values()) == {"to_send": 750, "waiting": 250}
    (orders,) = [m for m in world.page("store").metrics if m.metric == "orders"]
    assert orders.used == 2000  # the billing page counts them too (usage ledger)


def test_U5_an_order_placed_on_31_january_reported_on_1_february_counts_in_january(
    world: World,
) -> None:
    world.at(NY, 2027, 2, 1, 10)
    ingest(world, [OrderIn("late", local(NY, 2027, 1, 31, 23, 30))])
    with world.db.read() as conn:
        month = conn.execute(sa.text("SELECT month FROM orders")).scalar_one()
    assert month == "2027-01"


def test_U5_an_order_placed_before_the_plan_started_is_refused_and_nothing_counts(
    world: World,
) -> None:
    world.at(NY, 2026, 12, 20)
    before = OrderIn("before", local(NY, 2026, 11, 30, 23, 59))  # the plan starts 1 December
    with pytest.raises(InvalidInput) as refused:
        ingest(world, [*batch(1, 3, start=DEC), before])
    assert (refused.value.code, refused.value.field) == (
        "before_plan_started",
        "orders[3].placed_at",
    )
    assert states(world) == {}
    (orders,) = [m for m in world.page("store").metrics if m.metric == "orders"]
    assert orders.used == 0  # neither the gate nor the usage ledger counted the batch


@pytest.fixture
def oldest_first(db: Database, tmp_path: Path) -> World:
    """The world with the Reviews line's catalog option: a full backlog archives its oldest."""
    w = World(db, FixedClock(local(NY, 2026, 12, 1, 9)))
    text = (PRESETS / "reviews-loyalty.yaml").read_text()
    path = tmp_path / "reviews-loyalty.yaml"
    path.write_text(text.replace("archive_oldest: false #", "archive_oldest: true #", 1))
    loaded = load_catalog_with_extras(path)
    with db.transaction() as conn:
        load_catalog(conn, w.clock, catalog=loaded.catalog, details=loaded.extras.details())
    w.business("store", plan="reviews-business", tz=NY, currency="USD")
    return w


def test_R3_archive_oldest_keeps_the_newest_1500_waiting(oldest_first: World) -> None:
    oldest_first.at(NY, 2026, 12, 20)
    ingest(oldest_first, batch(1, 3200, start=DEC))
    assert of_state(oldest_first, "to_send") == ids(1, 1500)
    assert of_state(oldest_first, "waiting") == ids(1701, 3200)
    assert of_state(oldest_first, "archived") == ids(1501, 1700)


def test_R3_archive_oldest_across_two_months_of_one_batch(oldest_first: World) -> None:
    """December reported late beside January, both past the limit, in one batch: January's
    new requests push December's waiting ones out, oldest first, then their own oldest."""
    w = oldest_first
    w.at(NY, 2027, 1, 20)
    december, january = batch(1, 3100, start=DEC), batch(3101, 6300, start=local(NY, 2027, 1, 2))
    with w.db.transaction() as conn:
        ingest_orders(conn, w.clock, account_id="store", orders=[*january, *december])
    assert of_state(w, "to_send") == ids(1, 1500) | ids(3101, 4600)
    assert of_state(w, "archived") == ids(1501, 3100) | ids(4601, 4800)
    assert of_state(w, "waiting") == ids(4801, 6300)
    with w.db.transaction() as conn:
        status = review_status(conn, w.clock, account_id="store")
    assert (status.orders, status.within, status.states["waiting"]) == (3200, 1500, 1500)
    for month, count in ((Month(2026, 12), 3100), (Month(2027, 1), 3200)):
        (orders,) = [m for m in w.page("store", month).metrics if m.metric == "orders"]
        assert orders.used == count  # the gate and the usage ledger agree


def test_replaying_and_reordering_orders_gives_the_same_states_and_charges(
    world: World,
) -> None:
    orders = batch(1, 3300, start=DEC, excluded=lambda n: n % 7 == 0)
    shuffled = orders[:]
    random.Random(7).shuffle(shuffled)
    runs = {"once": (orders, False), "twice": (orders, True), "shuffled": (shuffled, False)}
    for account in runs:
        world.business(account, plan="reviews-business", tz=NY, currency="USD")
        top_up(world, "defined", "70", account=account)
    world.at(NY, 2026, 12, 20)
    for account, (sent, replay) in runs.items():
        with world.db.transaction() as conn:
            ingest_orders(conn, world.clock, account_id=account, orders=sent)
            if replay:
                again = ingest_orders(conn, world.clock, account_id=account, orders=sent)
                assert (again.new, again.duplicates) == (0, 3300)
    world.at(NY, 2027, 1, 1, 9)
    world.bill()

    def seen(account: str) -> tuple[object, ...]:
        charges = [(i.kind, i.total_minor) for i in world.invoices(account)]
        return states(world, account), charges

    first = seen("once")
    assert Counter(first[0].values())[None] == 3300 // 7
    assert ("usage", 7000) in first[1]  # $70 buys 500 orders at $0.14
    assert seen("twice") == first
    assert seen("shuffled") == first


def test_U4_loyalty_and_full_suite_never_hold_a_request_back(world: World) -> None:
    world.business("suite", plan="full-suite-business", tz=NY, currency="USD")
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 2000, start=DEC), account="suite")
    assert set(states(world, "suite").values()) == {"to_send"}
    world.at(NY, 2027, 1, 8, 9)
    world.bill()
    (usage,) = world.invoices("suite", "usage")
    assert usage.total_minor == 500 * 20  # 500 over at $0.20


def test_R5_the_platform_lists_requests_acknowledges_them_and_hears_of_releases(
    world: World,
) -> None:
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 1600, start=DEC))
    with world.db.transaction() as conn:
        to_send = list_requests(conn, world.clock, account_id="store", state="to_send", limit=2000)
        waiting = list_requests(conn, world.clock, account_id="store", state="waiting")
        page2 = list_requests(
            conn, world.clock, account_id="store", state="to_send", after="o01000", limit=10
        )
    assert [r.order_id for r in to_send] == sorted(ids(1, 1500))
    assert [r.order_id for r in waiting] == sorted(ids(1501, 1600))
    assert [r.order_id for r in page2] == [f"o{n:05d}" for n in range(1001, 1011)]
    with world.db.read() as conn:
        events = conn.execute(
            sa.select(webhook_events.c.payload).where(
                webhook_events.c.type == "review_requests.released"
            )
        ).all()
    announced = [i for e in events for i in e.payload["order_ids"]]
    assert announced == sorted(ids(1, 1500))
    with world.db.transaction() as conn:
        done, others = acknowledge(
            conn, world.clock, account_id="store", order_ids=["o00001", "o00002", "o01501", "nope"]
        )
    assert done == 2
    assert others == {"o01501": "waiting", "nope": "unknown"}
    assert states(world)["o00001"] == "sent"


def test_B2_R2_months_of_top_ups_billed_on_each_1st_in_one_late_run(world: World) -> None:
    """A run that is months behind issues every top-up invoice, each on its 1st."""
    top_up(world, "unlimited")
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 1600, start=DEC))
    world.at(NY, 2027, 1, 20)
    ingest(world, batch(1601, 3300, start=local(NY, 2027, 1, 2)))
    world.at(NY, 2027, 3, 10)
    world.bill()
    usage = world.invoices("store", "usage")
    assert [(i.issued_on.isoformat(), i.total_minor) for i in usage] == [
        ("2027-01-01", 100 * 14),
        ("2027-02-01", 200 * 14),
    ]
    numbers = [i.number for i in world.invoices("store")]
    assert numbers == sorted(numbers)  # numbered in issue-date order
