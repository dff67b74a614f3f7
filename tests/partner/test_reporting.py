"""A partner's month (K8, W3): each code's use by its business, and what the partner owes for the
codes live in the month at its wholesale terms — every resource of the package x its price x
(1 - the discount), exact until the invoice rounds it. Months are UTC calendar months."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from allot.code.service import claim_code, issue_code, pause_code, revoke_code
from allot.core.errors import NotFound
from allot.core.periods import Month
from allot.grant import repository as grant_repo
from allot.grant.repository import GrantRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.partner import repository as repo
from allot.partner.models import partner_charges
from allot.partner.reporting import CodeMonth, PartnerMonth, partner_month
from allot.subscription.service import subscribe
from allot.usage.service import consume, release_seat, take_seat
from tests.domains import (
    add_account,
    add_partner,
    count,
    read,
    refusal,
    refused_before_writing,
    run,
    snapshot,
)
from tests.factories import load

MARCH = Month(2026, 3)
SEAT_PRICE, OPERATION_PRICE, KEEP = Decimal(5), Decimal("0.02"), Decimal("0.70")


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: FixedClock) -> Database:
    """Brew (30 % off €5 a seat and €0.02 an operation), POS, and a café on the free plan."""
    clock.set(utc(2, 1, 9))
    load(db, clock)
    add_partner(db, clock, "brew")
    add_partner(db, clock, "pos")
    add_account(db, clock, "cafe")
    run(db, lambda conn: subscribe(conn, clock, account_id="cafe", plan_code="free"))
    return db


def issue(
    db: Database,
    clock: FixedClock,
    allowances: Mapping[str, int] | None = None,
    partner: str = "brew",
    **kw: datetime,
) -> GrantRow:
    return run(
        db,
        lambda conn: issue_code(
            conn,
            clock,
            partner_id=partner,
            allowances=allowances or {"staff_seats": 36, "card_operations": 18},
            **kw,
        ),
    )


def claim(db: Database, clock: FixedClock, code: GrantRow, at: datetime) -> GrantRow:
    clock.set(at)
    return run(db, lambda conn: claim_code(conn, clock, account_id="cafe", code=code.code or ""))


def month(
    db: Database, clock: FixedClock, which: Month = MARCH, *, partner: str = "brew"
) -> PartnerMonth:
    return run(db, lambda conn: partner_month(conn, clock, partner_id=partner, month=which))


def billed(report: PartnerMonth) -> list[tuple[int, bool]]:
    return [(c.number, c.billed) for c in report.codes]


def test_k8_36_seats_and_18_operations_at_30_percent_off(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, issue(world, clock), utc(3, 2, 10))
    report = month(world, clock)
    (code,) = report.codes
    seats = 36 * SEAT_PRICE * KEEP
    operations = 18 * OPERATION_PRICE * KEEP
    assert [(r.metric, r.available, r.unit_price, r.amount) for r in code.resources] == [
        ("card_operations", 18, OPERATION_PRICE, operations),
        ("staff_seats", 36, SEAT_PRICE, seats),
    ]
    assert (report.currency, report.discount, report.month) == ("EUR", Decimal("0.30"), "2026-03")
    assert report.total.amount == seats + operations == Decimal("126.252")
    assert report.total_rounded.amount == Decimal("126.25")
    with world.read() as conn:
        stored = [
            (r.grant_id, r.metric, r.quantity, r.unit_price, r.discount, r.amount)
            for r in repo.charges(conn, "brew", "2026-03")
        ]
    assert stored == [
        (code_id(world, 1), "card_operations", 18, OPERATION_PRICE, Decimal("0.30"), operations),
        (code_id(world, 1), "staff_seats", 36, SEAT_PRICE, Decimal("0.30"), seats),
    ]


def code_id(db: Database, number: int) -> int:
    found = read(db, lambda conn: grant_repo.by_number(conn, "brew", number))
    assert found is not None
    return found.id


def test_k7_w3_used_counts_the_months_operations_and_everyone_who_held_a_seat(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, issue(world, clock), utc(3, 2, 10))
    keys = iter(range(100))

    def act(conn: Connection, kind: str, holder: str = "") -> object:
        key = f"k{next(keys)}"
        if kind == "consume":
            return consume(
                conn,
                clock,
                account_id="cafe",
                metric="card_operations",
                quantity=5,
                idempotency_key=key,
            )
        action = take_seat if kind == "take" else release_seat
        return action(
            conn, clock, account_id="cafe", metric="staff_seats", holder=holder, idempotency_key=key
        )

    clock.set(utc(3, 10, 9))
    run(world, lambda conn: act(conn, "consume"))
    run(world, lambda conn: act(conn, "take", "ann"))
    run(world, lambda conn: act(conn, "take", "bob"))
    run(world, lambda conn: act(conn, "release", "bob"))
    clock.set(utc(4, 2, 9))
    march, april = month(world, clock), month(world, clock, Month(2026, 4))

    def used(code: CodeMonth) -> dict[str, int]:
        return {r.metric: r.used for r in code.resources}

    assert used(march.codes[0]) == {"card_operations": 5, "staff_seats": 2}
    assert used(april.codes[0]) == {"card_operations": 0, "staff_seats": 1}  # ann still holds one


def test_k8_an_unclaimed_code_is_listed_and_not_billed(world: Database, clock: FixedClock) -> None:
    issue(world, clock)
    report = month(world, clock)
    (code,) = report.codes
    assert (code.number, code.label, code.account_id, code.billed) == (1, "Code #1", None, False)
    assert {(r.used, r.amount) for r in code.resources} == {(0, Decimal(0))}
    assert report.total.amount == 0
    assert read(world, lambda conn: repo.charges(conn, "brew", "2026-03")) == []


def test_k8_a_paused_code_is_billed_the_partner_holds_its_resources(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, issue(world, clock), utc(2, 20))
    run(world, lambda conn: pause_code(conn, clock, partner_id="brew", number=1, paused=True))
    assert billed(month(world, clock)) == [(1, True)]


def test_k8_a_code_claimed_in_the_last_minute_of_february_utc_is_billed_for_february(
    world: Database, clock: FixedClock
) -> None:
    """23:30 UTC on 28 February is already 1 March in Kyiv: partner months are UTC."""
    claim(world, clock, issue(world, clock), utc(2, 28, 23, 30))
    assert billed(month(world, clock, Month(2026, 2))) == [(1, True)]
    assert billed(month(world, clock, Month(2026, 1))) == [(1, False)]


def test_k3_k8_a_fixed_term_is_billed_for_the_months_it_overlaps(
    world: Database, clock: FixedClock
) -> None:
    ends_at_march = issue(world, clock, ends_at=utc(3, 1))  # Code #1: over as March begins
    ends_mid_march = issue(world, clock, ends_at=utc(3, 15))  # Code #2
    starts_april = issue(world, clock, starts_at=utc(4, 1), ends_at=utc(5, 1))  # Code #3
    for code in (ends_at_march, ends_mid_march, starts_april):
        claim(world, clock, code, utc(2, 10))
    assert billed(month(world, clock, Month(2026, 2))) == [(1, True), (2, True), (3, False)]
    assert billed(month(world, clock)) == [(1, False), (2, True), (3, False)]
    assert billed(month(world, clock, Month(2026, 4))) == [(1, False), (2, False), (3, True)]


def test_k5_k8_a_code_revoked_before_the_month_is_not_billed(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, issue(world, clock), utc(2, 2))
    clock.set(utc(2, 20))
    run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1))
    assert billed(month(world, clock)) == [(1, False)]


def test_k8_a_code_revoked_mid_month_was_live_in_that_month(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, issue(world, clock), utc(3, 2))
    clock.set(utc(3, 20))
    run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1))
    assert billed(month(world, clock)) == [(1, True)]


def test_k8_a_resource_without_a_price_is_billed_at_nothing(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, issue(world, clock, {"orders": 50, "staff_seats": 1}), utc(3, 1))
    (code,) = month(world, clock).codes
    assert [(r.metric, r.unit_price, r.amount) for r in code.resources] == [
        ("orders", Decimal(0), Decimal(0)),
        ("staff_seats", SEAT_PRICE, SEAT_PRICE * KEEP),
    ]


def test_k8_recomputing_a_month_replaces_its_charges(world: Database, clock: FixedClock) -> None:
    claim(world, clock, issue(world, clock), utc(3, 2))
    month(world, clock)
    month(world, clock)
    assert count(world, partner_charges) == 2
    claim(world, clock, issue(world, clock, {"staff_seats": 1}), utc(3, 3))
    report = month(world, clock)
    assert count(world, partner_charges) == 3
    assert report.total.amount == (37 * SEAT_PRICE + 18 * OPERATION_PRICE) * KEEP


def test_w3_the_report_alone_writes_nothing(world: Database, clock: FixedClock) -> None:
    claim(world, clock, issue(world, clock), utc(3, 2))
    before = snapshot(world)
    report = run(
        world,
        lambda conn: partner_month(conn, clock, partner_id="brew", month=MARCH, store=False),
    )
    assert report.total.amount > 0
    assert snapshot(world) == before


def test_w3_a_partner_sees_its_own_codes_only(world: Database, clock: FixedClock) -> None:
    claim(world, clock, issue(world, clock, partner="pos"), utc(3, 2))
    assert month(world, clock).codes == ()
    assert month(world, clock, partner="pos").total.amount > 0
    assert read(world, lambda conn: repo.charges(conn, "brew", "2026-03")) == []


def test_w3_the_month_of_an_unknown_partner_is_not_found(
    world: Database, clock: FixedClock
) -> None:
    error = refused_before_writing(
        world, lambda conn: partner_month(conn, clock, partner_id="ghost", month=MARCH)
    )
    assert refusal(error) == (NotFound, "partner_not_found", "partner_id")


def test_k8_the_codes_month_is_exact_however_many_codes(world: Database, clock: FixedClock) -> None:
    """Seven codes of one operation each at €0.02 x 0.7: €0.098, kept exact (not 7 x €0.01)."""
    for _ in range(7):
        claim(world, clock, issue(world, clock, {"card_operations": 1}), utc(3, 2))
        clock.advance(timedelta(minutes=1))
    report = month(world, clock)
    assert report.total.amount == 7 * OPERATION_PRICE * KEEP == Decimal("0.098")
    assert report.total_rounded.amount == Decimal("0.10")
