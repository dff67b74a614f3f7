"""Access Codes, month by month (K1-K8, U2, U4, U6; seeds 000-002)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from allot.code.service import (
    assign_code,
    claim_code,
    issue_code,
    pause_code,
    revoke_code,
)
from allot.core.codes import display
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.grant.repository import GrantRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.partner.service import enroll_partner
from tests.scenarios.world import World, local, sources


@pytest.fixture
def world(db: Database) -> World:
    w = World(db, FixedClock(local("Europe/Kyiv", 2026, 3, 2, 9)))
    with w.db.transaction() as conn:
        enroll_partner(
            conn,
            w.clock,
            partner_id="brew",
            name="Brew Consultants",
            kind="restaurant_consultant",
            contact="hello@brew.example",
            currency="EUR",
            wholesale_discount=Decimal("0.30"),
            prices={"staff_seats": Decimal("5"), "card_operations": Decimal("0.02")},
        )
    return w


def issue(world: World, allowances: dict[str, int], **kw: object) -> GrantRow:
    with world.db.transaction() as conn:
        return issue_code(conn, world.clock, partner_id="brew", allowances=allowances, **kw)  # type: ignore[arg-type]


def claim(world: World, account_id: str, code: str) -> GrantRow:
    with world.db.transaction() as conn:
        return claim_code(conn, world.clock, account_id=account_id, code=code)


def test_K7_the_seeds_page_code_1_claimed_with_0_of_36_seats_and_0_of_18_operations(
    world: World,
) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    code = issue(world, {"staff_seats": 36, "card_operations": 18})
    assert code.label == "Code #1"
    claim(world, cafe, display(code.code or "").lower())  # typed in lower case, with dashes

    (shown,) = world.page(cafe).grants
    assert f"{shown.label} — {'Paused' if shown.paused else 'Claimed'}" == "Code #1 — Claimed"
    assert [(r.name, r.used, r.available) for r in shown.resources] == [
        ("Card operations", 0, 18),
        ("Staff seats", 0, 36),
    ]


def test_U6_seed_002_a_paid_plan_beside_a_code_of_36_seats_bills_the_37th(world: World) -> None:
    shop = world.business("shop", plan="monthly")
    claim(world, shop, issue(world, {"staff_seats": 36}).code or "")
    takes = [world.take(shop, f"staff-{n}") for n in range(1, 39)]
    assert all(sources(t) == [("grant", 1)] for t in takes[:36])
    assert sources(takes[36]) == [("plan", 1)]  # the plan's included seat
    assert sources(takes[37]) == [("overage", 1)]  # billed as an extra seat


def test_U4_a_free_plan_beside_a_code_code_then_allowance_then_prompt(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    claim(world, cafe, issue(world, {"card_operations": 18}).code or "")
    assert sources(world.consume(cafe, quantity=18)) == [("grant", 18)]
    assert sources(world.consume(cafe, quantity=100)) == [("plan", 100)]
    past = world.consume(cafe)
    assert sources(past) == [("free_overage", 1)]
    assert past.prompt == ("activate_code", "upgrade_plan", "reduce_usage")


def test_K5_a_code_paused_mid_month_then_resumed(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    claim(world, cafe, issue(world, {"card_operations": 18}).code or "")
    world.consume(cafe, quantity=5)
    with world.db.transaction() as conn:
        pause_code(conn, world.clock, partner_id="brew", number=1, paused=True)
    assert sources(world.consume(cafe, quantity=2)) == [("plan", 2)]
    assert world.page(cafe).grants[0].paused
    with world.db.transaction() as conn:
        pause_code(conn, world.clock, partner_id="brew", number=1, paused=False)
    assert sources(world.consume(cafe, quantity=2)) == [("grant", 2)]
    assert world.page(cafe).grants[0].resources[0].used == 7  # what it paid for stayed


def test_K5_revoke_is_refused_once_the_code_was_used(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    unused = issue(world, {"card_operations": 18})
    used = issue(world, {"card_operations": 18})
    claim(world, cafe, unused.code or "")
    claim(world, cafe, used.code or "")
    world.consume(cafe, quantity=20)  # draws on both codes (same term: oldest claimed first)
    with world.db.transaction() as conn, pytest.raises(Conflict) as err:
        revoke_code(conn, world.clock, partner_id="brew", number=2)
    assert err.value.code == "code_in_use"
    never = issue(world, {"card_operations": 5})
    claim(world, cafe, never.code or "")
    with world.db.transaction() as conn:
        revoked = revoke_code(conn, world.clock, partner_id="brew", number=3)
    assert revoked.revoked_at is not None
    assert [g.label for g in world.page(cafe).grants] == ["Code #1", "Code #2"]


def test_K3_a_fixed_term_code_ends_mid_month(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    claim(
        world,
        cafe,
        issue(world, {"card_operations": 50}, ends_at=local("Europe/Kyiv", 2026, 3, 15)).code or "",
    )
    assert sources(world.consume(cafe)) == [("grant", 1)]
    world.clock.set(local("Europe/Kyiv", 2026, 3, 15, 0, 1))
    assert sources(world.consume(cafe)) == [("plan", 1)]
    assert world.page(cafe).grants == ()  # an ended code leaves the page


def test_U2_of_two_codes_the_one_expiring_first_is_drawn_first(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    lifetime = issue(world, {"card_operations": 3})
    claim(world, cafe, lifetime.code or "")
    world.clock.advance(timedelta(hours=1))
    term = issue(world, {"card_operations": 3}, ends_at=local("Europe/Kyiv", 2026, 6, 1))
    claim(world, cafe, term.code or "")
    drawn = [world.consume(cafe).draws[0].source for _ in range(7)]
    assert drawn == [term.source] * 3 + [lifetime.source] * 3 + ["plan:1"]


def test_K4_three_months_reset_with_no_rollover_and_no_carried_shortfall(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free", started_on=date(2026, 3, 1))
    claim(world, cafe, issue(world, {"card_operations": 18}).code or "")
    for month, use in ((3, 5), (4, 30), (5, 0)):
        world.clock.set(local("Europe/Kyiv", 2026, month, 10, 9))
        if use:
            world.consume(cafe, quantity=use)
        code = world.page(cafe).grants[0].resources[0]
        assert (code.used, code.available) == (min(use, 18), 18)
        ops = next(m for m in world.page(cafe).metrics if m.metric == "card_operations")
        assert ops.used == max(use - 18, 0)  # April's 12 past the code; nothing carried


def test_K2_a_code_is_claimed_once_by_one_business(world: World) -> None:
    a = world.business("a", plan="card-scanner-free")
    b = world.business("b", plan="card-scanner-free")
    code = issue(world, {"card_operations": 18})
    claim(world, a, code.code or "")
    with pytest.raises(NotFound) as again:
        claim(world, b, code.code or "")
    with pytest.raises(NotFound) as unknown:
        claim(world, b, "0000-0000-0000-0000-0")
    assert (again.value.code, again.value.message) == (unknown.value.code, unknown.value.message)


def test_K2_a_typo_is_caught_by_the_check_symbol(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    code = issue(world, {"card_operations": 18}).code or ""
    typo = ("1" if code[3] != "1" else "2").join([code[:3], code[4:]])
    with pytest.raises(InvalidInput) as err:
        claim(world, cafe, typo)
    assert (err.value.code, err.value.field) == ("invalid_code_format", "code")


def test_K2_the_partner_assigns_a_code_directly(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    issue(world, {"card_operations": 18})
    with world.db.transaction() as conn:
        assigned = assign_code(conn, world.clock, partner_id="brew", number=1, account_id=cafe)
    assert assigned.account_id == cafe
    with world.db.transaction() as conn, pytest.raises(Conflict):
        assign_code(conn, world.clock, partner_id="brew", number=1, account_id=cafe)


def test_K8_the_partners_month_use_per_code_and_its_wholesale_charges(world: World) -> None:
    from allot.core.money import Money
    from allot.core.periods import Month
    from allot.partner.reporting import partner_month
    from allot.partner.repository import charges

    cafe = world.business("cafe", plan="card-scanner-free")
    claim(world, cafe, issue(world, {"staff_seats": 36, "card_operations": 18}).code or "")
    issue(world, {"staff_seats": 5})  # never claimed: not billed
    world.consume(cafe, quantity=7)
    world.take(cafe, "owner")
    world.take(cafe, "barista")

    with world.db.transaction() as conn:
        report = partner_month(conn, world.clock, partner_id="brew", month=Month(2026, 3))
    first, second = report.codes
    assert (first.label, first.account_id, first.billed) == ("Code #1", "cafe", True)
    assert [(r.metric, r.used, r.available) for r in first.resources] == [
        ("card_operations", 7, 18),
        ("staff_seats", 2, 36),
    ]
    assert second.billed is False
    # 36 seats x 5 x 0.7 + 18 operations x 0.02 x 0.7 = 126 + 0.252
    assert report.total == Money.of("126.252", "EUR")
    assert report.total_rounded == Money.of("126.25", "EUR")
    with world.db.transaction() as conn:
        again = partner_month(conn, world.clock, partner_id="brew", month=Month(2026, 3))
        stored = charges(conn, "brew", "2026-03")
    assert again.total == report.total
    assert sorted((r.metric, r.amount) for r in stored) == [
        ("card_operations", Decimal("0.252")),
        ("staff_seats", Decimal("126.0")),
    ]
    with world.db.transaction() as conn:
        february = partner_month(conn, world.clock, partner_id="brew", month=Month(2026, 2))
    assert february.total == Money.zero("EUR")  # claimed in March
