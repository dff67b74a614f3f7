"""Partners are invoiced for their codes at wholesale terms; businesses never are (K8, B5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from allot.code.service import claim_code, issue_code
from allot.invoice import repository as invoice_repo
from allot.invoice import service as invoice_service
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.partner.service import enroll_partner
from tests.scenarios.world import World, local

KYIV = "Europe/Kyiv"


@pytest.fixture
def world(db: Database) -> World:
    w = World(db, FixedClock(local(KYIV, 2026, 3, 2, 9)))
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


def partner_invoices(world: World) -> list[InvoiceRow]:
    with world.db.read() as conn:
        rows = invoice_repo.listing(conn, partner_id="brew")
        return [invoice_service.get_invoice(conn, r.id) for r in reversed(rows)]


def test_K8_the_partner_pays_for_its_code_each_month_and_the_business_never_does(
    world: World,
) -> None:
    """36 seats × €5 × 0.7 + 18 operations × €0.02 × 0.7 = €126.252 → €126.25 a month."""
    cafe = world.business("cafe", plan="monthly")
    with world.db.transaction() as conn:
        code = issue_code(
            conn,
            world.clock,
            partner_id="brew",
            allowances={"staff_seats": 36, "card_operations": 18},
        )
        claim_code(conn, world.clock, account_id=cafe, code=code.code or "")
    world.consume_many(cafe, 18)  # all from the code
    world.at(KYIV, 2026, 5, 15)
    world.bill()
    world.bill()  # repeating issues nothing new

    invoices = partner_invoices(world)
    assert [i.issued_on for i in invoices] == [date(2026, 4, 1), date(2026, 5, 1)]
    march = invoices[0]
    assert march.kind == "partner"
    assert march.partner_id == "brew"
    assert march.account_id is None
    assert march.total_minor == 12625
    assert [f.charge.quantity for f in march.lines] == [18, 36]
    assert march.lines[1].charge.unit_price == Decimal("3.50")
    assert "Code #1" in march.lines[0].charge.description
    # the business's own invoices carry its plan only, never what the code paid for
    cafe_lines = [f.charge.kind for i in world.invoices(cafe) for f in i.lines]
    assert set(cafe_lines) == {"plan"}


def test_B5_a_partner_with_no_live_code_gets_no_invoice(world: World) -> None:
    with world.db.transaction() as conn:
        issue_code(conn, world.clock, partner_id="brew", allowances={"staff_seats": 2})
    world.at(KYIV, 2026, 6, 2)
    world.bill()
    assert partner_invoices(world) == []  # issued but never claimed: nothing held
