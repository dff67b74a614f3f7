"""Render a `Document` to HTML and to PDF (WeasyPrint, Noto fonts).

Rendering never computes money: every figure on a `Document` is already
rounded and stored. This module only *formats*, in English for now:

    >>> format_money(6000, "USD")
    '60.00 USD'
    >>> format_money(-123456, "JPY")
    '-123,456 JPY'
    >>> format_unit_price(Decimal("0.186"), "USD")   # exact, as priced: never rounded here
    '0.186 USD'
    >>> format_rate(Decimal("0.075"))
    '7.5 %'

The PDF is made offline: the template carries its CSS inline and names no URL,
and WeasyPrint is given a fetcher that refuses every protocol, so a document
can never make the renderer reach the network or the file system.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from allot.core.money import exponent
from allot.invoice.document import Document

TITLES = {"invoice": "Invoice", "credit_note": "Credit note"}

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_money(minor: int, currency: str) -> str:
    """Integer minor units → '1,234.56 USD', with the currency's ISO 4217 exponent."""
    places = exponent(currency)
    amount = Decimal(minor).scaleb(-places)
    return f"{amount:,.{places}f} {currency}"


def format_unit_price(price: Decimal, currency: str) -> str:
    """An exact price: at least the currency's decimals, and every significant digit beyond."""
    digits = price.normalize().as_tuple().exponent
    assert isinstance(digits, int)  # finite Decimal
    places = max(exponent(currency), -digits)
    return f"{price:,.{places}f} {currency}"


def format_rate(rate: Decimal) -> str:
    """Decimal('0.20') → '20 %'."""
    return f"{(rate * 100).normalize():f} %"


def format_date(day: date, *, short: bool = False) -> str:
    """'1 June 2026' (or '1 Jun 2026'); spelt out so no reader mistakes day and month."""
    month = _MONTHS[day.month - 1]
    return f"{day.day} {month[:3] if short else month} {day.year}"


def format_period(start: date | None, end: date | None, *, short: bool = False) -> str:
    """A half-open period [start, end) shown with its last day included, as people read it."""
    if start is None and end is None:
        return ""
    last = end - timedelta(days=1) if end is not None else None
    if start is None or last is None or last <= start:
        day = start if start is not None else last
        assert day is not None
        return format_date(day, short=short)
    return f"{format_date(start, short=short)} – {format_date(last, short=short)}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("allot.invoice", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rate"] = format_rate
    env.filters["date"] = format_date
    env.globals["period"] = format_period
    return env


_ENV = _environment()


def render_html(doc: Document) -> str:
    """The document as one self-contained HTML page (CSS inline, no external resource)."""
    currency = doc.currency
    return _ENV.get_template("document.html").render(
        doc=doc,
        title=TITLES.get(doc.kind, doc.kind.replace("_", " ").capitalize()),
        number=doc.number or "DRAFT",
        state=doc.state.replace("_", " ").capitalize(),
        money=lambda minor: format_money(minor, currency),
        unit_price=lambda price: format_unit_price(price, currency),
        minor_unit=format_unit_price(Decimal(1).scaleb(-exponent(currency)), currency),
    )


def render_pdf(doc: Document) -> bytes:
    """The document as an A4 PDF; fonts come from the system (Debian's Noto packages)."""
    # Imported here: WeasyPrint loads Pango and the system fonts when imported,
    # which only the callers that make PDFs should pay for.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    refuse_all = URLFetcher(allowed_protocols=())
    pdf = HTML(string=render_html(doc), url_fetcher=refuse_all).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
