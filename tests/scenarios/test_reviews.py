"""The Reviews gate over real months (R1-R5, U4, U5) with seed 003's figures:
Reviews Business has an order limit of 1,500 and a top-up price of $0.14."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allot.catalog.loader import load_catalog_with_extras
from allot.catalog.service import load_catalog
from allot.core import backlog as gate
from allot.core.errors import InvalidInput, Refused
from allot.core.periods import Month
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.reviews.service import (
    OrderIn,
    acknowledge,
    ingest_orders,
    list_requests,
    review_status,
    set_top_up_limit,
)
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
        rows = conn.execute(
            sa.text(
                "SELECT order_id, released_month FROM orders WHERE order_id IN ('o01501', 'o03000')"
            )
        )
        released_at = {r.order_id: r.released_month for r in rows}
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

    def seen(account: str) -> tuple[dict[str, str | None], list[tuple[str, int]]]:
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
    numbers = [str(i.number) for i in world.invoices("store")]
    assert "None" not in numbers
    assert numbers == sorted(numbers)  # numbered in issue-date order


# --- U3: who paid each order, in the ledger, on the page and on the invoice -------------


def counted(world: World, month: Month, account: str = "store") -> dict[str, int]:
    """The ledger's counters of the orders metric for `month`, by source kind."""
    with world.db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT source_kind, SUM(used) AS used FROM usage_counters"
                " WHERE account_id = :a AND metric = 'orders' AND period = :p"
                " GROUP BY source_kind"
            ),
            {"a": account, "p": month.key},
        )
        return {r.source_kind: int(r.used) for r in rows if r.used}


def split(world: World, month: Month, account: str = "store") -> dict[str, int]:
    """The billing page's split of the orders metric, by source kind."""
    (orders,) = [m for m in world.page(account, month).metrics if m.metric == "orders"]
    out: dict[str, int] = {}
    for part in orders.split:
        out[part.kind] = out.get(part.kind, 0) + part.used
    assert sum(out.values()) == orders.used
    return out


DECEMBER, JANUARY = Month(2026, 12), Month(2027, 1)


def test_U3_R2_december_2571_orders_are_1500_plan_1071_top_up_and_the_rest_backlog(
    world: World,
) -> None:
    """Seed 003: Business with a $150 top-up, 3,000 December orders."""
    top_up(world, "defined", "150")
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 3000, start=DEC))
    expected = {"plan": 1500, "top_up": 1071, "backlog": 429}
    assert counted(world, DECEMBER) == expected
    assert split(world, DECEMBER) == expected
    assert sum(expected.values()) == 3000  # every order placed, each under its payer
    (orders,) = [m for m in world.page("store", DECEMBER).metrics if m.metric == "orders"]
    labels = {p.kind: p.label for p in orders.split}
    assert labels["top_up"] == "paid by the top-up limit"
    world.assert_ledger_proves_counters()
    world.at(NY, 2027, 1, 1, 9)
    world.bill()
    (usage,) = world.invoices("store", "usage")
    (line,) = usage.lines
    assert (line.charge.kind, line.charge.quantity) == ("top_up", 1071)  # as many as the ledger
    assert usage.total_minor == 14994  # $149.94, once


def test_U3_R2_a_batch_within_the_top_up_is_all_top_up_and_excluded_orders_count_too(
    world: World,
) -> None:
    """An excluded order past the limit takes a top-up place all the same (U5): it is
    charged, so the ledger names the top-up as its payer; past the top-up it is backlog."""
    top_up(world, "defined", "14")  # buys 100 orders
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 1500, start=DEC))
    ingest(world, batch(1501, 1650, start=DEC + timedelta(days=2), excluded=lambda n: n % 2 == 0))
    assert counted(world, DECEMBER) == {"plan": 1500, "top_up": 100, "backlog": 50}
    with world.db.transaction() as conn:
        status = review_status(conn, world.clock, account_id="store")
    assert (status.topped_up, status.top_up_amount) == (100, Decimal("14.00"))
    world.assert_ledger_proves_counters()


def test_U3_R4_a_mid_month_top_up_moves_the_released_orders_from_backlog_to_top_up(
    world: World,
) -> None:
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 3000, start=DEC))
    assert counted(world, DECEMBER) == {"plan": 1500, "backlog": 1500}
    top_up(world, "defined", "14")  # buys 100: orders 2,901-3,000 are sent, paid by it
    assert counted(world, DECEMBER) == {"plan": 1500, "top_up": 100, "backlog": 1400}
    assert split(world, DECEMBER) == {"plan": 1500, "top_up": 100, "backlog": 1400}
    world.assert_ledger_proves_counters()
    world.at(NY, 2027, 1, 1, 9)
    world.bill()
    (usage,) = world.invoices("store", "usage")
    assert usage.total_minor == 1400  # the 100 the ledger calls top-up, at $0.14


def test_U3_R4_an_upgrade_releases_into_the_plan_allowance_of_the_same_month(
    world: World,
) -> None:
    world.at(NY, 2026, 12, 20)
    ingest(world, batch(1, 3000, start=DEC))
    world.change("store", "reviews-professional")  # 3,500 orders: all 1,500 waiting are sent
    assert counted(world, DECEMBER) == {"plan": 3000}
    ingest(world, batch(3001, 4000, start=local(NY, 2026, 12, 19)))
    assert counted(world, DECEMBER) == {"plan": 3500, "backlog": 500}
    world.assert_ledger_proves_counters()


def test_U3_R4_january_pays_for_decembers_backlog_then_its_own_top_up(world: World) -> None:
    """December's 429 waiting orders go first in January, within January's limit: they
    leave December's backlog and count in January under the plan (R4). January's own
    orders then fill the rest of the limit and January's top-up."""
    top_up(world, "defined", "150")
    world.at(NY, 2026, 12, 31, 12)
    ingest(world, batch(1, 3000, start=DEC))
    world.at(NY, 2027, 1, 2, 12)
    ingest(world, batch(3001, 4200, start=local(NY, 2027, 1, 1, 8)))  # 1,200 January orders
    assert counted(world, DECEMBER) == {"plan": 1500, "top_up": 1071}
    assert counted(world, JANUARY) == {"plan": 1500, "top_up": 129}  # 429 + 1,071; 129
    assert split(world, JANUARY) == {"plan": 1500, "top_up": 129}
    assert of_state(world, "waiting") == set()
    with world.db.transaction() as conn:
        status = review_status(conn, world.clock, account_id="store")
    assert (status.orders, status.within, status.topped_up) == (1200, 1500, 129)
    (orders,) = [m for m in world.page("store", DECEMBER).metrics if m.metric == "orders"]
    assert orders.reported_late == 0  # the release moved units; it reported no usage late
    world.assert_ledger_proves_counters()
    world.at(NY, 2027, 2, 1, 9)
    world.bill()
    usage = world.invoices("store", "usage")
    assert [(i.issued_on.isoformat(), i.total_minor) for i in usage] == [
        ("2027-01-01", 14994),
        ("2027-02-01", 129 * 14),
    ]


def test_U3_U7_a_release_that_fills_januarys_allowance_sends_the_alerts(world: World) -> None:
    world.at(NY, 2026, 12, 31, 12)
    ingest(world, batch(1, 3000, start=DEC))
    world.at(NY, 2027, 1, 2, 12)
    with world.db.transaction() as conn:
        review_status(conn, world.clock, account_id="store")  # the month's first call releases
    assert counted(world, JANUARY) == {"plan": 1500}
    with world.db.read() as conn:
        alerts = conn.execute(
            sa.select(webhook_events.c.payload).where(
                webhook_events.c.type == "usage.threshold_reached"
            )
        ).all()
    reached = sorted((e.payload["month"], e.payload["threshold_percent"]) for e in alerts)
    assert reached == [("2026-12", 80), ("2026-12", 100), ("2027-01", 80), ("2027-01", 100)]


# A stream: batches of orders (each order excluded or not), and between batches
# perhaps a new top-up cap for the month (in cents; None: unlimited; 0: none).
_caps = st.none() | st.integers(0, 3000)
_streams = st.lists(
    st.tuples(
        st.lists(st.booleans(), min_size=1, max_size=120),
        st.none() | st.tuples(_caps),  # None: the cap stays
    ),
    min_size=1,
    max_size=5,
)


_accounts = itertools.count(1)


def _limit(cents: int | None) -> gate.TopUpLimit:
    if cents is None:
        return gate.UNLIMITED
    return gate.TopUpLimit.defined(Decimal(cents) / 100) if cents else gate.NO_TOP_UP


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first_cap=_caps, stream=_streams)
def test_U3_R2_R4_ledger_units_by_source_kind_are_the_gates_outcomes(
    world: World,
    first_cap: int | None,
    stream: list[tuple[list[bool], tuple[int | None] | None]],
) -> None:
    """Random order streams and top-up limits on Reviews Basic (200 orders, $0.16): the
    ledger's plan, top-up and backlog units are what `allot.core.backlog` says of the
    same stream (admit each batch; a new cap releases the backlog, R4)."""
    world.at(NY, 2026, 12, 1, 9)
    account = world.business(
        f"stream-{next(_accounts)}",
        plan="reviews-basic",
        tz=NY,
        currency="USD",
    )
    world.at(NY, 2026, 12, 20)
    cap = _limit(first_cap)
    month, waiting, placed, n = gate.MonthCount(), 0, 0, 0

    def set_cap(limit: gate.TopUpLimit) -> None:
        mode = "unlimited" if limit.unlimited else "none" if limit.buys_nothing else "defined"
        top_up(world, mode, None if mode != "defined" else str(limit.cap), account=account)

    set_cap(cap)
    for excluded, new_cap in stream:
        orders = [
            OrderIn(f"o{n + i:05d}", DEC + timedelta(minutes=n + i), skip)
            for i, skip in enumerate(excluded)
        ]
        n += len(orders)
        ingest(world, orders, account=account)
        admitted = gate.admit(gate.Gate.of(200, Decimal("0.16"), cap), month, waiting, excluded)
        month, waiting, placed = admitted.month, admitted.waiting, placed + len(excluded)
        if new_cap is not None:
            cap = _limit(new_cap[0])
            set_cap(cap)
            freed = gate.release(gate.Gate.of(200, Decimal("0.16"), cap), month, waiting)
            month, waiting = freed.month, freed.waiting
    expected = {
        "plan": month.within,
        "top_up": month.topped_up,
        "backlog": placed - month.within - month.topped_up,
    }
    assert counted(world, DECEMBER, account) == {k: v for k, v in expected.items() if v}
    world.assert_ledger_proves_counters()
