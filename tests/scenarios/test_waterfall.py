"""The consumption waterfall month by month, on the stamp-card and reviews-loyalty presets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from allot.core.allocation import Outcome
from allot.core.money import Money
from allot.core.periods import Month
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from tests.scenarios.world import World, local, sources


@pytest.fixture
def world(db: Database) -> World:
    return World(db, FixedClock(local("Europe/Kyiv", 2026, 3, 2, 9)))


def test_U4_free_plan_100_operations_then_the_101st_is_recorded_overage_with_prompt(
    world: World,
) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    first_hundred = world.consume_many(cafe, 100)
    assert all(sources(r) == [("plan", 1)] for r in first_hundred)
    assert world.page(cafe).metrics[0].headline() == "Used: 100 / 100 included per month"

    the_101st = world.consume(cafe)

    assert the_101st.allowed
    assert the_101st.outcome is Outcome.FREE_OVERAGE
    assert sources(the_101st) == [("free_overage", 1)]
    assert the_101st.prompt == ("activate_code", "upgrade_plan", "reduce_usage")
    page = world.page(cafe)
    ops = next(m for m in page.metrics if m.metric == "card_operations")
    assert ops.headline() == "Used: 101 / 100 included per month"
    assert ops.charge is None  # recorded, never billed
    assert page.prompt == ("activate_code", "upgrade_plan", "reduce_usage")
    world.assert_ledger_proves_counters()


def test_U2_K4_grant_of_18_drawn_before_the_plan_then_reset_next_month_without_rollover(
    world: World,
) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    code = world.grant(cafe, {"card_operations": 18, "staff_seats": 36}, label="Code #1")
    page = world.page(cafe)
    assert [(r.name, r.used, r.available) for r in page.grants[0].resources] == [
        ("Card operations", 0, 18),
        ("Staff seats", 0, 36),
    ]

    march = world.consume_many(cafe, 20)

    assert all(sources(r) == [("grant", 1)] for r in march[:18])
    assert all(r.draws[0].source == code.source for r in march[:18])
    assert all(sources(r) == [("plan", 1)] for r in march[18:])
    ops = next(m for m in world.page(cafe).metrics if m.metric == "card_operations")
    assert (ops.from_grants, ops.used) == (18, 2)

    world.clock.set(local("Europe/Kyiv", 2026, 4, 1, 0, 0))  # midnight, April, in Kyiv
    april = world.consume(cafe)

    assert sources(april) == [("grant", 1)]
    page = world.page(cafe)
    assert page.month == "2026-04"
    assert next((r.used, r.available) for r in page.grants[0].resources) == (1, 18)  # no rollover
    ops = next(m for m in page.metrics if m.metric == "card_operations")
    assert ops.headline() == "Used: 0 / 100 included per month"  # the plan is full again too
    world.assert_ledger_proves_counters()


def test_U2_one_action_is_split_across_the_code_and_the_plan(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    world.grant(cafe, {"card_operations": 3})
    world.consume(cafe, quantity=2)

    split = world.consume(cafe, quantity=2)

    assert sources(split) == [("grant", 1), ("plan", 1)]


def test_U2_of_two_grants_the_one_expiring_first_is_drawn_first(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    lifetime = world.grant(cafe, {"card_operations": 5}, label="lifetime")
    world.clock.advance(timedelta(hours=1))
    fixed = world.grant(
        cafe, {"card_operations": 5}, label="fixed-term", ends_at=local("Europe/Kyiv", 2026, 6, 1)
    )

    drawn = [world.consume(cafe).draws[0].source for _ in range(11)]

    assert drawn == [fixed.source] * 5 + [lifetime.source] * 5 + ["plan:1"]


def test_U2_between_two_lifetime_grants_the_oldest_claimed_goes_first(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    older = world.grant(cafe, {"card_operations": 2})
    world.clock.advance(timedelta(minutes=5))
    world.grant(cafe, {"card_operations": 2})

    assert [world.consume(cafe).draws[0].source for _ in range(2)] == [older.source] * 2


def test_K5_a_paused_grant_is_skipped_and_a_resumed_one_drawn_again(world: World) -> None:
    from allot.code.grants import set_paused

    cafe = world.business("cafe", plan="card-scanner-free")
    code = world.grant(cafe, {"card_operations": 10})
    assert sources(world.consume(cafe)) == [("grant", 1)]
    with world.db.transaction() as conn:
        set_paused(conn, world.clock, grant_id=code.id, paused=True)
    assert sources(world.consume(cafe)) == [("plan", 1)]
    with world.db.transaction() as conn:
        set_paused(conn, world.clock, grant_id=code.id, paused=False)
    assert sources(world.consume(cafe)) == [("grant", 1)]


def test_K3_a_fixed_term_grant_stops_at_its_end(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    world.grant(cafe, {"card_operations": 50}, ends_at=local("Europe/Kyiv", 2026, 3, 15))
    assert sources(world.consume(cafe)) == [("grant", 1)]
    world.clock.set(local("Europe/Kyiv", 2026, 3, 15))
    assert sources(world.consume(cafe)) == [("plan", 1)]


def test_U5_an_order_at_2330_on_31_january_reported_on_2_february_counts_in_january(
    world: World,
) -> None:
    store = world.business(
        "store",
        plan="full-suite-business",
        tz="America/New_York",
        currency="USD",
        started_on=date(2026, 1, 1),
    )
    world.clock.set(local("America/New_York", 2026, 2, 2, 10))
    placed = local("America/New_York", 2026, 1, 31, 23, 30)
    assert placed.date() == date(2026, 2, 1)  # already February in UTC

    order = world.consume(store, "orders", at=placed)

    assert order.period == "2026-01"
    january = world.page(store, Month(2026, 1)).metrics[0]
    february = world.page(store, Month(2026, 2)).metrics[0]
    assert (january.used, february.used) == (1, 0)


def test_U4_V2_full_suite_business_at_1800_orders_bills_300_over_at_020(world: World) -> None:
    store = world.business(
        "store",
        plan="full-suite-business",
        tz="America/New_York",
        currency="USD",
        started_on=date(2026, 3, 1),
    )
    world.consume(store, "orders", quantity=1500)
    past = world.consume(store, "orders", quantity=300)

    assert past.outcome is Outcome.OVERAGE
    assert sources(past) == [("overage", 300)]
    orders = world.page(store).metrics[0]
    assert orders.headline() == "Used: 1800 / 1500 included per month"
    assert orders.charge == Money(Decimal("60.00"), "USD")


def test_U6_seats_past_the_included_one_on_a_paid_plan_are_extra_seat_days(world: World) -> None:
    world.clock.set(local("Europe/Kyiv", 2026, 3, 10, 9))
    shop = world.business("shop", plan="monthly")
    assert sources(world.take(shop, "owner")) == [("plan", 1)]
    assert sources(world.take(shop, "anna")) == [("overage", 1)]
    assert sources(world.take(shop, "bohdan")) == [("overage", 1)]
    world.clock.set(local("Europe/Kyiv", 2026, 3, 20, 18))
    world.release(shop, "bohdan")
    world.clock.set(local("Europe/Kyiv", 2026, 4, 2, 9))

    seats = next(m for m in world.page(shop, Month(2026, 3)).metrics if m.metric == "staff_seats")

    # anna: 10-31 March = 22 days; bohdan: 10-20 March = 11 days
    assert seats.extra_seat_days == 33
    assert seats.charge == Money.of("5", "EUR") * 33 / 31
    assert seats.headline() == "1 included, 2 taken"
    world.assert_ledger_proves_counters()


def test_U6_seed_002_paid_plan_beside_a_code_of_36_seats_bills_the_37th(world: World) -> None:
    shop = world.business("shop", plan="monthly")
    world.grant(shop, {"staff_seats": 36}, label="Code #1")
    takes = [world.take(shop, f"staff-{n}") for n in range(1, 39)]

    assert all(sources(t) == [("grant", 1)] for t in takes[:36])
    assert sources(takes[36]) == [("plan", 1)]  # the plan's one included seat
    assert sources(takes[37]) == [("overage", 1)]  # an extra seat, billed


def test_U6_releasing_a_code_seat_moves_an_extra_seat_onto_it(world: World) -> None:
    shop = world.business("shop", plan="monthly")
    world.grant(shop, {"staff_seats": 1})
    world.take(shop, "a")  # code
    world.take(shop, "b")  # plan
    world.take(shop, "c")  # extra, billed

    released = world.release(shop, "a")

    assert sources(released) == [("grant", -1), ("overage", -1), ("grant", 1)]
    seats = next(m for m in world.page(shop).metrics if m.metric == "staff_seats")
    assert {s.kind: s.used for s in seats.split} == {"grant": 1, "plan": 1}
    world.assert_ledger_proves_counters()


def test_U6_a_new_grant_takes_over_seats_recorded_past_a_free_plan(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    world.take(cafe, "owner")
    assert sources(world.take(cafe, "barista")) == [("free_overage", 1)]

    world.grant(cafe, {"staff_seats": 5})

    seats = next(m for m in world.page(cafe).metrics if m.metric == "staff_seats")
    assert {s.kind: s.used for s in seats.split} == {"grant": 2}  # codes first (U2)
    assert world.page(cafe).prompt == ()
    world.assert_ledger_proves_counters()


def test_C3_per_location_plans_multiply_the_allowance(world: World) -> None:
    chain = world.business("chain", plan="monthly", quantity=3)
    ops = next(m for m in world.page(chain).metrics if m.metric == "card_operations")
    assert ops.included == 3 * 1000


def test_U1_the_same_key_returns_the_first_answer_and_changes_nothing(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    first = world.consume(cafe, quantity=2, key="till-7:receipt-42")
    again = world.consume(cafe, quantity=2, key="till-7:receipt-42")

    assert again.replayed
    assert not first.replayed
    assert (again.event_id, again.draws, again.outcome) == (
        first.event_id,
        first.draws,
        first.outcome,
    )
    assert world.page(cafe).metrics[0].used == 2


def test_U1_the_same_key_with_a_different_body_is_an_error(world: World) -> None:
    from allot.core.errors import IdempotencyMismatch

    cafe = world.business("cafe", plan="card-scanner-free")
    world.consume(cafe, quantity=2, key="k-1")
    with pytest.raises(IdempotencyMismatch) as err:
        world.consume(cafe, quantity=3, key="k-1")
    assert err.value.code == "idempotency_key_reused"
    assert err.value.field == "idempotency_key"


def test_C5_a_price_change_makes_a_new_version_and_subscribers_keep_theirs(world: World) -> None:
    from dataclasses import replace

    from allot.catalog.loader import load_catalog_with_extras
    from allot.catalog.service import load_catalog
    from allot.subscription import repository as subscription_repo
    from tests.scenarios.world import PRESETS

    early = world.business("early", plan="monthly")
    loaded = load_catalog_with_extras(PRESETS / "stamp-card.yaml")
    dearer = dict(loaded.catalog.plans)
    dearer["monthly"] = replace(dearer["monthly"], price=Decimal("35"))
    with world.db.transaction() as conn:
        report = load_catalog(conn, world.clock, catalog=replace(loaded.catalog, plans=dearer))
    assert report.new_versions == ["monthly v2"]
    late = world.business("late", plan="monthly")

    with world.db.read() as conn:
        (early_sub,) = subscription_repo.live(conn, early)
        (late_sub,) = subscription_repo.live(conn, late)
    assert (early_sub.plan.version, early_sub.plan.price) == (1, Decimal("29"))
    assert (late_sub.plan.version, late_sub.plan.price) == (2, Decimal("35"))


def test_C5_loading_the_same_catalog_twice_changes_nothing(world: World) -> None:
    from allot.catalog.loader import load_catalog_with_extras
    from allot.catalog.service import load_catalog
    from tests.scenarios.world import PRESETS

    loaded = load_catalog_with_extras(PRESETS / "reviews-loyalty.yaml")
    with world.db.transaction() as conn:
        report = load_catalog(conn, world.clock, catalog=loaded.catalog)
    assert report.added == []
    assert report.new_versions == []
    assert len(report.unchanged) == len(loaded.catalog.plans)


def test_clock_in_utc_plus_14_and_minus_11_puts_the_same_instant_in_different_months(
    world: World,
) -> None:
    instant = datetime(2026, 3, 31, 11, 30, tzinfo=UTC)  # 1 April 01:30 in Kiritimati
    world.clock.set(instant)
    east = world.business(
        "east",
        plan="full-suite-business",
        tz="Pacific/Kiritimati",
        currency="USD",
        started_on=date(2026, 3, 1),
    )
    west = world.business(
        "west",
        plan="full-suite-business",
        tz="Pacific/Pago_Pago",
        currency="USD",
        started_on=date(2026, 3, 1),
    )
    assert world.consume(east, "orders").period == "2026-04"
    assert world.consume(west, "orders").period == "2026-03"  # 31 March 00:30 in Pago Pago
