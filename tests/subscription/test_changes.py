"""A subscription's plan and quantity changes (B4, C3) as the subscription keeps them: what is
applied at once, what waits for the renewal, what a later request supersedes, and every
refusal (rolled back with the billing the change brought up to date first)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from sqlalchemy.engine import Connection

from allot.billing.changes import (
    change_plan,
    change_quantity,
    preview_change,
    preview_quantity_change,
)
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.invoice.run import bill_account
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription import repository as repo
from allot.subscription.repository import ChangeRow, LiveSubscription
from allot.subscription.service import subscribe
from tests.domains import (
    add_account,
    events,
    load_presets,
    read,
    refusal,
    refused,
    run,
    snapshot,
)
from tests.scenarios.world import local

KYIV = "Europe/Kyiv"
NY = "America/New_York"


@pytest.fixture
def presets(db: Database, clock: FixedClock) -> Database:
    load_presets(db, clock)
    return db


def start(
    db: Database,
    clock: FixedClock,
    account_id: str,
    plan: str,
    *,
    quantity: int = 1,
    tz: str = KYIV,
    currency: str = "EUR",
) -> LiveSubscription:
    """Subscribe on the clock's day and bill the first period."""
    add_account(db, clock, account_id, tz=tz, currency=currency)

    def go(conn: Connection) -> LiveSubscription:
        created = subscribe(conn, clock, account_id=account_id, plan_code=plan, quantity=quantity)
        bill_account(conn, clock, account_id=account_id)
        return created

    return run(db, go)


def only(db: Database, account_id: str) -> LiveSubscription:
    (found,) = read(db, lambda conn: repo.live(conn, account_id))
    return found


def changes(db: Database, subscription_id: int) -> list[ChangeRow]:
    return read(db, lambda conn: repo.changes(conn, subscription_id))


def plan_change(db: Database, clock: FixedClock, sub: LiveSubscription, plan: str) -> None:
    run(
        db,
        lambda conn: change_plan(
            conn, clock, account_id=sub.account_id, subscription_id=sub.id, plan_code=plan
        ),
    )


# --- B4: applied at once, or scheduled for the renewal ---------------------------------------


def test_b4_an_upgrade_moves_the_plan_at_once_and_records_an_applied_change(
    presets: Database, clock: FixedClock
) -> None:
    first = start(presets, clock, "cafe", "card-scanner-free")
    plan_change(presets, clock, first, "monthly")
    row = only(presets, "cafe")
    assert (row.plan.code, row.pending_plan_id) == ("monthly", None)
    (change,) = changes(presets, first.id)
    assert (change.from_plan_id, change.to_plan_id) == (first.plan_id, row.plan_id)
    assert (change.direction, change.state, change.effective_on) == (
        "upgrade",
        "applied",
        date(2026, 1, 5),
    )
    assert [e["change"] for e in events(presets, "subscription.updated")] == [
        "created",
        "upgrade",
    ]


def test_b4_a_downgrade_waits_for_the_renewal_and_keeps_the_plan_until_then(
    presets: Database, clock: FixedClock
) -> None:
    first = start(presets, clock, "cafe", "monthly")
    plan_change(presets, clock, first, "card-scanner-free")
    row = only(presets, "cafe")
    assert row.plan.code == "monthly"
    assert row.pending_plan_id is not None
    assert read(presets, lambda conn: repo.plan_of(conn, row.pending_plan_id or 0)).code == (
        "card-scanner-free"
    )
    (change,) = changes(presets, first.id)
    assert (change.direction, change.state, change.effective_on) == (
        "downgrade",
        "scheduled",
        date(2026, 2, 5),  # the renewal: the next charge's day
    )


def test_b4_a_later_request_supersedes_the_scheduled_one(
    presets: Database, clock: FixedClock
) -> None:
    """Monthly → free is scheduled; Monthly → Annual (a change of interval) also waits for the
    renewal, and replaces it."""
    first = start(presets, clock, "cafe", "monthly")
    plan_change(presets, clock, first, "card-scanner-free")
    plan_change(presets, clock, first, "annual")
    assert [(c.direction, c.state) for c in changes(presets, first.id)] == [
        ("downgrade", "superseded"),
        ("upgrade", "scheduled"),
    ]
    row = only(presets, "cafe")
    assert row.plan.code == "monthly"
    assert read(presets, lambda conn: repo.plan_of(conn, row.pending_plan_id or 0)).code == (
        "annual"
    )


def test_b4_an_upgrade_at_once_drops_a_scheduled_downgrade(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(NY, 2026, 5, 12, 9))
    first = start(presets, clock, "store", "loyalty-business", tz=NY, currency="USD")
    plan_change(presets, clock, first, "loyalty-premium")
    plan_change(presets, clock, first, "loyalty-professional")
    row = only(presets, "store")
    assert (row.plan.code, row.pending_plan_id) == ("loyalty-professional", None)
    assert [c.state for c in changes(presets, first.id)] == ["superseded", "applied"]


def test_b4_the_upgrade_charges_the_prorated_difference_for_the_days_left(
    presets: Database, clock: FixedClock
) -> None:
    """Loyalty Business ($179) from 12 May, upgraded to Professional ($479) on 20 May: 23 of
    the 31 days of [12 May, 12 June) are left, counting the day of the change."""
    clock.set(local(NY, 2026, 5, 12, 9))
    first = start(presets, clock, "store", "loyalty-business", tz=NY, currency="USD")
    clock.set(local(NY, 2026, 5, 20, 9))
    preview, invoice = run(
        presets,
        lambda conn: change_plan(
            conn,
            clock,
            account_id="store",
            subscription_id=first.id,
            plan_code="loyalty-professional",
        ),
    )
    exact = (Decimal(479) - Decimal(179)) * 23 / 31
    assert (preview.period, preview.days_left, preview.days_in_period) == (
        (date(2026, 5, 12), date(2026, 6, 12)),
        23,
        31,
    )
    assert abs(preview.charge.amount - exact) < Decimal("1e-25")  # exact until the invoice
    cents = exact.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert preview.charge_rounded.amount == cents
    assert invoice is not None
    assert invoice.total_minor == int(cents * 100)
    assert (invoice.kind, invoice.subscription_id) == ("proration", first.id)


def test_b4_the_preview_changes_nothing_and_is_what_the_change_then_does(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(NY, 2026, 5, 12, 9))
    first = start(presets, clock, "store", "loyalty-business", tz=NY, currency="USD")
    clock.set(local(NY, 2026, 6, 20, 9))  # the 12 June charge is not billed yet
    before = snapshot(presets)

    def preview(conn: Connection) -> object:
        return preview_change(
            conn,
            clock,
            account_id="store",
            subscription_id=first.id,
            plan_code="loyalty-professional",
        )

    shown = run(presets, preview)
    assert snapshot(presets) == before
    done, _ = run(
        presets,
        lambda conn: change_plan(
            conn,
            clock,
            account_id="store",
            subscription_id=first.id,
            plan_code="loyalty-professional",
        ),
    )
    assert shown == done
    assert done.period == (date(2026, 6, 12), date(2026, 7, 12))  # against the period just billed


def test_c3_b4_the_quantity_preview_changes_nothing_and_is_what_the_change_does(
    presets: Database, clock: FixedClock
) -> None:
    first = start(presets, clock, "chain", "monthly", quantity=2)
    before = snapshot(presets)
    shown = run(
        presets,
        lambda conn: preview_quantity_change(
            conn, clock, account_id="chain", subscription_id=first.id, quantity=1
        ),
    )
    assert snapshot(presets) == before
    done, invoice = run(
        presets,
        lambda conn: change_quantity(
            conn, clock, account_id="chain", subscription_id=first.id, quantity=1
        ),
    )
    assert shown == done
    assert invoice is None
    assert (done.direction, done.immediate, done.pending_quantity, done.pending_on) == (
        "decrease",
        False,
        1,
        date(2026, 2, 5),
    )


# --- refusals: nothing is left of the change, nor of the billing it ran first ----------------


def change_refusal(
    db: Database, clock: FixedClock, account_id: str, subscription_id: int, plan: str
) -> tuple[type, str, str | None]:
    return refusal(
        refused(
            db,
            lambda conn: change_plan(
                conn,
                clock,
                account_id=account_id,
                subscription_id=subscription_id,
                plan_code=plan,
            ),
        )
    )


def test_b4_changing_to_the_plan_in_force_is_refused(presets: Database, clock: FixedClock) -> None:
    first = start(presets, clock, "cafe", "monthly")
    assert change_refusal(presets, clock, "cafe", first.id, "monthly") == (
        Conflict,
        "same_plan",
        "plan",
    )


def test_c4_a_plan_of_another_ladder_is_refused(presets: Database, clock: FixedClock) -> None:
    first = start(presets, clock, "cafe", "monthly")
    assert change_refusal(presets, clock, "cafe", first.id, "reviews-basic") == (
        InvalidInput,
        "plan_not_on_line",
        "plan",
    )


def test_b4_an_unknown_plan_or_one_by_agreement_is_refused(
    presets: Database, clock: FixedClock
) -> None:
    first = start(presets, clock, "cafe", "monthly")
    assert change_refusal(presets, clock, "cafe", first.id, "platinum") == (
        NotFound,
        "plan_not_found",
        "plan",
    )
    assert change_refusal(presets, clock, "cafe", first.id, "enterprise") == (
        InvalidInput,
        "plan_by_agreement",
        "plan",
    )


def test_c3_a_plan_not_sold_per_location_cannot_take_three_locations(
    presets: Database, clock: FixedClock
) -> None:
    first = start(presets, clock, "chain", "monthly", quantity=3)
    assert change_refusal(presets, clock, "chain", first.id, "card-scanner-free") == (
        InvalidInput,
        "quantity_not_supported",
        "plan",
    )


def test_w4_another_accounts_subscription_is_not_found(
    presets: Database, clock: FixedClock
) -> None:
    theirs = start(presets, clock, "cafe", "card-scanner-free")
    start(presets, clock, "bakery", "card-scanner-free")
    assert change_refusal(presets, clock, "bakery", theirs.id, "monthly") == (
        NotFound,
        "subscription_not_found",
        "subscription_id",
    )
    error = refused(
        presets,
        lambda conn: change_quantity(
            conn, clock, account_id="bakery", subscription_id=theirs.id, quantity=1
        ),
    )
    assert refusal(error) == (NotFound, "subscription_not_found", "subscription_id")
    assert only(presets, "cafe").plan.code == "card-scanner-free"


def test_b4_a_refused_change_rolls_back_the_billing_it_brought_up_to_date(
    presets: Database, clock: FixedClock
) -> None:
    """The change bills what is due first (the 5 February renewal); refused, it bills nothing."""
    first = start(presets, clock, "cafe", "monthly")
    clock.set(local(KYIV, 2026, 2, 10, 9))
    assert change_refusal(presets, clock, "cafe", first.id, "monthly")[1] == "same_plan"
    assert only(presets, "cafe").billed_months == 1


@pytest.mark.parametrize(
    ("quantity", "code"),
    [(2, "quantity_not_supported"), (0, "not_positive_integer"), (100_001, "too_large")],
)
def test_c3_a_quantity_the_free_plan_cannot_take_is_refused(
    presets: Database, clock: FixedClock, quantity: int, code: str
) -> None:
    first = start(presets, clock, "cafe", "card-scanner-free")
    error = refused(
        presets,
        lambda conn: change_quantity(
            conn, clock, account_id="cafe", subscription_id=first.id, quantity=quantity
        ),
    )
    assert refusal(error) == (InvalidInput, code, "quantity")


def test_c3_no_more_locations_than_the_plan_waiting_for_the_renewal_sells(
    presets: Database, clock: FixedClock
) -> None:
    first = start(presets, clock, "chain", "monthly")
    plan_change(presets, clock, first, "card-scanner-free")
    error = refused(
        presets,
        lambda conn: change_quantity(
            conn, clock, account_id="chain", subscription_id=first.id, quantity=2
        ),
    )
    assert refusal(error) == (InvalidInput, "quantity_not_supported", "quantity")
    assert "renewal" in error.message
