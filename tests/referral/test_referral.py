"""Referral (A4): the operator switches it on for an account, which gets a personal link; a
business that signs up through it is attributed once; its first paid invoice earns the referrer
the catalog's reward, credited on the referrer's next invoices until used up. Every refusal by
code and field, writing nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from allot.account import repository as account_repo
from allot.core.codes import display, is_well_formed
from allot.core.errors import Conflict, DomainError, InvalidInput, NotFound
from allot.core.invoicing import Charge
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.referral import repository as repo
from allot.referral.repository import ProgramRow, ReferralRow
from allot.referral.service import (
    DEFAULT_LINK,
    ReferralPage,
    attribute,
    credit_lines,
    disable_referral,
    enable_referral,
    get_program,
    invoice_paid,
    referral_page,
)
from allot.subscription.service import subscribe
from tests.domains import (
    add_account,
    events,
    load_presets,
    read,
    refusal,
    refused_before_writing,
    run,
    snapshot,
)


@pytest.fixture
def world(db: Database, clock: FixedClock) -> Database:
    """Café (the referrer), Bakery and Deli in EUR on the stamp-card line (reward €29), and a
    store in USD on Loyalty (reward $25)."""
    load_presets(db, clock)
    for account in ("cafe", "bakery", "deli"):
        add_account(db, clock, account)
    add_account(db, clock, "store", tz="America/New_York", currency="USD")
    return db


def enable(db: Database, clock: FixedClock, account_id: str = "cafe") -> ProgramRow:
    return run(db, lambda conn: enable_referral(conn, clock, account_id=account_id))


def disable(db: Database, clock: FixedClock, account_id: str = "cafe") -> ProgramRow:
    return run(db, lambda conn: disable_referral(conn, clock, account_id=account_id))


def refer(db: Database, clock: FixedClock, account_id: str, code: str) -> ReferralRow:
    return run(db, lambda conn: attribute(conn, clock, account_id=account_id, code=code))


def page(db: Database, account_id: str = "cafe") -> ReferralPage:
    return read(db, lambda conn: referral_page(conn, account_id=account_id))


def credit(account_id: str, db: Database) -> int:
    found = read(db, lambda conn: account_repo.get(conn, account_id))
    assert found is not None
    return found.referral_credit_minor


def subscription(db: Database, clock: FixedClock, account_id: str, plan: str) -> int:
    return run(db, lambda conn: subscribe(conn, clock, account_id=account_id, plan_code=plan)).id


def paid(
    db: Database,
    clock: FixedClock,
    account_id: str,
    *,
    invoice_id: int,
    total_minor: int = 2900,
    currency: str = "EUR",
    subscription_id: int | None,
) -> ReferralRow | None:
    return run(
        db,
        lambda conn: invoice_paid(
            conn,
            clock,
            account_id=account_id,
            invoice_id=invoice_id,
            total_minor=total_minor,
            currency=currency,
            subscription_id=subscription_id,
        ),
    )


def credits(db: Database, account_id: str, up_to_minor: int, currency: str = "EUR") -> list[Charge]:
    return run(
        db,
        lambda conn: credit_lines(
            conn, account_id=account_id, currency=currency, up_to_minor=up_to_minor
        ),
    )


def earned(db: Database, clock: FixedClock, referred: str, plan: str = "monthly") -> None:
    """`referred` (attributed to the café) pays its first paid invoice."""
    refer(db, clock, referred, page(db).code)
    sub = subscription(db, clock, referred, plan)
    assert paid(db, clock, referred, invoice_id=1, subscription_id=sub) is not None


# --- the program --------------------------------------------------------------------------------


def test_a4_switched_on_the_account_has_a_code_and_a_personal_link(
    world: Database, clock: FixedClock
) -> None:
    program = enable(world, clock)
    assert (program.account_id, program.enabled, program.enabled_at, program.disabled_at) == (
        "cafe",
        True,
        clock.now(),
        None,
    )
    assert is_well_formed(program.code)
    assert len(program.code) == 17
    shown = page(world)
    assert shown.code == display(program.code)
    assert shown.link == DEFAULT_LINK.replace("{code}", display(program.code))
    custom = read(
        world,
        lambda conn: referral_page(
            conn, account_id="cafe", link_template="https://app.example/join?r={code}"
        ),
    )
    assert custom.link == f"https://app.example/join?r={display(program.code)}"
    assert (shown.referred, shown.earned_minor, shown.applied_minor, shown.balance_minor) == (
        [],
        0,
        0,
        0,
    )


def test_a4_each_account_gets_a_code_of_its_own(world: Database, clock: FixedClock) -> None:
    codes = {enable(world, clock, a).code for a in ("cafe", "bakery", "deli", "store")}
    assert len(codes) == 4


def test_a4_switching_on_again_keeps_the_code_and_the_date(
    world: Database, clock: FixedClock
) -> None:
    first = enable(world, clock)
    clock.set(clock.now().replace(day=20))
    assert enable(world, clock) == first


def test_a4_switched_off_and_on_again_keeps_the_code(world: Database, clock: FixedClock) -> None:
    first = enable(world, clock)
    clock.set(clock.now().replace(day=10))
    off = disable(world, clock)
    assert (off.code, off.enabled, off.disabled_at) == (first.code, False, clock.now())
    clock.set(clock.now().replace(day=11))
    assert disable(world, clock) == off  # off twice: still off since the 10th
    clock.set(clock.now().replace(day=12))
    on = enable(world, clock)
    assert (on.code, on.enabled, on.enabled_at, on.disabled_at) == (
        first.code,
        True,
        clock.now(),
        None,
    )


@pytest.mark.parametrize(
    ("call", "account", "expected"),
    [
        ("enable", "ghost", (NotFound, "account_not_found", "account_id")),
        ("disable", "ghost", (NotFound, "account_not_found", "account_id")),
        ("disable", "cafe", (NotFound, "referral_not_enabled", "account_id")),
        ("get", "cafe", (NotFound, "referral_not_enabled", "account_id")),
        ("get", "ghost", (NotFound, "account_not_found", "account_id")),
        ("page", "cafe", (NotFound, "referral_not_enabled", "account_id")),
    ],
)
def test_a4_program_refusals(
    world: Database, clock: FixedClock, call: str, account: str, expected: tuple[object, ...]
) -> None:
    def go(conn: Connection) -> object:
        if call == "enable":
            return enable_referral(conn, clock, account_id=account)
        if call == "disable":
            return disable_referral(conn, clock, account_id=account)
        if call == "get":
            return get_program(conn, account_id=account)
        return referral_page(conn, account_id=account)

    assert refusal(refused_before_writing(world, go)) == expected


# --- attribution --------------------------------------------------------------------------------


def test_a4_a_business_signing_up_through_the_link_is_attributed_to_the_referrer(
    world: Database, clock: FixedClock
) -> None:
    program = enable(world, clock)
    sloppy = display(program.code).lower().replace("-", " ")
    row = refer(world, clock, "bakery", sloppy)
    assert (row.referred_account_id, row.referrer_account_id, row.code, row.currency) == (
        "bakery",
        "cafe",
        program.code,
        "EUR",
    )
    assert (row.attributed_at, row.earned_at, row.reward_minor, row.applied_minor) == (
        clock.now(),
        None,
        None,
        0,
    )
    assert row.referred_name == "Bakery"
    assert [r.referred_account_id for r in page(world).referred] == ["bakery"]


def attribute_refusal(db: Database, clock: FixedClock, account: str, code: str) -> DomainError:
    return refused_before_writing(
        db, lambda conn: attribute(conn, clock, account_id=account, code=code)
    )


def test_a4_attribution_refusals(world: Database, clock: FixedClock) -> None:
    cafe = display(enable(world, clock).code)
    typo = cafe[:-1] + ("0" if cafe[-1] != "0" else "1")
    never = "000G-40R4-0M30-E209-B"  # well formed, no program has it
    assert refusal(attribute_refusal(world, clock, "bakery", typo)) == (
        InvalidInput,
        "invalid_referral_code",
        "referral_code",
    )
    assert refusal(attribute_refusal(world, clock, "bakery", never)) == (
        NotFound,
        "referral_code_not_found",
        "referral_code",
    )
    assert refusal(attribute_refusal(world, clock, "cafe", cafe)) == (
        Conflict,
        "self_referral",
        "referral_code",
    )
    assert refusal(attribute_refusal(world, clock, "store", cafe)) == (
        Conflict,
        "referral_currency_mismatch",
        "referral_code",
    )
    assert refusal(attribute_refusal(world, clock, "ghost", cafe)) == (
        NotFound,
        "account_not_found",
        "account_id",
    )


def test_a4_a_business_is_attributed_once_whoever_else_asks(
    world: Database, clock: FixedClock
) -> None:
    cafe = display(enable(world, clock).code)
    deli = display(enable(world, clock, "deli").code)
    refer(world, clock, "bakery", cafe)
    for code in (cafe, deli):
        error = attribute_refusal(world, clock, "bakery", code)
        assert refusal(error) == (Conflict, "already_referred", "account_id")
    found = read(world, lambda conn: repo.referral_of(conn, "bakery"))
    assert found is not None
    assert found.referrer_account_id == "cafe"


def test_a4_a_switched_off_link_attributes_no_one(world: Database, clock: FixedClock) -> None:
    cafe = display(enable(world, clock).code)
    disable(world, clock)
    error = attribute_refusal(world, clock, "bakery", cafe)
    assert refusal(error) == (NotFound, "referral_code_not_found", "referral_code")


# --- the reward ---------------------------------------------------------------------------------


def test_a4_the_first_paid_invoice_earns_the_lines_reward_once(
    world: Database, clock: FixedClock
) -> None:
    refer(world, clock, "bakery", display(enable(world, clock).code))
    sub = subscription(world, clock, "bakery", "monthly")
    first = paid(world, clock, "bakery", invoice_id=41, subscription_id=sub)
    assert first is not None
    assert (first.reward_minor, first.earned_invoice_id, first.earned_at) == (2900, 41, clock.now())
    assert credit("cafe", world) == 2900
    assert events(world, "referral.reward_earned") == [
        {
            "referrer_account_id": "cafe",
            "referred_account_id": "bakery",
            "invoice_id": 41,
            "currency": "EUR",
            "reward": "29.00",
        }
    ]
    before = snapshot(world)
    assert paid(world, clock, "bakery", invoice_id=42, subscription_id=sub) is None
    assert snapshot(world) == before


def test_a4_an_invoice_of_nothing_is_not_a_paid_invoice(world: Database, clock: FixedClock) -> None:
    refer(world, clock, "bakery", display(enable(world, clock).code))
    sub = subscription(world, clock, "bakery", "card-scanner-free")
    before = snapshot(world)
    assert paid(world, clock, "bakery", invoice_id=1, total_minor=0, subscription_id=sub) is None
    assert snapshot(world) == before
    later = paid(world, clock, "bakery", invoice_id=2, total_minor=100, subscription_id=sub)
    assert later is not None
    assert later.reward_minor == 2900


def test_a4_an_invoice_without_a_subscription_closes_the_referral_with_no_reward(
    world: Database, clock: FixedClock
) -> None:
    refer(world, clock, "bakery", display(enable(world, clock).code))
    closed = paid(world, clock, "bakery", invoice_id=7, subscription_id=None)
    assert closed is not None
    assert (closed.reward_minor, closed.earned_invoice_id) == (0, 7)
    assert credit("cafe", world) == 0
    sub = subscription(world, clock, "bakery", "monthly")
    assert paid(world, clock, "bakery", invoice_id=8, subscription_id=sub) is None


def test_a4_an_account_nobody_referred_earns_nobody_anything(
    world: Database, clock: FixedClock
) -> None:
    sub = subscription(world, clock, "bakery", "monthly")
    before = snapshot(world)
    assert paid(world, clock, "bakery", invoice_id=1, subscription_id=sub) is None
    assert snapshot(world) == before


def test_a4_a_usd_line_pays_its_own_reward(world: Database, clock: FixedClock) -> None:
    add_account(world, clock, "shop", tz="America/New_York", currency="USD")
    refer(world, clock, "shop", display(enable(world, clock, "store").code))
    sub = subscription(world, clock, "shop", "loyalty-business")
    row = paid(world, clock, "shop", invoice_id=3, currency="USD", subscription_id=sub)
    assert row is not None
    assert (row.reward_minor, row.currency) == (2500, "USD")
    assert credit("store", world) == 2500


# --- the credit on the referrer's invoices ------------------------------------------------------


def test_a4_a_reward_larger_than_the_invoice_carries_over_to_the_next(
    world: Database, clock: FixedClock
) -> None:
    enable(world, clock)
    earned(world, clock, "bakery")  # €29 earned
    first = credits(world, "cafe", 2000)
    assert [(c.kind, c.description, c.quantity, c.amount) for c in first] == [
        ("referral_credit", "Referral reward: Bakery", 1, Decimal("-20.00"))
    ]
    assert credit("cafe", world) == 900
    second = credits(world, "cafe", 5000)
    assert [c.amount for c in second] == [Decimal("-9.00")]
    assert credit("cafe", world) == 0
    assert credits(world, "cafe", 5000) == []
    shown = page(world)
    assert (shown.earned_minor, shown.applied_minor, shown.balance_minor) == (2900, 2900, 0)


def test_a4_rewards_are_credited_oldest_earned_first(world: Database, clock: FixedClock) -> None:
    enable(world, clock)
    earned(world, clock, "deli")
    clock.set(clock.now().replace(day=6))
    earned(world, clock, "bakery")
    lines = credits(world, "cafe", 4000)
    assert [(c.description, c.amount) for c in lines] == [
        ("Referral reward: Deli", Decimal("-29.00")),
        ("Referral reward: Bakery", Decimal("-11.00")),
    ]
    assert credit("cafe", world) == 1800


def test_a4_a_credit_is_only_taken_off_an_invoice_in_its_currency(
    world: Database, clock: FixedClock
) -> None:
    enable(world, clock)
    earned(world, clock, "bakery")
    before = snapshot(world)
    assert credits(world, "cafe", 10_000, currency="USD") == []
    assert credits(world, "cafe", 0) == []
    assert snapshot(world) == before


def test_a4_an_invoice_rolled_back_gives_its_credit_back(
    world: Database, clock: FixedClock
) -> None:
    enable(world, clock)
    earned(world, clock, "bakery")

    class Crash(Exception):
        pass

    def issue_then_crash() -> None:
        with world.transaction() as conn:
            assert credit_lines(conn, account_id="cafe", currency="EUR", up_to_minor=10_000)
            raise Crash

    with pytest.raises(Crash):
        issue_then_crash()
    assert credit("cafe", world) == 2900
    assert [c.amount for c in credits(world, "cafe", 10_000)] == [Decimal("-29.00")]


def test_a4_a_switched_off_program_still_credits_what_was_earned(
    world: Database, clock: FixedClock
) -> None:
    enable(world, clock)
    earned(world, clock, "bakery")
    disable(world, clock)
    assert [c.amount for c in credits(world, "cafe", 10_000)] == [Decimal("-29.00")]


def test_a4_the_cached_balances_equal_the_referrals_behind_them(
    world: Database, clock: FixedClock
) -> None:
    """DESIGN rule 6: every balance has a ledger behind it."""
    enable(world, clock)
    enable(world, clock, "deli")
    earned(world, clock, "bakery")
    credits(world, "cafe", 1234)
    rows = read(world, repo.balances)
    assert rows == [("cafe", 2900 - 1234, 2900 - 1234)]
    assert all(cached == owed for _, cached, owed in rows)
