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
    assert "Tax 20% on 339.00 USD 67.80 USD" in text
    assert "Total 406.80 USD" in text
    assert "June 1, 2026 – June 30, 2026" in text  # the end is exclusive: June ends on the 30th
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
    assert format_rate(Decimal("0.20")) == "20%"
    assert format_rate(Decimal("0.075")) == "7.5%"
    assert format_rate(Decimal("0")) == "0%"
    assert format_rate(Decimal("0.075"), "uk") == "7,5%"
    assert format_period(*JUNE) == "June 1, 2026 – June 30, 2026"
    assert format_period(*JUNE, short=True) == "Jun 1, 2026 – Jun 30, 2026"
    assert format_period(date(2026, 6, 3), date(2026, 6, 4)) == "June 3, 2026"
    assert format_period(*JUNE, "th") == "1 มิถุนายน 2569 – 30 มิถุนายน 2569"
    assert format_period(None, None) == ""


def test_b5_module_examples() -> None:
    assert doctest.testmod(pdf).failed == 0


# W2: the document in each language the business may read it in — its words from the
# catalogs, its figures in the language's CLDR formats, its fonts embedded. (pdftotext reads
# a few shaped Thai and Devanagari clusters back in another order — a pre-base vowel, a
# split sara am — so the strings looked for here are ones it reads back whole.)
IN_EACH_LANGUAGE = {
    "en": ("Invoice", "Bill to", "Subtotal 339.00 USD", "Total 406.80 USD", "July 1, 2026"),
    "ko": ("인보이스", "청구 대상", "소계 339.00 USD", "합계 406.80 USD", "2026년 7월 1일"),
    "th": ("ใบแจ้งหนี้", "เรียกเก็บจาก", "ยอดรวมย่อย 339.00 USD", "1 กรกฎาคม 2569"),
    "hi": ("इनवॉइस", "मुद्रा USD", "उप-योग 339.00 USD", "कुल 406.80 USD", "1 जुलाई 2026"),
    "uk": ("Рахунок", "Платник", "339,00 USD", "406,80 USD", "1 липня 2026"),
}


def _fonts(path: Path) -> list[list[str]]:
    """pdffonts' table: one row per font, its columns split (name … emb sub uni …)."""
    out = subprocess.run(
        [_tool("pdffonts"), str(path)], check=True, capture_output=True, text=True
    ).stdout
    return [row.split() for row in out.splitlines()[2:] if row.strip()]


@pytest.mark.parametrize("lang", sorted(IN_EACH_LANGUAGE))
def test_w2_the_invoice_pdf_in_each_language_with_every_font_embedded(
    tmp_path: Path, lang: str
) -> None:
    text = _pdf_text(b5_invoice(locale=lang), tmp_path)
    for expected in IN_EACH_LANGUAGE[lang]:
        assert expected in text, (lang, expected, text)
    fonts = _fonts(tmp_path / "document.pdf")
    assert fonts
    for row in fonts:
        # columns from the right: emb sub uni object ID
        assert row[-5] == "yes", f"{lang}: font {row[0]} is not embedded"


def test_w2_the_thai_pdf_counts_years_in_the_buddhist_era(tmp_path: Path) -> None:
    text = _pdf_text(b5_invoice(locale="th"), tmp_path)
    assert "วันที่ออก 1 กรกฎาคม 2569" in text  # the issue date, 1 July 2026
    assert "1 มิ.ย. 2569 – 30 มิ.ย. 2569" in text  # a line's period, June 2026
    assert "กรกฎาคม 2026" not in text
    assert "มิ.ย. 2026" not in text


def test_w2_an_explicit_language_overrides_the_documents_own(tmp_path: Path) -> None:
    html = render_html(b5_invoice(locale="th"), "uk")
    assert 'lang="uk"' in html
    assert "Рахунок" in html
    assert "ใบแจ้งหนี้" not in html


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("커피하우스 서울", "Noto-Sans-CJK-KR"),
        ("Кав’ярня «Львів»", "Noto-Sans"),
    ],
)
def test_w2_hangul_and_cyrillic_names_render_with_noto(
    tmp_path: Path, name: str, font: str
) -> None:
    text = _pdf_text(b5_invoice(bill_to=Party(name, "acct-intl")), tmp_path)
    assert name in text
    assert any(font in row[0] for row in _fonts(tmp_path / "document.pdf"))


def test_w2_mixed_scripts_on_one_line_of_an_english_invoice(tmp_path: Path) -> None:
    """A Thai shop name, a Hindi note and a Korean line on one English invoice: every glyph
    found (pdftotext reads each back) and each script's font embedded."""
    line = dataclasses.replace(
        b5_invoice().lines[0], description="Full Suite — ร้านกาแฟสมชาย / सुनील / 서울 / Київ"
    )
    doc = b5_invoice(lines=(line,), bill_to=Party("ร้านกาแฟสมชาย Coffee", "acct-th"))
    text = _pdf_text(doc, tmp_path)
    assert "ร้านกาแฟสมชาย Coffee" in text
    assert "Full Suite — ร้านกาแฟสมชาย / सुनील / 서울 /" in text
    assert "Київ" in text
    names = [row[0].split("+")[-1] for row in _fonts(tmp_path / "document.pdf")]
    for family in ("Noto-Sans-Thai", "Noto-Sans-Devanagari", "Noto-Sans-CJK-KR", "Noto-Sans"):
        assert family in names, (family, names)
