"""Late usage (B7) and the bounds on time (U8), on a fixed clock with seed 003's prices.

Full Suite Business: 1,500 orders a month included, $0.20 per order past it,
overage invoiced on the 8th of the next month.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allot.account.service import create_account
from allot.core.errors import InvalidInput
from allot.core.periods import Month, zone
from allot.core.reporting import closes_at
from allot.core.timezones import Zones
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.reviews.service import OrderIn, ingest_orders
from tests.conftest import wipe
from tests.scenarios.world import World, local

NY = "America/New_York"
PLAN = "full-suite-business"


@pytest.fixture
def world(db: Database) -> World:
    return World(db, FixedClock(local(NY, 2026, 1, 1, 9)))


def _billed_by_month(world: World, account: str) -> dict[date, Decimal]:
    """Money billed for each month's overage over all usage invoices, late lines included."""
    out: dict[date, Decimal] = {}
    for invoice in world.invoices(account, "usage"):
        for line in invoice.lines:
            if line.charge.kind in ("overage", "late_overage"):
                start = line.charge.period_start
                assert start is not None
                out[start] = out.get(start, Decimal(0)) + line.charge.amount
    return out


def _order(world: World, account: str, order_id: str, placed_at: datetime) -> None:
    with world.db.transaction() as conn:
        ingest_orders(
            conn, world.clock, account_id=account, orders=[OrderIn(order_id, placed_at, False)]
        )


def test_B7_a_late_january_order_goes_on_the_next_usage_invoice_once(world: World) -> None:
    """1,800 orders in January → $60.00 on 8 February; the 1,801st, placed 31 January at
    23:00 and reported 10 February → a $0.20 late line for January on the next usage
    invoice (8 March); one reported 10 March, past the 35-day window → period_closed."""
    store = world.business("store", plan=PLAN, tz=NY, currency="USD")
    world.at(NY, 2026, 1, 20, 10)
    world.consume(store, "orders", 1800)
    world.at(NY, 2026, 2, 8, 9)
    world.bill()
    (january,) = world.invoices(store, "usage")
    assert january.total_minor == 6000
    assert january.issued_on == date(2026, 2, 8)

    world.at(NY, 2026, 2, 10, 9)
    late = world.consume(store, "orders", 1, at=local(NY, 2026, 1, 31, 23))
    assert late.period == "2026-01"
    (orders,) = world.page(store, Month(2026, 1)).metrics  # the page shows it in January
    assert (orders.used, orders.over, orders.reported_late) == (1801, 301, 1)
    world.bill()
    assert len(world.invoices(store, "usage")) == 1  # nothing issued before the next usage day

    world.at(NY, 2026, 3, 8, 9)
    world.bill()
    world.bill()  # a rerun issues nothing more (B6)
    first, march = world.invoices(store, "usage")
    assert first.id == january.id
    assert march.issued_on == date(2026, 3, 8)
    (line,) = march.lines
    assert line.charge.kind == "late_overage"
    assert (line.charge.quantity, line.charge.unit_price) == (1, Decimal("0.20"))
    assert (line.charge.period_start, line.charge.period_end) == (
        date(2026, 1, 1),
        date(2026, 2, 1),
    )
    assert "January 2026" in line.charge.description
    assert march.total_minor == 20

    world.at(NY, 2026, 3, 10, 9)
    with pytest.raises(InvalidInput) as refused:
        world.consume(store, "orders", 1, at=local(NY, 2026, 1, 31, 23, 30))
    assert (refused.value.code, refused.value.field) == ("period_closed", "occurred_at")
    world.at(NY, 2026, 4, 8, 9)
    world.bill()
    assert _billed_by_month(world, store)[date(2026, 1, 1)] == Decimal("60.20")
    world.assert_ledger_proves_counters()


def test_B7_late_orders_through_the_orders_route_follow_the_same_policy(world: World) -> None:
    store = world.business("store", plan=PLAN, tz=NY, currency="USD")
    world.at(NY, 2026, 1, 20, 10)
    world.consume(store, "orders", 1800)
    world.at(NY, 2026, 2, 8, 9)
    world.bill()
    world.at(NY, 2026, 2, 10, 9)
    _order(world, store, "o-1801", local(NY, 2026, 1, 31, 23))
    world.at(NY, 2026, 3, 8, 9)
    world.bill()
    assert _billed_by_month(world, store)[date(2026, 1, 1)] == Decimal("60.20")
    world.at(NY, 2026, 3, 10, 9)
    with pytest.raises(InvalidInput) as refused:
        _order(world, store, "o-1802", local(NY, 2026, 1, 31, 23, 30))
    assert (refused.value.code, refused.value.field) == ("period_closed", "orders[0].placed_at")


def test_B7_B3_late_usage_of_a_waived_month_is_waived_too(world: World) -> None:
    """Loyalty Business upgraded before 8 February: January's overage is waived, and so is
    January usage reported after that invoice."""
    shop = world.business("shop", plan="loyalty-business", tz=NY, currency="USD")
    world.at(NY, 2026, 1, 20)
    world.consume(shop, "orders", 1800)
    world.at(NY, 2026, 2, 5, 10)
    world.change(shop, "loyalty-professional")
    world.at(NY, 2026, 2, 9, 10)
    world.bill()
    world.consume(shop, "orders", 5, at=local(NY, 2026, 1, 30, 12))
    world.at(NY, 2026, 3, 9, 10)
    world.bill()
    assert _billed_by_month(world, shop) == {}


def test_U8_an_action_dated_more_than_five_minutes_ahead_is_refused(world: World) -> None:
    store = world.business("store", plan=PLAN, tz=NY, currency="USD")
    world.at(NY, 2026, 1, 20, 10)
    now = world.clock.now()
    assert world.consume(store, "orders", 1, at=now + timedelta(minutes=4, seconds=59)).allowed
    with pytest.raises(InvalidInput) as refused:
        world.consume(store, "orders", 1, at=now + timedelta(minutes=5, seconds=1))
    assert (refused.value.code, refused.value.field) == ("occurred_in_future", "occurred_at")
    with pytest.raises(InvalidInput) as years:
        world.consume(store, "orders", 1, at=now + timedelta(days=3 * 365))
    assert years.value.code == "occurred_in_future"
    with pytest.raises(InvalidInput) as order:
        _order(world, store, "o-1", now + timedelta(minutes=6))
    assert (order.value.code, order.value.field) == ("occurred_in_future", "orders[0].placed_at")


def test_U8_an_action_dated_before_the_plan_or_the_account_is_refused(world: World) -> None:
    store = world.business("store", plan=PLAN, tz=NY, currency="USD", started_on=date(2026, 1, 10))
    world.at(NY, 2026, 1, 20, 10)
    with pytest.raises(InvalidInput) as refused:
        world.consume(store, "orders", 1, at=local(NY, 2026, 1, 9, 23))
    assert (refused.value.code, refused.value.field) == ("before_plan_started", "occurred_at")
    assert world.consume(store, "orders", 1, at=local(NY, 2026, 1, 10, 0)).allowed

    # an account on no plan for the metric: its grants pay, but not before it existed
    with world.db.transaction() as conn:
        create_account(
            conn, world.clock, account_id="cafe", name="Cafe", timezone=NY, currency="EUR"
        )
    world.grant("cafe", {"card_operations": 10})
    with pytest.raises(InvalidInput) as before:
        world.consume("cafe", at=world.clock.now() - timedelta(hours=1))
    assert before.value.code == "before_plan_started"


def test_U8_a_code_claimed_today_does_not_pay_for_usage_dated_before_its_claim(
    world: World,
) -> None:
    cafe = world.business("cafe", plan="card-scanner-free", tz="Europe/Kyiv")
    world.at("Europe/Kyiv", 2026, 1, 20, 10)
    world.grant(cafe, {"card_operations": 50})
    earlier = world.consume(cafe, quantity=3, at=local("Europe/Kyiv", 2026, 1, 19, 10))
    assert [(d.source, d.quantity) for d in earlier.draws] == [("plan:1", 3)]
    now = world.consume(cafe, quantity=3)
    assert [(d.source, d.quantity) for d in now.draws] == [("grant:1", 3)]


# --- the property: every unit billed once, whatever the reporting delays ---------

MONTHS = [Month(2026, 1), Month(2026, 2), Month(2026, 3)]

reports = st.lists(
    st.tuples(
        st.integers(0, len(MONTHS) - 1),  # the month it happened in
        st.integers(0, 27 * 24),  # hours into that month
        st.integers(1, 900),  # orders
        st.integers(0, 66 * 24),  # hours between happening and being reported
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.slow
@given(reports=reports)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_B7_each_months_overage_is_billed_exactly_once_over_all_invoices(
    db: Database, reports: list[tuple[int, int, int, int]]
) -> None:
    """For random orders reported with random delays inside the grace window, the money
    billed for each month over all invoices is that month's overage × $0.20, exactly."""
    wipe(db)
    tz = zone(NY)
    world = World(db, FixedClock(MONTHS[0].start(tz)))
    store = world.business("store", plan=PLAN, tz=NY, currency="USD")
    events = []
    for index, (m, hours, orders, delay) in enumerate(reports):
        happened = MONTHS[m].start(tz) + timedelta(hours=hours)
        last_chance = closes_at(MONTHS[m], Zones(NY), 35) - timedelta(seconds=1)
        reported = min(happened + timedelta(hours=delay), last_chance)
        events.append((reported, happened, orders, index))
    units = dict.fromkeys(MONTHS, 0)
    for reported, happened, orders, index in sorted(events):
        world.clock.set(reported)
        world.bill()  # whatever is due by now is issued before this report arrives
        world.consume(store, "orders", orders, key=f"e{index}", at=happened)
        units[Month(happened.astimezone(tz).year, happened.astimezone(tz).month)] += orders
    world.clock.set(datetime(2026, 7, 9, 12, tzinfo=UTC))
    world.bill()
    billed = _billed_by_month(world, store)
    for month in MONTHS:
        expected = Decimal(max(units[month] - 1500, 0)) * Decimal("0.20")
        assert billed.get(month.first_day(), Decimal(0)) == expected, month
