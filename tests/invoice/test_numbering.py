"""Number series (B5): invoices and credit notes numbered 1..N per series, no gap, no repeat.

One statement takes every number, on SQLite and on PostgreSQL alike; these
tests issue invoices and credit notes from several threads at once (on
PostgreSQL each on its own connection, in its own transaction), roll some of
them back, and read the numbers back from the documents themselves.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from allot.account.service import create_account
from allot.core.invoicing import Charge, ChargeKind
from allot.invoice import numbering, service
from allot.invoice.models import credit_notes, invoices, number_series
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from tests.scenarios.world import local

NY = "America/New_York"
THREADS = 6
EACH = 8


class RolledBack(Exception):
    pass


@pytest.fixture
def shop(db: Database, clock: FixedClock) -> str:
    clock.set(local(NY, 2026, 6, 15, 9))
    with db.transaction() as conn:
        create_account(conn, clock, account_id="shop", name="Shop", timezone=NY, currency="USD")
    return "shop"


def issue(db: Database, clock: FixedClock, key: str, on: date = date(2026, 6, 15)) -> InvoiceRow:
    with db.transaction() as conn:
        return issue_in(conn, clock, key, on)


def issue_in(conn: sa.Connection, clock: FixedClock, key: str, on: date) -> InvoiceRow:
    return service.issue(
        conn,
        clock,
        billing_key=key,
        kind="subscription",
        currency="USD",
        charges=[Charge(ChargeKind.PLAN, "Loyalty Business", 1, Decimal(179), Decimal(179))],
        issued_on=on,
        tax_rate=Decimal(0),
        account_id="shop",
        bill_to={"name": "Shop", "reference": "shop", "details": {}},
    )


def credit(db: Database, clock: FixedClock, invoice_id: int) -> str:
    with db.transaction() as conn:
        note = service.credit_note(
            conn, clock, invoice_id=invoice_id, reason="refund", issued_on=date(2026, 6, 15)
        )
        return note.number


def rolled_back(
    db: Database, clock: FixedClock, key: str, on: date, *, note: bool = True
) -> list[str]:
    """Issue an invoice (and a credit note of it) in a transaction that is then rolled
    back; the numbers they had."""
    taken: list[str] = []
    try:
        with db.transaction() as conn:
            invoice = issue_in(conn, clock, key, on)
            assert invoice.number is not None
            taken.append(invoice.number)
            if note:
                taken.append(
                    service.credit_note(
                        conn, clock, invoice_id=invoice.id, reason="never", issued_on=on
                    ).number
                )
            raise RolledBack
    except RolledBack:
        pass
    return taken


def numbers(db: Database) -> dict[str, list[int]]:
    """Every number on a document, by series, in order."""
    with db.read() as conn:
        found = list(conn.execute(sa.select(invoices.c.number)).scalars())
        found += list(conn.execute(sa.select(credit_notes.c.number)).scalars())
    by_series: dict[str, list[int]] = {}
    for number in found:
        name, _, value = number.rpartition("-")
        by_series.setdefault(name, []).append(int(value))
    return {name: sorted(values) for name, values in by_series.items()}


def test_B5_invoices_and_credit_notes_issued_at_once_are_numbered_1_to_n(
    db: Database, clock: FixedClock, shop: str
) -> None:
    """Six threads at once, each: the first invoice of 2027 (so they all open that series
    together), then eight times an invoice of 2026, a credit note, and one of each rolled
    back. 48 invoices were issued before to be credited."""
    base = [issue(db, clock, f"base:{i}") for i in range(THREADS * EACH)]
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def work(t: int) -> None:
        try:
            start.wait()
            issue(db, clock, f"2027:{t}", date(2027, 1, 5))
            for j in range(EACH):
                issue(db, clock, f"t{t}:{j}")
                credit(db, clock, base[t * EACH + j].id)
                rolled_back(db, clock, f"gone:{t}:{j}", date(2026, 6, 15))
        except BaseException as exc:  # reported below, with the thread's name
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(t,), name=f"t{t}") for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    issued = THREADS * EACH * 2  # the base invoices and the threads' own
    assert numbers(db) == {
        "INV-2026": list(range(1, issued + 1)),
        "INV-2027": list(range(1, THREADS + 1)),
        "CN-2026": list(range(1, THREADS * EACH + 1)),
    }
    with db.read() as conn:
        assert numbering.last_numbers(conn) == {
            "INV-2026": issued,
            "INV-2027": THREADS,
            "CN-2026": THREADS * EACH,
        }


def test_B5_a_rolled_back_invoice_or_credit_note_leaves_no_gap(
    db: Database, clock: FixedClock, shop: str
) -> None:
    first = issue(db, clock, "june")
    assert first.number == "INV-2026-000001"
    assert credit(db, clock, first.id) == "CN-2026-000001"
    assert rolled_back(db, clock, "july", date(2026, 7, 15)) == [
        "INV-2026-000002",
        "CN-2026-000002",
    ]
    again = issue(db, clock, "july", date(2026, 7, 15))
    assert again.number == "INV-2026-000002"  # the number came back with the rollback
    assert credit(db, clock, again.id) == "CN-2026-000002"
    # the first document of a year opens its series; rolled back, the series goes too
    assert rolled_back(db, clock, "2027", date(2027, 1, 5), note=False) == ["INV-2027-000001"]
    with db.read() as conn:
        assert "INV-2027" not in numbering.last_numbers(conn)
    assert issue(db, clock, "2027", date(2027, 1, 5)).number == "INV-2027-000001"


@pytest.mark.parametrize(
    ("last", "number"),
    [(0, "CN-2026-000001"), (41, "CN-2026-000042"), (999_999, "CN-2026-1000000")],
)
def test_B5_credit_notes_are_numbered_like_invoices_past_six_digits(
    db: Database, clock: FixedClock, shop: str, last: int, number: str
) -> None:
    invoice = issue(db, clock, "june")
    with db.transaction() as conn:
        numbering.open_series(conn, "CN-2026")
        conn.execute(
            sa.update(number_series)
            .where(number_series.c.series == "CN-2026")
            .values(last_value=last)
        )
    assert credit(db, clock, invoice.id) == number
