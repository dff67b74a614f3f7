"""W2 (B5, B8): an account's invoices and credit notes in its language, over HTTP.

A Bangkok shop that reads Thai gets Thai invoices: their headings from the catalogs, their
lines written in Thai when they were issued, their dates in the Buddhist era. The language is
the account's when the document was issued: changing it later changes the next documents,
never a finalized one; `?lang=` prints a document's headings in another language.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from allot.apikey.service import create_key
from allot.app import create_app
from allot.kit.simclock import StoredClock
from allot_client import AllotError, Client
from tests.e2e.conftest import Api
from tests.e2e.live import serve

BANGKOK = "Asia/Bangkok"


@pytest.fixture
def operator(api: Api) -> Iterator[tuple[Api, str, Client]]:
    app = create_app(api.db, StoredClock(api.db, system=api.clock), rate_limit="off")
    with serve(app) as url, Client(url, api.keys["operator"]) as op:
        yield api, url, op


def text_of(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: run `make system` (Debian poppler-utils)"
    target = tmp_path / "doc.pdf"
    target.write_bytes(pdf)
    out = subprocess.run([tool, "-layout", str(target), "-"], check=True, capture_output=True)
    return " ".join(out.stdout.decode().split())


def test_w2_a_thai_shop_gets_its_invoice_in_thai_and_keeps_it_so(
    operator: tuple[Api, str, Client], tmp_path: Path
) -> None:
    _api, _url, op = operator
    op.create_account("somchai", name="ร้านกาแฟสมชาย", timezone=BANGKOK, currency="USD", locale="th")
    op.subscribe("somchai", "loyalty-business")
    op.run_billing()
    (invoice,) = op.invoices("somchai").data
    thai = text_of(op.invoice_pdf(invoice.id), tmp_path)
    assert "ใบแจ้งหนี้" in thai  # "Invoice"
    assert "ร้านกาแฟสมชาย" in thai
    assert "2569" in thai  # 2026 in the Buddhist era
    assert "179.00 USD" in thai

    # The account now reads English: the finalized invoice still reads as it was issued.
    op.update_account("somchai", locale="en")
    assert text_of(op.invoice_pdf(invoice.id), tmp_path) == thai
    english = text_of(op.invoice_pdf(invoice.id, lang="en"), tmp_path)
    assert "Invoice" in english
    assert "Bill to" in english
    assert "ใบแจ้งหนี้" not in english

    # A credit note corrects the invoice's lines, written in Thai: it is Thai too.
    note = op.credit_note(invoice.id, "ขอโทษสำหรับการหยุดให้บริการ", lines={0: "10.00"})
    credit = text_of(op.credit_note_pdf(note.number), tmp_path)
    assert "ใบลดหนี้" in credit  # "Credit note"
    assert invoice.number is not None
    assert invoice.number in credit
    assert "Credit note" not in credit
    ukrainian = text_of(op.credit_note_pdf(note.number, lang="uk"), tmp_path)
    assert "Кредит-нота" in ukrainian
    assert "10,00 USD" in ukrainian


def test_w2_a_document_in_an_unknown_language_or_of_another_account_is_refused(
    operator: tuple[Api, str, Client],
) -> None:
    api, url, op = operator
    for shop in ("somchai", "olena"):
        op.create_account(shop, name=shop.title(), timezone=BANGKOK, currency="USD")
        op.subscribe(shop, "loyalty-business")
    op.run_billing()
    (theirs,) = op.invoices("olena").data
    note = op.credit_note(theirs.id, "goodwill", lines={0: "1.00"})
    with pytest.raises(AllotError) as err:
        op.invoice_pdf(theirs.id, lang="xx")
    assert (err.value.status, err.value.field) == (422, "lang")
    with api.db.transaction() as conn:
        secret = create_key(conn, api.clock, role="account", subject="somchai")[1]
    with Client(url, secret) as somchai:
        with pytest.raises(AllotError) as err:
            somchai.invoice_pdf(theirs.id)
        assert (err.value.status, err.value.code) == (404, "invoice_not_found")
        with pytest.raises(AllotError) as err:
            somchai.credit_note_pdf(note.number)
        assert (err.value.status, err.value.code) == (404, "credit_note_not_found")
        with pytest.raises(AllotError) as err:
            somchai.credit_note_pdf("CN-2099-000001")
        assert (err.value.status, err.value.code) == (404, "credit_note_not_found")


def test_w2_the_lines_name_the_plan_as_the_catalog_does_in_the_accounts_language(
    operator: tuple[Api, str, Client], tmp_path: Path
) -> None:
    _api, _url, op = operator
    op.create_account("kafe", name="Кав’ярня", timezone="Europe/Kyiv", currency="EUR", locale="uk")
    op.subscribe("kafe", "monthly")
    op.run_billing()
    (invoice,) = op.invoices("kafe").data
    (line,) = op.invoice(invoice.id).lines
    assert line.description == "Щомісячний"  # stamp-card's "Monthly", as its catalog names it
    text = text_of(op.invoice_pdf(invoice.id), tmp_path)
    assert "Щомісячний" in text
    assert "29,00 EUR" in text
