"""Referral (A4): a link switched on by the operator, a sign-up through it, the reward
earned at the referred business's first paid invoice and credited on the referrer's
next invoice. Stamp-card preset: Monthly €29, a referral reward of €29 (an EXAMPLE
figure of the preset: the seeds give none)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from allot.account import repository as account_repo
from allot.account.service import create_account, update_account
from allot.billing.changes import change_quantity
from allot.core.codes import display
from allot.core.errors import Conflict, DomainError, NotFound
from allot.invoice import service as invoice_service
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.referral import repository as referral_repo
from allot.referral.service import (
    attribute,
    disable_referral,
    enable_referral,
    referral_page,
)
from allot.subscription import repository as sub_repo
from allot.subscription.service import subscribe
from allot.webhook.models import webhook_events
from tests.scenarios.world import World, local

KYIV = "Europe/Kyiv"


@pytest.fixture
def world(db: Database) -> World:
    w = World(db, FixedClock(local(KYIV, 2026, 3, 5, 9)))
    w.business("cafe", plan="monthly", tz=KYIV)
    with db.transaction() as conn:
        enable_referral(conn, w.clock, account_id="cafe")
    return w


def code_of(world: World, account_id: str) -> str:
    with world.db.read() as conn:
        return referral_page(conn, account_id=account_id).code


def sign_up(world: World, account_id: str, code: str, plan: str = "monthly") -> None:
    with world.db.transaction() as conn:
        create_account(
            conn,
            world.clock,
            account_id=account_id,
            name=account_id.title(),
            timezone=KYIV,
            currency="EUR",
        )
        attribute(conn, world.clock, account_id=account_id, code=code)
        subscribe(conn, world.clock, account_id=account_id, plan_code=plan)


def pay(world: World, invoice: InvoiceRow) -> None:
    with world.db.transaction() as conn:
        invoice_service.mark_paid(conn, world.clock, invoice_id=invoice.id, note="transfer")


def credit_lines(invoice: InvoiceRow) -> list[tuple[str, int]]:
    return [
        (f.charge.description, f.amount_minor)
        for f in invoice.lines
        if f.charge.kind == "referral_credit"
    ]


def assert_balances_match(world: World) -> None:
    """The account's cached balance equals what its referrals say (the ledger)."""
    with world.db.read() as conn:
        for account, cached, owed in referral_repo.balances(conn):
            assert cached == owed, account


def test_A4_reward_earned_at_first_paid_invoice_credited_on_the_next_invoice(
    world: World,
) -> None:
    sign_up(world, "bakery", code_of(world, "cafe"))
    world.bill()  # 5 March: cafe's and bakery's first €29
    (bakery_first,) = world.invoices("bakery")
    with world.db.read() as conn:
        page = referral_page(conn, account_id="cafe")
    assert [(r.referred_account_id, r.earned_at) for r in page.referred] == [("bakery", None)]

    pay(world, bakery_first)
    with world.db.read() as conn:
        page = referral_page(conn, account_id="cafe")
    assert (page.earned_minor, page.applied_minor, page.balance_minor) == (2900, 0, 2900)
    assert page.referred[0].earned_invoice_id == bakery_first.id

    world.at(KYIV, 2026, 4, 5, 9)
    world.bill()
    march, april = world.invoices("cafe")
    assert credit_lines(march) == []  # issued before the reward was earned
    assert credit_lines(april) == [("Referral reward: Bakery", -2900)]
    assert (april.subtotal_minor, april.total_minor) == (0, 0)

    world.at(KYIV, 2026, 5, 5, 9)
    world.bill()
    may = world.invoices("cafe")[-1]
    assert credit_lines(may) == []  # used up: back to €29
    assert may.total_minor == 2900
    with world.db.read() as conn:
        page = referral_page(conn, account_id="cafe")
    assert (page.earned_minor, page.applied_minor, page.balance_minor) == (2900, 2900, 0)
    assert_balances_match(world)


def test_A4_only_the_first_paid_invoice_earns_and_only_once(world: World) -> None:
    sign_up(world, "bakery", code_of(world, "cafe"))
    world.bill()
    pay(world, world.invoices("bakery")[0])
    world.at(KYIV, 2026, 4, 5, 9)
    world.bill()
    pay(world, world.invoices("bakery")[-1])
    with world.db.read() as conn:
        page = referral_page(conn, account_id="cafe")
        events = conn.execute(
            sa.select(webhook_events.c.payload).where(
                webhook_events.c.type == "referral.reward_earned"
            )
        ).all()
    assert page.earned_minor == 2900
    assert [dict(e.payload) for e in events] == [
        {
            "referrer_account_id": "cafe",
            "referred_account_id": "bakery",
            "invoice_id": world.invoices("bakery")[0].id,
            "currency": "EUR",
            "reward": "29.00",
        }
    ]


def test_A4_a_free_plan_earns_nothing_until_a_paid_invoice_is_paid(world: World) -> None:
    sign_up(world, "kiosk", code_of(world, "cafe"), plan="card-scanner-free")
    world.at(KYIV, 2026, 6, 1, 9)
    world.bill()
    assert world.invoices("kiosk") == []  # nothing to pay on the free plan
    with world.db.read() as conn:
        page = referral_page(conn, account_id="cafe")
    assert page.earned_minor == 0
    assert page.referred[0].earned_at is None


def test_A4_two_rewards_larger_than_an_invoice_carry_to_the_next_with_tax(
    world: World,
) -> None:
    with world.db.transaction() as conn:
        update_account(conn, world.clock, account_id="cafe", tax_rate="0.2")
    code = code_of(world, "cafe")
    sign_up(world, "bakery", code)
    sign_up(world, "florist", code)
    world.bill()
    pay(world, world.invoices("bakery")[0])
    pay(world, world.invoices("florist")[0])
    world.at(KYIV, 2026, 4, 5, 9)
    world.bill()
    april = world.invoices("cafe")[-1]
    assert credit_lines(april) == [("Referral reward: Bakery", -2900)]  # oldest reward first
    assert (april.subtotal_minor, april.tax_minor, april.total_minor) == (0, 0, 0)
    world.at(KYIV, 2026, 5, 5, 9)
    world.bill()
    may = world.invoices("cafe")[-1]
    assert credit_lines(may) == [("Referral reward: Florist", -2900)]
    assert may.total_minor == 0
    world.at(KYIV, 2026, 6, 5, 9)
    world.bill()
    june = world.invoices("cafe")[-1]
    assert (june.subtotal_minor, june.tax_minor, june.total_minor) == (2900, 580, 3480)
    assert_balances_match(world)


def test_A4_a_credit_note_of_a_credited_invoice_nets_it_to_zero(world: World) -> None:
    # a bigger invoice for the cafe: two locations, raised before any reward is earned (the
    # raise is invoiced at once, prorated: B4), so April's invoice is the one credited
    with world.db.transaction() as conn:
        sub = sub_repo.live(conn, "cafe")[0]
        change_quantity(conn, world.clock, account_id="cafe", subscription_id=sub.id, quantity=2)
    sign_up(world, "bakery", code_of(world, "cafe"))
    world.bill()
    pay(world, world.invoices("bakery")[0])
    world.at(KYIV, 2026, 4, 5, 9)
    world.bill()
    april = world.invoices("cafe")[-1]
    assert april.subtotal_minor == 5800 - 2900
    with world.db.transaction() as conn:
        note = invoice_service.credit_note(
            conn, world.clock, invoice_id=april.id, reason="goodwill", issued_on=date(2026, 4, 6)
        )
    assert note.total_minor == april.total_minor


def test_A4_refusals_name_the_field_and_change_nothing(world: World) -> None:
    code = code_of(world, "cafe")
    with world.db.transaction() as conn:
        create_account(
            conn, world.clock, account_id="usd", name="Usd", timezone=KYIV, currency="USD"
        )
        create_account(
            conn, world.clock, account_id="bakery", name="Bakery", timezone=KYIV, currency="EUR"
        )
    cases = [
        ("bakery", code[:-1] + ("0" if code[-1] != "0" else "1"), "invalid_referral_code"),
        ("bakery", "not a code", "invalid_referral_code"),
        ("bakery", "0000-0000-0000-0000-0", "referral_code_not_found"),
        ("cafe", code, "self_referral"),
        ("usd", code, "referral_currency_mismatch"),
    ]
    for account, text, expected in cases:
        with pytest.raises(DomainError) as caught, world.db.transaction() as conn:
            attribute(conn, world.clock, account_id=account, code=text)
        assert (caught.value.code, caught.value.field) == (expected, "referral_code"), text
    with world.db.transaction() as conn:
        attribute(conn, world.clock, account_id="bakery", code=code.lower().replace("-", " "))
    with pytest.raises(Conflict, match="already referred"), world.db.transaction() as conn:
        attribute(conn, world.clock, account_id="bakery", code=code)
    with world.db.read() as conn:
        assert [r.referred_account_id for r in referral_page(conn, account_id="cafe").referred] == [
            "bakery"
        ]


def test_A4_a_disabled_link_attributes_no_one_but_earned_rewards_are_still_credited(
    world: World,
) -> None:
    code = code_of(world, "cafe")
    sign_up(world, "bakery", code)
    world.bill()
    pay(world, world.invoices("bakery")[0])
    with world.db.transaction() as conn:
        disable_referral(conn, world.clock, account_id="cafe")
    with pytest.raises(NotFound):
        sign_up(world, "florist", code)
    with world.db.read() as conn:
        assert account_repo.get(conn, "florist") is None  # the sign-up rolled back whole
    world.at(KYIV, 2026, 4, 5, 9)
    world.bill()
    assert credit_lines(world.invoices("cafe")[-1]) == [("Referral reward: Bakery", -2900)]
    with world.db.transaction() as conn:
        again = enable_referral(conn, world.clock, account_id="cafe")
    assert display(again.code) == code  # switched back on: the same link
