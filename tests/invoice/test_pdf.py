"""B5: an invoice or credit note rendered to HTML and PDF, and read back.

The PDF is turned into a PNG (pdftoppm) and into text (pdftotext) by poppler,
which `make system` installs with the Noto fonts; a missing tool fails here
rather than skipping, so a machine set up by hand cannot hide a gap.
"""

from __future__ import annotations

import dataclasses
import doctest
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allot.invoice import pdf
from allot.invoice.document import Document, DocumentLine, Party, TaxLine
from allot.invoice.pdf import (
    format_money,
    format_period,
    format_rate,
    format_unit_price,
    render_html,
    render_pdf,
)

JUNE = (date(2026, 6, 1), date(2026, 7, 1))  # half-open, as stored


def b5_invoice(**changes: Any) -> Document:
    """The seed's June invoice: 279.00 plan + 60.00 overage, 20 % tax, 406.80 USD."""
    doc = Document(
        kind="invoice",
        number="INV-2026-000001",
        state="finalized",
        issued_on=date(2026, 7, 1),
        seller=Party("Allot Demo Ltd", "partner-demo", ("12 Market Street", "London EC1A 1AA")),
        bill_to=Party("Demo Coffee Roasters", "demo-coffee", ("4 Bean Lane", "Bristol")),
        currency="USD",
        lines=(
            DocumentLine(
                description="Full Suite Business — 2026-06",
                quantity=1,
                unit_price=Decimal("279.00"),
                amount_minor=27900,
                tax_rate=Decimal("0.20"),
                period_start=JUNE[0],
                period_end=JUNE[1],
            ),
            DocumentLine(
                description="Overage: 300 orders × 0.20",
                quantity=300,
                unit_price=Decimal("0.20"),
                amount_minor=6000,
                tax_rate=Decimal("0.20"),
                period_start=JUNE[0],
                period_end=JUNE[1],
            ),
        ),
        subtotal_minor=33900,
        taxes=(TaxLine(rate=Decimal("0.20"), base_minor=33900, tax_minor=6780),),
        total_minor=40680,
        rounding="half_up per line",
        period_start=JUNE[0],
        period_end=JUNE[1],
        notes=("Payment due within 14 days.",),
    )
    return dataclasses.replace(doc, **changes)


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: run `make system` (Debian poppler-utils)"
    return path


def _pdf_text(doc: Document, tmp_path: Path) -> str:
    """pdftotext -layout of the rendered PDF, whitespace collapsed so columns don't matter."""
    target = tmp_path / "document.pdf"
    target.write_bytes(render_pdf(doc))
    out = subprocess.run(
        [_tool("pdftotext"), "-layout", str(target), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return " ".join(out.split())


def test_b5_invoice_pdf_renders_to_an_a4_page_image(tmp_path: Path) -> None:
    data = render_pdf(b5_invoice())
    assert data.startswith(b"%PDF-")
    target = tmp_path / "invoice.pdf"
    target.write_bytes(data)

    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "60", "-singlefile", str(target), str(tmp_path / "p")],
        check=True,
        capture_output=True,
    )
    png = (tmp_path / "p.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    # A4 is 210 × 297 mm: 496.1 × 701.6 px at 60 dpi, which pdftoppm rounds up.
    assert (width, height) == (497, 702)
    assert len(png) > 10_000  # text and rules on it, not a blank page


def test_b5_invoice_pdf_text_has_number_lines_and_total(tmp_path: Path) -> None:
    text = _pdf_text(b5_invoice(), tmp_path)
    assert "Invoice" in text
    assert "INV-2026-000001" in text
    assert "Full Suite Business — 2026-06" in text
    assert "Overage: 300 orders × 0.20" in text
    assert "279.00 USD" in text
    assert "60.00 USD" in text
    assert "Subtotal 339.00 USD" in text
    assert "Tax 20 % on 339.00 USD 67.80 USD" in text
    assert "Total 406.80 USD" in text
    assert "1 June 2026 – 30 June 2026" in text  # the end is exclusive: June ends on the 30th
    assert "half_up per line" in text
    assert "Payment due within 14 days." in text


def test_b5_draft_shows_draft_instead_of_a_number(tmp_path: Path) -> None:
    text = _pdf_text(b5_invoice(number=None, state="draft"), tmp_path)
    assert "Number DRAFT" in text
    assert "INV-" not in text


def test_b5_credit_note_names_the_invoice_it_corrects(tmp_path: Path) -> None:
    credit = b5_invoice(
        kind="credit_note",
        number="CN-2026-000001",
        state="issued",
        corrects="INV-2026-000001",
        lines=(b5_invoice().lines[1],),
        subtotal_minor=6000,
        taxes=(TaxLine(rate=Decimal("0.20"), base_minor=6000, tax_minor=1200),),
        total_minor=7200,
    )
    text = _pdf_text(credit, tmp_path)
    assert "Credit note" in text
    assert "CN-2026-000001" in text
    assert "corrects invoice INV-2026-000001" in text
    assert "Total 72.00 USD" in text


def test_b5_html_escapes_what_users_typed() -> None:
    line = dataclasses.replace(
        b5_invoice().lines[0], description='<script>alert("x")</script> & more'
    )
    html = render_html(b5_invoice(lines=(line,), bill_to=Party("<b>Evil</b> Inc", "evil")))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    assert "&lt;b&gt;Evil&lt;/b&gt; Inc" in html


def test_b5_html_is_self_contained() -> None:
    html = render_html(b5_invoice())
    assert "http://" not in html
    assert "https://" not in html
    assert "url(" not in html
    assert "<link" not in html


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("ร้านกาแฟสมชาย", "Noto-Sans-Thai"),
        ("सुनील कॉफ़ी हाउस", "Noto-Sans-Devanagari"),
    ],
)
def test_b5_thai_and_hindi_party_names_render_with_noto(
    tmp_path: Path, name: str, font: str
) -> None:
    doc = b5_invoice(bill_to=Party(name, "acct-intl", ("กรุงเทพมหานคร", "नई दिल्ली")))
    text = _pdf_text(doc, tmp_path)
    assert name in text
    fonts = subprocess.run(
        [_tool("pdffonts"), str(tmp_path / "document.pdf")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert font in fonts, f"{font} not embedded: are fonts-noto-core installed? {fonts}"


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (6000, "USD", "60.00 USD"),
        (40680, "USD", "406.80 USD"),
        (0, "EUR", "0.00 EUR"),
        (123456789, "USD", "1,234,567.89 USD"),
        (-7200, "USD", "-72.00 USD"),
        (1500, "JPY", "1,500 JPY"),
        (1234, "KWD", "1.234 KWD"),
    ],
)
def test_b5_money_is_formatted_from_minor_units(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown


@pytest.mark.parametrize(
    ("price", "currency", "shown"),
    [
        (Decimal("0.20"), "USD", "0.20 USD"),
        (Decimal("0.2"), "USD", "0.20 USD"),
        (Decimal("0.186"), "USD", "0.186 USD"),
        (Decimal("0.18600"), "USD", "0.186 USD"),
        (Decimal("279"), "USD", "279.00 USD"),
        (Decimal("1E+3"), "USD", "1,000.00 USD"),
        (Decimal("0.5"), "JPY", "0.5 JPY"),
        (Decimal("12"), "JPY", "12 JPY"),
    ],
)
def test_b5_unit_price_is_exact(price: Decimal, currency: str, shown: str) -> None:
    assert format_unit_price(price, currency) == shown


def test_b5_rates_and_periods() -> None:
    assert format_rate(Decimal("0.20")) == "20 %"
    assert format_rate(Decimal("0.075")) == "7.5 %"
    assert format_rate(Decimal("0")) == "0 %"
    assert format_period(*JUNE) == "1 June 2026 – 30 June 2026"
    assert format_period(*JUNE, short=True) == "1 Jun 2026 – 30 Jun 2026"
    assert format_period(date(2026, 6, 3), date(2026, 6, 4)) == "3 June 2026"
    assert format_period(None, None) == ""


def test_b5_module_examples() -> None:
    assert doctest.testmod(pdf).failed == 0
