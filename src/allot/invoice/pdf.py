"""Render a `Document` to HTML and to PDF (WeasyPrint, Noto fonts), in its language (W2).

Rendering never computes money: every figure on a `Document` is already rounded and stored.
This module only *formats*, with the CLDR formats of the document's language
(`allot.kit.i18n`; Thai dates in the Buddhist era) and the catalogs' words:

    >>> format_money(6000, "USD")
    '60.00 USD'
    >>> format_money(-123456, "JPY")
    '-123,456 JPY'
    >>> format_money(2900, "EUR", "uk")
    '29,00 EUR'
    >>> format_unit_price(Decimal("0.186"), "USD")   # exact, as priced: never rounded here
    '0.186 USD'
    >>> format_rate(Decimal("0.075"))
    '7.5%'
    >>> format_period(date(2026, 6, 1), date(2026, 7, 1), "th")
    '1 มิถุนายน 2569 – 30 มิถุนายน 2569'

The PDF is made offline: the template carries its CSS inline and names no URL,
and WeasyPrint is given a fetcher that refuses every protocol, so a document
can never make the renderer reach the network or the file system.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader

from allot.core.invoicing import rounding_rule
from allot.core.money import exponent
from allot.invoice.document import Document
from allot.kit import i18n
from allot.kit.i18n import N_, environment, format_amount, format_day, format_number, gettext
from allot.kit.i18n import language as language_of

TITLES = {"invoice": N_("Invoice"), "credit_note": N_("Credit note")}
STATES = {
    "draft": N_("Draft"),
    "finalized": N_("Finalized"),
    "paid": N_("Paid"),
    "void": N_("Void"),
    "uncollectible": N_("Uncollectible"),
    "issued": N_("Issued"),
}


def format_money(minor: int, currency: str, lang: str = "en") -> str:
    """Integer minor units → '1,234.56 USD', with the currency's ISO 4217 exponent."""
    return format_amount(Decimal(minor).scaleb(-exponent(currency)), currency, lang)


def format_unit_price(price: Decimal, currency: str, lang: str = "en") -> str:
    """An exact price: at least the currency's decimals, and every significant digit beyond."""
    return format_amount(price, currency, lang, exact=True)


def format_rate(rate: Decimal, lang: str = "en") -> str:
    """Decimal('0.20') → '20%'."""
    return i18n.format_rate(rate, lang)


def format_date(day: date, lang: str = "en", *, short: bool = False) -> str:
    """The day spelt out, so no reader mistakes day and month."""
    return format_day(day, lang, length="medium" if short else "long")


def format_period(
    start: date | None, end: date | None, lang: str = "en", *, short: bool = False
) -> str:
    """A half-open period [start, end) shown with its last day included, as people read it."""
    if start is None and end is None:
        return ""
    last = end - timedelta(days=1) if end is not None else None
    if start is None or last is None or last <= start:
        day = start if start is not None else last
        assert day is not None
        return format_date(day, lang, short=short)
    return f"{format_date(start, lang, short=short)} – {format_date(last, lang, short=short)}"


def format_rounding(rule: str, lang: str = "en") -> str:
    """The rounding rule a document was issued under, in words of its language."""
    mode = rule.partition(":")[0]
    if rule != rounding_rule(mode):
        return rule  # a rule worded before this one: shown as it was kept
    _ = gettext(lang)
    return _(
        "%(mode)s: each line to the minor unit, then tax per rate on the rounded lines",
        mode=mode,
    )


@cache
def _environment(lang: str) -> Environment:
    env = environment(PackageLoader("allot.invoice", "templates"), lang, strict=True)
    env.filters["rate"] = lambda rate: format_rate(rate, lang)
    env.filters["date"] = lambda day: format_date(day, lang)
    env.globals["period"] = lambda start, end, short=False: format_period(
        start, end, lang, short=short
    )
    return env


def render_html(doc: Document, lang: str | None = None) -> str:
    """The document as one self-contained HTML page (CSS inline, no external resource), in
    `lang` — by default the language it was issued in."""
    lang = language_of(lang or doc.locale)
    currency = doc.currency
    _ = gettext(lang)
    return (
        _environment(lang)
        .get_template("document.html")
        .render(
            doc=doc,
            lang=lang,
            title=_(TITLES.get(doc.kind, N_("Invoice"))),
            number=doc.number or _("DRAFT"),
            state=_(STATES[doc.state]) if doc.state in STATES else doc.state,
            money=lambda minor: format_money(minor, currency, lang),
            unit_price=lambda price: format_unit_price(price, currency, lang),
            quantity=lambda n: format_number(n, lang),
            minor_unit=format_unit_price(Decimal(1).scaleb(-exponent(currency)), currency, lang),
            rounding=format_rounding(doc.rounding, lang),
        )
    )


def render_pdf(doc: Document, lang: str | None = None) -> bytes:
    """The document as an A4 PDF; fonts come from the system (Debian's Noto packages)."""
    # Imported here: WeasyPrint loads Pango and the system fonts when imported,
    # which only the callers that make PDFs should pay for.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    refuse_all = URLFetcher(allowed_protocols=())
    pdf = HTML(string=render_html(doc, lang), url_fetcher=refuse_all).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
