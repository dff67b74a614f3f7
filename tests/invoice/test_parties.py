"""Who bills and who is billed (A1, B8): billing details, the seller, and the copy each
document keeps of both as they were when it was issued.

A store on Full Suite Business (New York) gives its billing details; the operator sets
its seller identity; the invoice run issues, the details change, the run issues again.
"""

from __future__ import annotations

from datetime import date

import pytest

from allot.account.service import get_account, update_account
from allot.core.errors import InvalidInput
from allot.invoice import parties, service
from allot.invoice.pdf import render_html
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.kit.parties import check_details
from tests.scenarios.world import World, local

NY = "America/New_York"

STORE_ADDRESS = {
    "line1": "4 Bean Lane",
    "city": "Brooklyn",
    "region": "NY",
    "postal_code": "11201",
    "country": "us",
}
STORE = {
    "legal_name": "Bean There LLC",
    "email": "Billing@Bean.example",
    "tax_id": "US-12-3456789",
    "address": STORE_ADDRESS,
}
SELLER = {
    "legal_name": "Allot Demo Ltd",
    "email": "billing@allot.example",
    "tax_id": "GB123456789",
    "address": {
        "line1": "12 Market Street",
        "city": "London",
        "postal_code": "EC1A 1AA",
        "country": "GB",
    },
}


@pytest.fixture
def world(db: Database) -> World:
    w = World(db, FixedClock(local(NY, 2026, 5, 12, 9)))
    w.business("store", plan="full-suite-business", tz=NY, currency="USD")
    with w.db.transaction() as conn:
        update_account(conn, w.clock, account_id="store", billing_details=STORE)
        parties.set_seller(conn, w.clock, SELLER)
    return w


def test_a1_billing_details_are_checked_and_normalized(world: World) -> None:
    with world.db.read() as conn:
        details = get_account(conn, "store").details
    assert details.email == "Billing@bean.example"  # the domain is case-insensitive
    assert details.address is not None
    assert details.address.country == "US"
    assert details.address.lines() == (
        "4 Bean Lane",
        "11201 Brooklyn",
        "NY",
        "United States",
    )


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        ({"email": "not an address"}, "invalid_email", "billing_details.email"),
        ({"tax_id": "x" * 41}, "too_long", "billing_details.tax_id"),
        ({"legal_name": "Bean\nThere"}, "invalid_character", "billing_details.legal_name"),
        (
            {"address": {"line1": "1 A St", "city": "X", "country": "EU"}},
            "invalid_country",
            "billing_details.address.country",
        ),
        (
            {"address": {"line1": "1 A St", "city": "X", "country": "XY"}},
            "invalid_country",
            "billing_details.address.country",
        ),
        (
            {"address": {"line1": "1 A St", "country": "US"}},
            "required",
            "billing_details.address.city",
        ),
        (
            {"address": {"line1": "1 A St", "city": "X", "country": "US", "zip": "1"}},
            "unknown_field",
            "billing_details.address.zip",
        ),
        ({"vat": "1"}, "unknown_field", "billing_details.vat"),
        ({"address": "4 Bean Lane"}, "invalid_address", "billing_details.address"),
    ],
)
def test_a1_bad_billing_details_name_their_field_and_change_nothing(
    world: World, raw: dict[str, object], code: str, field: str
) -> None:
    with world.db.transaction() as conn, pytest.raises(InvalidInput) as err:
        update_account(conn, world.clock, account_id="store", billing_details=raw)
    assert (err.value.code, err.value.field) == (code, field)
    with world.db.read() as conn:
        assert get_account(conn, "store").details == check_details(STORE)


def test_b8_the_seller_needs_a_legal_name_and_an_address(world: World) -> None:
    with world.db.transaction() as conn, pytest.raises(InvalidInput) as err:
        parties.set_seller(conn, world.clock, {"legal_name": "Allot Demo Ltd"})
    assert (err.value.code, err.value.field) == ("required", "seller.address")


def test_b8_an_invoice_keeps_both_parties_as_they_were_when_it_was_finalized(
    world: World,
) -> None:
    world.at(NY, 2026, 6, 12, 9)
    world.bill()
    may = world.invoices("store")[0]  # the renewal of 12 May
    assert may.bill_to["name"] == "Bean There LLC"
    assert may.seller["name"] == "Allot Demo Ltd"

    moved = {
        **STORE,
        "legal_name": "Bean There Inc",
        "address": {**STORE_ADDRESS, "line1": "9 Roast Road"},
    }
    with world.db.transaction() as conn:
        update_account(conn, world.clock, account_id="store", billing_details=moved)
        parties.set_seller(conn, world.clock, {**SELLER, "tax_id": "GB999999999"})
    world.at(NY, 2026, 7, 12, 9)
    world.bill()

    issued = world.invoices("store", "subscription")
    old, new = issued[0], issued[-1]  # 12 May (by the first run), 12 July (by the second)
    assert new.issued_on == date(2026, 7, 12)
    old_doc, new_doc = service.document(old), service.document(new)
    assert (old_doc.bill_to.name, old_doc.bill_to.address[0]) == ("Bean There LLC", "4 Bean Lane")
    assert old_doc.seller.tax_id == "GB123456789"
    assert (new_doc.bill_to.name, new_doc.bill_to.address[0]) == ("Bean There Inc", "9 Roast Road")
    assert new_doc.seller.tax_id == "GB999999999"
    assert new_doc.bill_to.email == "Billing@bean.example"

    html = render_html(old_doc)
    for text in (
        "Allot Demo Ltd",
        "12 Market Street",
        "EC1A 1AA London",
        "United Kingdom",
        "Tax ID GB123456789",
        "Bean There LLC",
        "Tax ID US-12-3456789",
        "Account store",
    ):
        assert text in html


def test_b8_a_credit_note_names_the_parties_as_they_are_when_it_is_issued(world: World) -> None:
    world.at(NY, 2026, 6, 12, 9)
    world.bill()
    invoice = world.invoices("store")[0]
    with world.db.transaction() as conn:
        parties.set_seller(conn, world.clock, {**SELLER, "legal_name": "Allot Holdings Ltd"})
        note = service.credit_note(
            conn, world.clock, invoice_id=invoice.id, reason="goodwill", issued_on=date(2026, 6, 13)
        )
    doc = service.credit_note_document(invoice, note)
    assert doc.seller.name == "Allot Holdings Ltd"
    assert service.document(invoice).seller.name == "Allot Demo Ltd"


def test_b8_without_a_seller_set_documents_name_allot(db: Database) -> None:
    w = World(db, FixedClock(local(NY, 2026, 5, 12, 9)))
    w.business("cafe", plan="full-suite-business", tz=NY, currency="USD")
    w.at(NY, 2026, 5, 12, 10)
    w.bill()
    doc = service.document(w.invoices("cafe")[0])
    assert (doc.seller.name, doc.seller.reference) == ("allot", "operator")
    assert (doc.bill_to.name, doc.bill_to.reference, doc.bill_to.address) == ("Cafe", "cafe", ())
