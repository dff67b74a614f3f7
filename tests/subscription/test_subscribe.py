"""Subscribing (A2, B1, C3, C5): one live subscription per product line, dated in the account's
time zone, and every refusal named by its code and field, writing nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from allot.account.service import update_account
from allot.catalog.service import load_catalog
from allot.core.catalog import Catalog, Interval, Plan, ProductLine
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription import repository as repo
from allot.subscription.repository import LiveSubscription
from allot.subscription.service import MAX_QUANTITY, subscribe
from allot.usage.service import consume
from tests.domains import (
    add_account,
    events,
    load_presets,
    read,
    refusal,
    refused_before_writing,
    run,
)
from tests.factories import BILL, cards_catalog, load, rule
from tests.scenarios.world import local


@pytest.fixture
def presets(db: Database, clock: FixedClock) -> Database:
    load_presets(db, clock)
    return db


def sub(
    db: Database, clock: FixedClock, account_id: str, plan: str, **kw: object
) -> LiveSubscription:
    return run(
        db,
        lambda conn: subscribe(conn, clock, account_id=account_id, plan_code=plan, **kw),  # type: ignore[arg-type]
    )


def live(db: Database, account_id: str) -> list[LiveSubscription]:
    return read(db, lambda conn: repo.live(conn, account_id))


# --- the contract date, in the account's time zone -------------------------------------------


def test_a2_b1_a_start_east_of_utc_is_the_local_date_already_the_1st(
    presets: Database, clock: FixedClock
) -> None:
    """00:30 on 1 February in Tokyo is still 31 January in UTC: the contract date is Tokyo's."""
    clock.set(local("Asia/Tokyo", 2026, 2, 1, 0, 30))
    add_account(presets, clock, "sushi", tz="Asia/Tokyo")
    created = sub(presets, clock, "sushi", "monthly")
    (row,) = live(presets, "sushi")
    assert clock.now().date() == date(2026, 1, 31)
    assert (row.started_on, row.starts_at) == (date(2026, 2, 1), local("Asia/Tokyo", 2026, 2, 1))
    assert (created.started_on, created.starts_at) == (row.started_on, row.starts_at)
    # B1: charged in advance on the contract date; its first usage month is the start's
    assert (row.next_bill_on, row.usage_month, row.billed_months) == (
        date(2026, 2, 1),
        "2026-02",
        0,
    )
    assert (row.state, row.quantity, row.plan.code, row.product_line) == (
        "active",
        1,
        "monthly",
        "stamp-card",
    )


def test_a2_b1_a_start_west_of_utc_is_still_the_31st_locally(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 2, 1, 5, 0, tzinfo=UTC))  # 21:00 on 31 January in Los Angeles
    add_account(presets, clock, "taco", tz="America/Los_Angeles")
    sub(presets, clock, "taco", "monthly")
    (row,) = live(presets, "taco")
    assert row.started_on == date(2026, 1, 31)
    assert row.starts_at == datetime(2026, 1, 31, 8, 0, tzinfo=UTC)  # local midnight, PST
    assert (row.next_bill_on, row.usage_month) == (date(2026, 1, 31), "2026-01")


def test_b1_a_backdated_start_keeps_its_contract_date_and_its_first_month(
    presets: Database, clock: FixedClock
) -> None:
    add_account(presets, clock, "cafe")
    sub(presets, clock, "cafe", "monthly", started_on=date(2025, 12, 21))
    (row,) = live(presets, "cafe")
    assert (row.started_on, row.next_bill_on, row.usage_month) == (
        date(2025, 12, 21),
        date(2025, 12, 21),
        "2025-12",
    )
    assert row.starts_at == local("Europe/Kyiv", 2025, 12, 21)


def test_u8_a_subscription_dated_next_month_meters_nothing_before_it_starts(
    presets: Database, clock: FixedClock
) -> None:
    add_account(presets, clock, "cafe")
    sub(presets, clock, "cafe", "monthly", started_on=date(2026, 2, 1))
    error = refused_before_writing(
        presets,
        lambda conn: consume(
            conn,
            clock,
            account_id="cafe",
            metric="card_operations",
            quantity=1,
            idempotency_key="early",
        ),
    )
    assert refusal(error) == (InvalidInput, "before_plan_started", "occurred_at")


def test_a5_a_time_zone_changed_this_month_does_not_date_a_new_contract_yet(
    presets: Database, clock: FixedClock
) -> None:
    """Kyiv → New York on 20 January is in force from February; a subscription taken at 05:00
    on 25 January in Kyiv (still 22:00 on the 24th in New York) starts on Kyiv's 25th."""
    add_account(presets, clock, "cafe")
    clock.set(local("Europe/Kyiv", 2026, 1, 20, 12))
    run(
        presets,
        lambda conn: update_account(conn, clock, account_id="cafe", timezone="America/New_York"),
    )
    clock.set(local("Europe/Kyiv", 2026, 1, 25, 5))
    sub(presets, clock, "cafe", "monthly")
    (row,) = live(presets, "cafe")
    assert (row.started_on, row.starts_at) == (date(2026, 1, 25), local("Europe/Kyiv", 2026, 1, 25))


# --- what is stored and announced ------------------------------------------------------------


def test_c3_a_per_location_plan_keeps_its_quantity_and_announces_it(
    presets: Database, clock: FixedClock
) -> None:
    add_account(presets, clock, "chain")
    created = sub(presets, clock, "chain", "monthly", quantity=3)
    (row,) = live(presets, "chain")
    assert (row.id, row.quantity, row.plan.included("card_operations", row.quantity)) == (
        created.id,
        3,
        3 * row.plan.included("card_operations"),
    )
    (event,) = events(presets, "subscription.updated")
    assert event == {
        "change": "created",
        "subscription_id": created.id,
        "account_id": "chain",
        "product_line": "stamp-card",
        "plan": "monthly",
        "plan_version": 1,
        "quantity": 3,
        "pending_quantity": None,
        "pending_quantity_on": None,
        "started_on": "2026-01-05",
        "state": "active",
    }


def test_c3_the_largest_quantity_is_accepted(presets: Database, clock: FixedClock) -> None:
    add_account(presets, clock, "chain")
    sub(presets, clock, "chain", "monthly", quantity=MAX_QUANTITY)
    assert [s.quantity for s in live(presets, "chain")] == [MAX_QUANTITY]


def test_subscribe_returns_the_row_it_wrote(presets: Database, clock: FixedClock) -> None:
    add_account(presets, clock, "cafe")
    created = sub(presets, clock, "cafe", "card-scanner-free")
    (row,) = live(presets, "cafe")
    assert (
        created.id,
        created.account_id,
        created.product_line,
        created.plan_id,
        created.plan,
        created.quantity,
        created.started_on,
        created.starts_at,
        created.state,
    ) == (
        row.id,
        row.account_id,
        row.product_line,
        row.plan_id,
        row.plan,
        row.quantity,
        row.started_on,
        row.starts_at,
        row.state,
    )
    assert row.source == f"plan:{row.id}"


def test_c5_a_new_version_is_taken_by_new_subscribers_only(db: Database, clock: FixedClock) -> None:
    load(db, clock)
    add_account(db, clock, "old")
    sub(db, clock, "old", "paid")
    catalog = cards_catalog()
    dearer = replace(catalog.plans["paid"], price=Decimal(39))
    run(
        db,
        lambda conn: load_catalog(
            conn, clock, catalog=replace(catalog, plans={**catalog.plans, "paid": dearer})
        ),
    )
    add_account(db, clock, "new")
    sub(db, clock, "new", "paid")
    (old,), (new,) = live(db, "old"), live(db, "new")
    assert (old.plan.version, old.plan.price) == (1, Decimal(29))
    assert (new.plan.version, new.plan.price) == (2, Decimal(39))
    assert old.plan_id != new.plan_id


# --- one plan per product line and per metric (A2, CHOICE) -----------------------------------


def two_line_catalog() -> Catalog:
    """The factories' cards and strict lines, and a third line that meters staff seats too."""
    base = cards_catalog()
    seats = Plan(
        "seat-pack",
        "Seat pack",
        "seats",
        "EUR",
        Decimal(5),
        Interval.MONTH,
        {"staff_seats": rule("staff_seats", 5, BILL, "4")},
    )
    return replace(
        base,
        plans={**base.plans, "seat-pack": seats},
        product_lines={
            **base.product_lines,
            "seats": ProductLine("seats", "Seats", ("seat-pack",)),
        },
    )


def test_a2_two_product_lines_that_meter_different_metrics_live_side_by_side(
    db: Database, clock: FixedClock
) -> None:
    load(db, clock, two_line_catalog())
    add_account(db, clock, "shop")
    first = sub(db, clock, "shop", "paid")
    second = sub(db, clock, "shop", "strict")
    assert [(s.id, s.product_line) for s in live(db, "shop")] == [
        (first.id, "cards"),
        (second.id, "strict"),
    ]
    assert [e["product_line"] for e in events(db, "subscription.updated")] == ["cards", "strict"]


def test_a2_a_second_plan_that_meters_the_same_metric_is_refused(
    db: Database, clock: FixedClock
) -> None:
    load(db, clock, two_line_catalog())
    add_account(db, clock, "shop")
    sub(db, clock, "shop", "paid")
    error = refused_before_writing(
        db, lambda conn: subscribe(conn, clock, account_id="shop", plan_code="seat-pack")
    )
    assert refusal(error) == (Conflict, "metric_already_metered", "plan")
    assert "staff_seats" in error.message


@pytest.mark.parametrize("second", ["monthly", "annual", "card-scanner-free"])
def test_a2_one_live_subscription_per_product_line(
    presets: Database, clock: FixedClock, second: str
) -> None:
    add_account(presets, clock, "cafe")
    sub(presets, clock, "cafe", "monthly")
    error = refused_before_writing(
        presets, lambda conn: subscribe(conn, clock, account_id="cafe", plan_code=second)
    )
    assert refusal(error) == (Conflict, "already_subscribed", "plan")
    assert [s.plan.code for s in live(presets, "cafe")] == ["monthly"]


def test_a2_another_accounts_subscription_does_not_block_the_line(
    presets: Database, clock: FixedClock
) -> None:
    add_account(presets, clock, "cafe")
    add_account(presets, clock, "bakery")
    sub(presets, clock, "cafe", "monthly")
    sub(presets, clock, "bakery", "monthly")
    assert [s.account_id for s in live(presets, "bakery")] == ["bakery"]


# --- refusals ---------------------------------------------------------------------------------


def test_subscribe_refuses_an_unknown_account(presets: Database, clock: FixedClock) -> None:
    error = refused_before_writing(
        presets, lambda conn: subscribe(conn, clock, account_id="ghost", plan_code="monthly")
    )
    assert refusal(error) == (NotFound, "account_not_found", "account_id")


def test_subscribe_refuses_an_unknown_plan(presets: Database, clock: FixedClock) -> None:
    add_account(presets, clock, "cafe")
    error = refused_before_writing(
        presets, lambda conn: subscribe(conn, clock, account_id="cafe", plan_code="platinum")
    )
    assert refusal(error) == (NotFound, "plan_not_found", "plan")


def test_c6_a_plan_priced_by_agreement_cannot_be_subscribed_as_it_is(
    presets: Database, clock: FixedClock
) -> None:
    add_account(presets, clock, "chain")
    error = refused_before_writing(
        presets, lambda conn: subscribe(conn, clock, account_id="chain", plan_code="enterprise")
    )
    assert refusal(error) == (InvalidInput, "plan_by_agreement", "plan")


@pytest.mark.parametrize(
    ("currency", "plan"), [("EUR", "reviews-basic"), ("USD", "monthly"), ("UAH", "monthly")]
)
def test_a1_a_plan_in_another_currency_is_refused(
    presets: Database, clock: FixedClock, currency: str, plan: str
) -> None:
    add_account(presets, clock, "shop", currency=currency)
    error = refused_before_writing(
        presets, lambda conn: subscribe(conn, clock, account_id="shop", plan_code=plan)
    )
    assert refusal(error) == (InvalidInput, "currency_mismatch", "plan")


def test_c3_locations_on_a_plan_not_sold_per_location_are_refused(
    presets: Database, clock: FixedClock
) -> None:
    add_account(presets, clock, "cafe")
    error = refused_before_writing(
        presets,
        lambda conn: subscribe(
            conn, clock, account_id="cafe", plan_code="card-scanner-free", quantity=2
        ),
    )
    assert refusal(error) == (InvalidInput, "quantity_not_supported", "quantity")


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        (0, "not_positive_integer"),
        (-3, "not_positive_integer"),
        (True, "not_positive_integer"),
        (MAX_QUANTITY + 1, "too_large"),
    ],
)
def test_c3_a_quantity_that_is_not_a_positive_count_is_refused(
    presets: Database, clock: FixedClock, quantity: int, code: str
) -> None:
    add_account(presets, clock, "chain")

    def call(conn: Connection) -> object:
        return subscribe(conn, clock, account_id="chain", plan_code="monthly", quantity=quantity)

    error = refused_before_writing(presets, call)
    assert refusal(error) == (InvalidInput, code, "quantity")


def test_a2_the_subscription_and_its_event_are_one_transaction(
    presets: Database, clock: FixedClock
) -> None:
    """A subscription rolled back with its entry point leaves neither the row nor the event."""
    add_account(presets, clock, "cafe")

    class Abort(Exception):
        pass

    def subscribe_then_fail() -> None:
        with presets.transaction() as conn:
            subscribe(conn, clock, account_id="cafe", plan_code="monthly")
            raise Abort

    with pytest.raises(Abort):
        subscribe_then_fail()
    assert live(presets, "cafe") == []
    assert events(presets, "subscription.updated") == []
    clock.advance(timedelta(days=1))
    sub(presets, clock, "cafe", "monthly")  # the line is free: nothing was left behind
    assert [s.started_on for s in live(presets, "cafe")] == [date(2026, 1, 6)]


def test_a5_a_contract_dated_after_a_pending_zone_change_starts_in_the_new_zone(
    presets: Database, clock: FixedClock
) -> None:
    """Bangkok → UTC asked on 20 January is in force from February; a contract dated
    1 March starts at midnight UTC, not at Bangkok's (still 28 February in UTC)."""
    add_account(presets, clock, "cafe", tz="Asia/Bangkok")
    clock.set(local("Asia/Bangkok", 2026, 1, 20, 12))
    run(presets, lambda conn: update_account(conn, clock, account_id="cafe", timezone="UTC"))
    run(
        presets,
        lambda conn: subscribe(
            conn, clock, account_id="cafe", plan_code="monthly", started_on=date(2026, 3, 1)
        ),
    )
    (row,) = live(presets, "cafe")
    assert row.starts_at == local("UTC", 2026, 3, 1)
