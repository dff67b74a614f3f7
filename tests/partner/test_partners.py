"""Partners (A3): enrolled by the operator with their own wholesale terms, kept exactly; every
refusal of `enroll_partner` by code and field, writing nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.partner import repository as repo
from allot.partner.service import KINDS, enroll_partner, get_partner, list_partners
from tests.domains import add_partner, read, refusal, refused_before_writing, run
from tests.factories import load


@pytest.fixture
def catalog(db: Database, clock: FixedClock) -> Database:
    load(db, clock)
    return db


TERMS: dict[str, object] = {
    "partner_id": "brew",
    "name": "Brew Consultants",
    "kind": "restaurant_consultant",
    "contact": "hello@brew.example",
    "currency": "EUR",
    "wholesale_discount": "0.30",
    "prices": {"staff_seats": "5", "card_operations": "0.02"},
}


def enroll(db: Database, clock: FixedClock, **kw: object) -> object:
    values = {**TERMS, **kw}
    return run(db, lambda conn: enroll_partner(conn, clock, **values))  # type: ignore[arg-type]


def enroll_refusal(db: Database, clock: FixedClock, **kw: object) -> tuple[type, str, str | None]:
    values = {**TERMS, **kw}

    def call(conn: Connection) -> object:
        return enroll_partner(conn, clock, **values)  # type: ignore[arg-type]

    return refusal(refused_before_writing(db, call))


def test_a3_a_partner_is_enrolled_with_its_terms_kept_exactly(
    catalog: Database, clock: FixedClock
) -> None:
    enrolled = enroll(
        catalog,
        clock,
        wholesale_discount=Decimal("0.333333333333"),
        prices={"staff_seats": "4.99", "card_operations": Decimal("0.0125")},
        name="  Brew Consultants ",
    )
    found = read(catalog, lambda conn: get_partner(conn, "brew"))
    assert found == enrolled
    assert (found.name, found.kind, found.contact, found.currency) == (
        "Brew Consultants",
        "restaurant_consultant",
        "hello@brew.example",
        "EUR",
    )
    assert found.wholesale_discount == Decimal("0.333333333333")
    assert dict(found.prices) == {
        "staff_seats": Decimal("4.99"),
        "card_operations": Decimal("0.0125"),
    }
    assert all(type(p) is Decimal for p in found.prices.values())
    assert found.created_at == clock.now()


@pytest.mark.parametrize("kind", KINDS)
def test_a3_every_kind_of_partner_the_spec_names_can_be_enrolled(
    catalog: Database, clock: FixedClock, kind: str
) -> None:
    enroll(catalog, clock, kind=kind)
    assert read(catalog, lambda conn: get_partner(conn, "brew")).kind == kind


def test_a3_no_discount_and_free_resources_are_terms_too(
    catalog: Database, clock: FixedClock
) -> None:
    enroll(catalog, clock, wholesale_discount=0, prices={})
    enroll(
        catalog,
        clock,
        partner_id="pos",
        wholesale_discount="0.999",
        prices={"orders": "0"},
    )
    brew, pos = read(catalog, list_partners)
    assert (brew.id, brew.wholesale_discount, dict(brew.prices)) == ("brew", Decimal(0), {})
    assert (pos.id, pos.wholesale_discount, dict(pos.prices)) == (
        "pos",
        Decimal("0.999"),
        {"orders": Decimal(0)},
    )


def test_w3_partners_are_listed_by_id(catalog: Database, clock: FixedClock) -> None:
    for partner in ("zeta", "alpha", "mid"):
        add_partner(catalog, clock, partner)
    assert [p.id for p in read(catalog, list_partners)] == ["alpha", "mid", "zeta"]


def test_a3_a_partner_is_enrolled_once(catalog: Database, clock: FixedClock) -> None:
    enroll(catalog, clock)
    assert enroll_refusal(catalog, clock, name="Someone else") == (
        Conflict,
        "partner_exists",
        "id",
    )
    assert read(catalog, lambda conn: get_partner(conn, "brew")).name == "Brew Consultants"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"partner_id": "no spaces"}, (InvalidInput, "invalid_identifier", "id")),
        ({"partner_id": ""}, (InvalidInput, "invalid_identifier", "id")),
        ({"partner_id": "x" * 65}, (InvalidInput, "invalid_identifier", "id")),
        ({"kind": "reseller"}, (InvalidInput, "invalid_partner_kind", "kind")),
        ({"currency": "eur"}, (InvalidInput, "unknown_currency", "currency")),
        ({"currency": "XYZ"}, (InvalidInput, "unknown_currency", "currency")),
        ({"wholesale_discount": "1"}, (InvalidInput, "invalid_discount", "wholesale_discount")),
        ({"wholesale_discount": "-0.01"}, (InvalidInput, "invalid_discount", "wholesale_discount")),
        ({"wholesale_discount": 0.3}, (InvalidInput, "float_money", "wholesale_discount")),
        ({"wholesale_discount": "NaN"}, (InvalidInput, "invalid_amount", "wholesale_discount")),
        ({"wholesale_discount": "lots"}, (InvalidInput, "invalid_amount", "wholesale_discount")),
        ({"prices": {"sms": "1"}}, (NotFound, "metric_not_found", "prices.sms")),
        (
            {"prices": {"staff_seats": "-5"}},
            (InvalidInput, "negative_price", "prices.staff_seats"),
        ),
        (
            {"prices": {"staff_seats": 5.0}},
            (InvalidInput, "float_money", "prices.staff_seats"),
        ),
        ({"name": "   "}, (InvalidInput, "required", "name")),
        ({"name": "n" * 201}, (InvalidInput, "too_long", "name")),
        # the name heads the activation e-mail's subject: one line
        ({"name": "Brew\nBcc: x@y.example"}, (InvalidInput, "invalid_character", "name")),
        ({"name": "Brew\u2028Bcc: x@y.example"}, (InvalidInput, "invalid_character", "name")),
        ({"contact": ""}, (InvalidInput, "required", "contact")),
    ],
)
def test_a3_enrolment_refusals_name_their_field_and_write_nothing(
    catalog: Database, clock: FixedClock, kw: dict[str, object], expected: tuple[object, ...]
) -> None:
    assert enroll_refusal(catalog, clock, **kw) == expected


def test_an_unknown_partner_is_not_found(catalog: Database, clock: FixedClock) -> None:
    error = refused_before_writing(catalog, lambda conn: get_partner(conn, "ghost"))
    assert refusal(error) == (NotFound, "partner_not_found", "partner_id")


def test_b5_the_next_month_to_invoice_starts_unset_and_moves_on(
    catalog: Database, clock: FixedClock
) -> None:
    add_partner(catalog, clock, "brew")
    add_partner(catalog, clock, "pos")
    assert read(catalog, lambda conn: repo.invoice_month(conn, "brew")) is None
    run(catalog, lambda conn: repo.set_invoice_month(conn, "brew", "2026-03"))
    assert read(catalog, lambda conn: repo.invoice_month(conn, "brew")) == "2026-03"
    assert read(catalog, lambda conn: repo.invoice_month(conn, "pos")) is None
