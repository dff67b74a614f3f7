"""Quantity changes on a fixed clock (C3, B4, B6): stamp-card, €29 / €290 per location.

An increase is in force at once and its prorated difference is invoiced at
once; a decrease waits for the renewal, and the allowances (1,000 card
operations per location and month, an EXAMPLE figure of the preset) follow the
quantity in force at each instant.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from allot.account import repository as account_repo
from allot.core.errors import InvalidInput
from allot.core.money import Money
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription import repository as sub_repo
from allot.subscription.models import subscription_quantity_changes
from allot.webhook.models import webhook_events
from tests.scenarios.world import World, local, sources

KYIV = "Europe/Kyiv"
OPS = "card_operations"


@pytest.fixture
def world(db: Database) -> World:
    return World(db, FixedClock(local(KYIV, 2026, 1, 1, 9)))


def included(world: World, account_id: str, metric: str = OPS) -> int:
    return next(m.included for m in world.page(account_id).metrics if m.metric == metric)


def totals(world: World, account_id: str, kind: str) -> list[tuple[date, int]]:
    return [(i.issued_on, i.total_minor) for i in world.invoices(account_id, kind)]


def changes(world: World) -> list[tuple[int, int, str, str, date]]:
    c = subscription_quantity_changes.c
    with world.db.read() as conn:
        rows = conn.execute(
            sa.select(
                c.from_quantity, c.to_quantity, c.direction, c.state, c.effective_on
            ).order_by(c.id)
        )
        return [tuple(r) for r in rows]


def updates(world: World) -> list[dict[str, Any]]:
    with world.db.read() as conn:
        rows = conn.execute(
            sa.select(webhook_events.c.payload)
            .where(webhook_events.c.type == "subscription.updated")
            .order_by(webhook_events.c.id)
        )
        return [dict(r.payload) for r in rows]


def revision(world: World, account_id: str) -> int:
    with world.db.read() as conn:
        found = account_repo.get(conn, account_id)
    assert found is not None
    return found.revision


def test_C3_B4_monthly_raised_on_17_january_then_lowered_on_10_february(world: World) -> None:
    """Monthly from 1 January with 1 location; 3 from 17 January: 2 × €29 × 15/31 = €28.06 at
    once and €87.00 on 1 February; 2 asked on 10 February: still 3 (and allowances of 3)
    until 1 March, then €58.00."""
    cafe = world.business("cafe", plan="monthly")
    world.bill()
    assert totals(world, cafe, "subscription") == [(date(2026, 1, 1), 2900)]
    assert included(world, cafe) == 1000

    world.at(KYIV, 2026, 1, 17, 10)
    preview, _ = world.quantity(cafe, 3, preview=True)
    assert (preview.direction, preview.immediate, preview.changes) == ("increase", True, True)
    assert (preview.from_quantity, preview.to_quantity) == (1, 3)
    assert preview.period == (date(2026, 1, 1), date(2026, 2, 1))
    assert (preview.days_left, preview.days_in_period) == (15, 31)
    assert preview.charge == Money.of(2 * 29, "EUR") * 15 / 31
    assert preview.charge_rounded == Money.of("28.06", "EUR")
    # a preview changes nothing
    assert world.subscription(cafe).quantity == 1
    assert included(world, cafe) == 1000
    assert world.invoices(cafe, "proration") == []

    done, invoice = world.quantity(cafe, 3)
    assert done == preview  # the preview is the charge
    assert invoice is not None
    assert (invoice.kind, invoice.issued_on, invoice.total_minor) == (
        "proration",
        date(2026, 1, 17),
        2806,
    )
    (line,) = invoice.lines
    assert line.charge.amount == preview.charge.amount  # exact beside the rounded 28.06
    assert (invoice.period_start, invoice.period_end) == (date(2026, 1, 17), date(2026, 2, 1))
    assert world.subscription(cafe).quantity == 3
    assert included(world, cafe) == 3000  # at once
    january = world.consume(cafe, OPS, 2500)
    assert sources(january) == [("plan", 2500)]

    world.at(KYIV, 2026, 2, 1, 9)
    world.bill()
    assert totals(world, cafe, "subscription")[-1] == (date(2026, 2, 1), 8700)

    world.at(KYIV, 2026, 2, 10, 12)
    lower, invoice = world.quantity(cafe, 2)
    assert invoice is None
    assert (lower.direction, lower.immediate, lower.effective_on) == (
        "decrease",
        False,
        date(2026, 3, 1),
    )
    assert (lower.pending_quantity, lower.pending_on, lower.charge.amount) == (
        2,
        date(2026, 3, 1),
        Decimal(0),
    )
    sub = world.subscription(cafe)
    assert (sub.quantity, sub.pending_quantity, sub.pending_quantity_on) == (3, 2, date(2026, 3, 1))
    plan_line = world.page(cafe).plans[0]
    assert (plan_line.quantity, plan_line.pending_quantity, plan_line.pending_quantity_on) == (
        3,
        2,
        "2026-03-01",
    )
    assert included(world, cafe) == 3000  # until the renewal
    world.clock.set(local(KYIV, 2026, 2, 28, 23, 30))
    february = world.consume(cafe, OPS, 2500)
    assert sources(february) == [("plan", 2500)]  # 2,500 > 2 × 1,000: 3 locations still

    world.clock.set(local(KYIV, 2026, 3, 1, 0, 30))
    # the renewal's first instant: 2 locations are in force, though the run has not applied it
    assert included(world, cafe) == 2000
    world.bill()
    assert totals(world, cafe, "subscription")[-1] == (date(2026, 3, 1), 5800)
    sub = world.subscription(cafe)
    assert (sub.quantity, sub.pending_quantity, sub.pending_quantity_on) == (2, None, None)
    march = world.consume(cafe, OPS, 2001)
    assert sources(march) == [("plan", 2000), ("overage", 1)]

    world.at(KYIV, 2026, 3, 8, 9)
    world.bill()
    # no overage in January (3,000 from the 17th) nor February (3,000 until 1 March)
    assert totals(world, cafe, "usage") == []
    assert totals(world, cafe, "subscription") == [
        (date(2026, 1, 1), 2900),
        (date(2026, 2, 1), 8700),
        (date(2026, 3, 1), 5800),
    ]
    assert changes(world) == [
        (1, 3, "increase", "applied", date(2026, 1, 17)),
        (3, 2, "decrease", "applied", date(2026, 3, 1)),
    ]
    assert [
        (u["quantity"], u["pending_quantity"], u["pending_quantity_on"]) for u in updates(world)
    ] == [(1, None, None), (3, None, None), (3, 2, "2026-03-01")]
    world.assert_ledger_proves_counters()


def test_C3_B4_annual_raised_mid_year_then_lowered_at_the_anniversary(world: World) -> None:
    """Annual €290 per location from 18 January 2026 with 2; 3 from 18 July: €290 × 184/365
    = €146.19 at once; 1 asked on 1 September: 3 until 18 January 2027, then €290.00."""
    world.at(KYIV, 2026, 1, 18, 9)
    cafe = world.business("cafe", plan="annual", quantity=2)
    world.bill()
    world.at(KYIV, 2026, 7, 18, 11)
    preview, _ = world.quantity(cafe, 3, preview=True)
    done, invoice = world.quantity(cafe, 3)
    assert done == preview
    assert preview.period == (date(2026, 1, 18), date(2027, 1, 18))
    assert (preview.days_left, preview.days_in_period) == (184, 365)
    assert invoice is not None
    assert (invoice.issued_on, invoice.total_minor) == (date(2026, 7, 18), 14619)
    assert included(world, cafe) == 3000  # the allowances are monthly, × 3 from now

    world.at(KYIV, 2026, 9, 1, 9)
    lower, invoice = world.quantity(cafe, 1)
    assert (lower.direction, lower.effective_on, invoice) == ("decrease", date(2027, 1, 18), None)
    world.at(KYIV, 2026, 12, 20, 9)
    world.bill()
    assert included(world, cafe) == 3000
    assert world.subscription(cafe).quantity == 3

    world.at(KYIV, 2027, 1, 18, 9)
    world.bill()
    assert totals(world, cafe, "subscription") == [
        (date(2026, 1, 18), 58000),
        (date(2027, 1, 18), 29000),
    ]
    assert totals(world, cafe, "proration") == [(date(2026, 7, 18), 14619)]
    assert world.subscription(cafe).quantity == 1
    assert included(world, cafe) == 1000


def test_B6_the_run_applies_a_scheduled_decrease_exactly_once(world: World) -> None:
    cafe = world.business("cafe", plan="monthly", quantity=3)
    world.bill()
    world.at(KYIV, 2026, 1, 20, 9)
    world.quantity(cafe, 1)
    before = revision(world, cafe)
    world.at(KYIV, 2026, 2, 1, 9)
    first = world.bill()
    assert [(i.kind, i.total_minor) for i in first.invoices] == [("subscription", 2900)]
    after = revision(world, cafe)
    assert after != before  # the account's sources changed: the fast path relearns
    again = world.bill()
    assert again.invoices == []
    assert revision(world, cafe) == after  # nothing applied twice
    assert world.subscription(cafe).quantity == 1
    assert [c[3] for c in changes(world)] == ["applied"]
    world.at(KYIV, 2026, 3, 1, 9)
    world.bill()
    assert totals(world, cafe, "subscription")[-1] == (date(2026, 3, 1), 2900)


def test_C3_a_scheduled_decrease_counts_from_the_renewal_instant_mid_month(world: World) -> None:
    """Started on the 21st: the decrease is in force from 21 February 00:00 in Kyiv, inside the
    calendar month, before the run applies it and after the fast path learned a route; a late
    action dated before it still counts against the quantity in force then."""
    world.at(KYIV, 2026, 1, 21, 9)
    cafe = world.business("cafe", plan="monthly", quantity=3)
    world.bill()
    world.at(KYIV, 2026, 2, 5, 9)
    world.quantity(cafe, 1)
    world.at(KYIV, 2026, 2, 20, 22)
    assert sources(world.consume(cafe, OPS, 1200)) == [("plan", 1200)]
    assert sources(world.consume(cafe, OPS, 1)) == [("plan", 1)]  # learned: the plan pays

    world.clock.set(local(KYIV, 2026, 2, 21, 0, 1))
    assert sources(world.consume(cafe, OPS, 1)) == [("overage", 1)]  # 1,201 > 1 × 1,000
    assert world.subscription(cafe).quantity == 3  # not applied yet: the instant decides

    world.bill()
    assert totals(world, cafe, "subscription")[-1] == (date(2026, 2, 21), 2900)
    world.at(KYIV, 2026, 2, 22, 9)
    late = world.consume(cafe, OPS, 5, at=local(KYIV, 2026, 2, 20, 23))
    assert sources(late) == [("plan", 5)]  # 3 locations were in force on 20 February
    assert sources(world.consume(cafe, OPS, 1)) == [("overage", 1)]
    world.assert_ledger_proves_counters()


def test_B4_a_second_request_replaces_or_cancels_the_scheduled_decrease(world: World) -> None:
    cafe = world.business("cafe", plan="monthly", quantity=3)
    world.bill()
    world.at(KYIV, 2026, 1, 10, 9)
    world.quantity(cafe, 2)
    replaced, _ = world.quantity(cafe, 1)  # a lower one replaces it, for the same renewal
    assert (replaced.replaced_pending, replaced.pending_quantity, replaced.pending_on) == (
        2,
        1,
        date(2026, 2, 1),
    )
    kept, invoice = world.quantity(cafe, 3)  # the quantity in force cancels it
    assert (kept.direction, kept.changes, kept.replaced_pending, invoice) == ("none", True, 1, None)
    sub = world.subscription(cafe)
    assert (sub.quantity, sub.pending_quantity) == (3, None)

    world.quantity(cafe, 2)
    world.at(KYIV, 2026, 1, 22, 9)
    raised, invoice = world.quantity(cafe, 4)  # an increase from 3, and no decrease after it
    assert (raised.direction, raised.from_quantity, raised.replaced_pending) == ("increase", 3, 2)
    assert (raised.days_left, raised.days_in_period) == (10, 31)
    assert invoice is not None
    assert invoice.total_minor == 935  # €29 × 10/31 = €9.354… → €9.35
    assert world.subscription(cafe).pending_quantity is None
    assert [(c[1], c[3]) for c in changes(world)] == [
        (2, "superseded"),
        (1, "superseded"),
        (2, "superseded"),
        (4, "applied"),
    ]
    world.at(KYIV, 2026, 2, 1, 9)
    world.bill()
    assert totals(world, cafe, "subscription")[-1] == (date(2026, 2, 1), 4 * 2900)


def test_B4_asking_for_what_the_subscription_already_does_changes_nothing(world: World) -> None:
    cafe = world.business("cafe", plan="monthly", quantity=2)
    world.bill()
    world.at(KYIV, 2026, 1, 12, 9)
    before = (revision(world, cafe), len(updates(world)))
    same, invoice = world.quantity(cafe, 2)
    assert (same.direction, same.changes, same.charge.amount, invoice) == (
        "none",
        False,
        Decimal(0),
        None,
    )
    assert (revision(world, cafe), len(updates(world))) == before
    _, first = world.quantity(cafe, 3)
    again, second = world.quantity(cafe, 3)  # a retry without a key: already done
    assert first is not None
    assert (again.changes, second) == (False, None)
    world.quantity(cafe, 1)
    repeat, _ = world.quantity(cafe, 1)  # the same decrease is already scheduled
    assert (repeat.changes, repeat.pending_quantity, repeat.replaced_pending) == (False, 1, None)
    assert len(world.invoices(cafe, "proration")) == 1
    assert len(changes(world)) == 2


@pytest.mark.parametrize(
    ("plan", "quantity", "code"),
    [
        ("monthly", 0, "not_positive_integer"),
        ("monthly", -2, "not_positive_integer"),
        ("monthly", 100_001, "too_large"),
        ("card-scanner-free", 2, "quantity_not_supported"),
    ],
)
def test_C3_invalid_quantities_are_refused_by_name(
    world: World, plan: str, quantity: int, code: str
) -> None:
    cafe = world.business("cafe", plan=plan)
    for preview in (True, False):
        with pytest.raises(InvalidInput) as err:
            world.quantity(cafe, quantity, preview=preview)
        assert (err.value.code, err.value.field) == (code, "quantity")
    assert world.subscription(cafe).quantity == 1
    assert changes(world) == []


def test_C3_no_more_locations_than_the_plan_from_the_renewal_sells(world: World) -> None:
    cafe = world.business("cafe", plan="monthly")
    world.bill()
    world.change(cafe, "card-scanner-free")  # a downgrade, at the renewal
    with pytest.raises(InvalidInput) as err:
        world.quantity(cafe, 2)
    assert (err.value.code, err.value.field) == ("quantity_not_supported", "quantity")


def test_C3_an_increase_before_the_first_charge_is_billed_on_it(world: World) -> None:
    """Starting on 1 February: nothing is paid yet, so nothing is prorated; the first
    invoice charges the quantity in force."""
    cafe = world.business("cafe", plan="monthly", started_on=date(2026, 2, 1))
    raised, invoice = world.quantity(cafe, 2)
    assert (raised.direction, raised.period, invoice) == ("increase", None, None)
    lower, _ = world.quantity(cafe, 1)
    assert lower.effective_on == date(2026, 2, 1)
    world.at(KYIV, 2026, 2, 1, 9)
    world.bill()
    assert totals(world, cafe, "subscription") == [(date(2026, 2, 1), 2900)]
    with world.db.read() as conn:
        assert sub_repo.live(conn, cafe)[0].quantity == 1
