"""Invoices as documents (B5): states, credit notes, numbering, exports, events, the PDF.

Each test lives through a store's first months on Full Suite Business (New York),
billed by the real invoice run, and then works on the invoices it issued.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from allot.core.errors import Conflict, InvalidInput
from allot.invoice import numbering, service
from allot.invoice import repository as repo
from allot.invoice.models import number_series
from allot.invoice.pdf import render_pdf
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.webhook.models import webhook_deliveries, webhook_events
from allot.webhook.service import create_endpoint, remove_endpoint
from tests.scenarios.world import World, local

NY = "America/New_York"


@pytest.fixture
def world(db: Database) -> World:
    w = World(db, FixedClock(local(NY, 2026, 5, 12, 9)))
    w.business("store", plan="full-suite-business", tz=NY, currency="USD")
    w.at(NY, 2026, 6, 15)
    w.consume("store", "orders", 1800)
    w.at(NY, 2026, 7, 15)
    w.bill()
    return w


def events(world: World, kind: str) -> list[dict[str, object]]:
    with world.db.read() as conn:
        rows = conn.execute(
            sa.select(webhook_events.c.payload)
            .where(webhook_events.c.type == kind)
            .order_by(webhook_events.c.id)
        )
        return [dict(r.payload) for r in rows]


def first(world: World) -> InvoiceRow:
    return world.invoices("store")[0]


def test_b5_every_issued_invoice_is_finalized_numbered_and_announced(world: World) -> None:
    invoices = world.invoices("store")
    assert [i.number for i in invoices] == [f"INV-2026-{n:06d}" for n in (1, 2, 3, 4)]
    assert [i.issued_on for i in invoices] == [
        date(2026, 5, 12),
        date(2026, 6, 12),
        date(2026, 7, 8),  # June's overage: numbered in issue-date order
        date(2026, 7, 12),
    ]
    assert {i.state for i in invoices} == {"finalized"}
    finalized = events(world, "invoice.finalized")
    assert [e["number"] for e in finalized] == [i.number for i in invoices]
    assert finalized[2]["total"] == "60.00"


def test_b5_the_finalized_event_is_the_invoice_summary_and_reaches_its_subscribers(
    world: World,
) -> None:
    """The event is written by the statement that writes the invoice (on PostgreSQL): the same
    fields in the same order as `summary`, and one delivery per subscribed, enabled endpoint."""
    url = "http://127.0.0.1:9/hooks"
    with world.db.transaction() as conn:
        wants = create_endpoint(
            conn,
            world.clock,
            url=url,
            event_types=["invoice.paid", "invoice.finalized"],
            allow_private=True,
        )
        create_endpoint(
            conn, world.clock, url=url, event_types=["invoice.paid"], allow_private=True
        )
        gone = create_endpoint(
            conn, world.clock, url=url, event_types=["invoice.finalized"], allow_private=True
        )
        remove_endpoint(conn, world.clock, endpoint_id=gone.id)
    world.at(NY, 2026, 9, 15)
    world.bill()
    invoices = world.invoices("store")
    with world.db.read() as conn:
        rows = conn.execute(
            sa.select(webhook_events.c.id, webhook_events.c.account_id, webhook_events.c.payload)
            .where(webhook_events.c.type == "invoice.finalized")
            .order_by(webhook_events.c.id)
        ).all()
        delivered = conn.execute(
            sa.select(webhook_deliveries.c.event_id, webhook_deliveries.c.endpoint_id)
            .where(webhook_deliveries.c.event_id.in_([r.id for r in rows]))
            .order_by(webhook_deliveries.c.event_id)
        ).all()
    assert len(invoices) == 6  # the 4 of the fixture, then 12 August and 12 September
    assert [list(r.payload.items()) for r in rows] == [
        list(service.summary(i).items()) for i in invoices
    ]
    assert {r.account_id for r in rows} == {"store"}
    assert [tuple(d) for d in delivered] == [(r.id, wants.id) for r in rows[4:]]


def test_b5_numbers_go_on_past_six_digits(world: World) -> None:
    with world.db.transaction() as conn:
        conn.execute(sa.update(number_series).values(last_value=999_999))
    world.at(NY, 2026, 9, 15)
    world.bill()
    numbers = [i.number for i in world.invoices("store")[4:]]
    assert numbers == ["INV-2026-1000000", "INV-2026-1000001"]  # 12 August, 12 September


def test_b6_issuing_a_billed_key_again_returns_its_invoice_and_takes_no_number(
    world: World,
) -> None:
    inv = first(world)
    with world.db.transaction() as conn:
        again = service.issue(
            conn,
            world.clock,
            billing_key=inv.billing_key,
            kind=inv.kind,
            currency=inv.currency,
            charges=[line.charge for line in inv.lines],
            issued_on=inv.issued_on,
            tax_rate=Decimal(0),
            account_id=inv.account_id,
            bill_to=dict(inv.bill_to),
            subscription_id=inv.subscription_id,
            period=(date(2026, 5, 12), date(2026, 6, 12)),
        )
        assert again == inv
        assert numbering.last_numbers(conn) == {"INV-2026": 4}
    assert len(events(world, "invoice.finalized")) == 4


def test_b5_mark_paid_by_hand_then_void_is_refused(world: World) -> None:
    inv = first(world)
    with world.db.transaction() as conn:
        paid = service.mark_paid(conn, world.clock, invoice_id=inv.id, note="bank transfer 42")
        again = service.mark_paid(conn, world.clock, invoice_id=inv.id, note="bank transfer 42")
    assert paid.state == again.state == "paid"
    assert paid.settlement_note == "bank transfer 42"
    assert len(events(world, "invoice.paid")) == 1  # a retry changes nothing
    with world.db.transaction() as conn, pytest.raises(Conflict) as err:
        service.void(conn, world.clock, invoice_id=inv.id, reason="mistake")
    assert err.value.code == "invoice_not_open"


def test_b5_void_keeps_the_number_and_the_lines(world: World) -> None:
    inv = first(world)
    with world.db.transaction() as conn:
        voided = service.void(conn, world.clock, invoice_id=inv.id, reason="issued in error")
    assert voided.state == "void"
    assert voided.number == inv.number
    assert voided.lines == inv.lines
    assert voided.total_minor == inv.total_minor
    assert events(world, "invoice.voided")[0]["number"] == inv.number


def test_b5_uncollectible_can_still_be_paid_later(world: World) -> None:
    inv = first(world)
    with world.db.transaction() as conn:
        service.mark_uncollectible(conn, world.clock, invoice_id=inv.id, reason="no answer")
        paid = service.mark_paid(conn, world.clock, invoice_id=inv.id)
    assert paid.state == "paid"


def test_b5_partial_then_full_credit_notes(world: World) -> None:
    inv = first(world)
    with world.db.transaction() as conn:
        partial = service.credit_note(
            conn,
            world.clock,
            invoice_id=inv.id,
            reason="goodwill",
            amounts={0: "79.00"},
            issued_on=date(2026, 7, 15),
        )
        rest = service.credit_note(
            conn, world.clock, invoice_id=inv.id, reason="closed", issued_on=date(2026, 7, 15)
        )
        notes = repo.credit_notes_of(conn, inv.id)
    assert (partial.number, rest.number) == ("CN-2026-000001", "CN-2026-000002")
    assert partial.total_minor == 7900
    assert rest.total_minor == 20000
    assert sum(n.total_minor for n in notes) == inv.total_minor  # nets to zero
    with world.db.transaction() as conn, pytest.raises(Conflict) as conflict:
        service.credit_note(
            conn, world.clock, invoice_id=inv.id, reason="more", issued_on=date(2026, 7, 15)
        )
    assert conflict.value.code == "invoice_fully_credited"
    assert [e["number"] for e in events(world, "credit_note.issued")] == [
        "CN-2026-000001",
        "CN-2026-000002",
    ]


def test_b5_a_credit_note_cannot_exceed_its_line(world: World) -> None:
    inv = first(world)
    with world.db.transaction() as conn, pytest.raises(InvalidInput) as err:
        service.credit_note(
            conn,
            world.clock,
            invoice_id=inv.id,
            reason="too much",
            amounts={0: "279.01"},
            issued_on=date(2026, 7, 15),
        )
    assert err.value.code == "credit_exceeds_line"
    with world.db.transaction() as conn, pytest.raises(InvalidInput) as err:
        service.credit_note(
            conn,
            world.clock,
            invoice_id=inv.id,
            reason="half a cent",
            amounts={0: "10.005"},
            issued_on=date(2026, 7, 15),
        )
    assert (err.value.code, err.value.field) == ("too_many_decimals", "lines")
    with world.db.read() as conn:
        assert repo.credit_notes_of(conn, inv.id) == []  # nothing half-written


def test_b5_json_and_csv_exports(world: World) -> None:
    usage = world.invoices("store", "usage")[0]
    data = service.to_json(usage)
    assert data["number"] == "INV-2026-000003"
    assert data["total"] == "60.00"
    (line,) = data["lines"]
    assert (line["quantity"], line["unit_price"], line["amount"]) == (300, "0.20", "60.00")
    rows = list(csv.DictReader(io.StringIO(service.to_csv(world.invoices("store")))))
    assert len(rows) == 4
    assert rows[2]["description"].startswith("Orders over the allowance in June 2026")
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("897.00")


def test_b5_numbers_start_again_each_year_without_gaps(world: World) -> None:
    world.at(NY, 2027, 2, 1)
    world.bill()
    numbers = [i.number or "" for i in world.invoices("store")]
    assert numbers[-1] == "INV-2027-000001"  # 12 January 2027
    in_2026 = [n for n in numbers if n.startswith("INV-2026")]
    assert in_2026 == [f"INV-2026-{n:06d}" for n in range(1, len(in_2026) + 1)]


def test_b5_the_pdf_of_a_real_invoice(world: World, tmp_path: Path) -> None:
    """The usage invoice issued on 8 July, as a PDF → PNG (pdftoppm) and text (pdftotext)."""
    usage = world.invoices("store", "usage")[0]
    doc = service.document(usage)
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render_pdf(doc))
    pdftoppm, pdftotext = shutil.which("pdftoppm"), shutil.which("pdftotext")
    assert pdftoppm, "poppler-utils missing: run `make system`"
    assert pdftotext, "poppler-utils missing: run `make system`"
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-singlefile", str(pdf), str(tmp_path / "page")], check=True
    )
    assert (tmp_path / "page.png").stat().st_size > 5_000
    text = " ".join(
        subprocess.run(
            [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert "INV-2026-000003" in text
    assert "Orders over the allowance in June 2026" in text
    assert "60.00 USD" in text
    assert "Total 60.00 USD" in text


def test_b5_a_reason_with_a_nul_character_is_refused_by_name(world: World) -> None:
    inv = first(world)
    with world.db.transaction() as conn, pytest.raises(InvalidInput) as err:
        service.void(conn, world.clock, invoice_id=inv.id, reason="oops\x00")
    assert (err.value.code, err.value.field) == ("invalid_character", "reason")
