"""Templates → HTML responses, in the page's language (W2).

Every string of a template goes through `_()` and every number, amount and date through the
language's CLDR formats: both from `allot.kit.i18n`, which the PDFs and e-mails share.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_currency, format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader

from allot.core.money import Money
from allot.kit.i18n import LANGUAGES, environment, format_day, format_rate, language

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment(lang: str) -> Environment:
    return environment(FileSystemLoader(TEMPLATES), lang)


def render(
    request: Request, template: str, *, lang: str, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = language(lang)
    html = (
        _environment(lang)
        .get_template(template)
        .render(
            request=request,
            lang=lang,
            languages=LANGUAGES,
            money=lambda m: money(m, lang),
            amount=lambda minor, currency: money(Money.from_minor(minor, currency), lang),
            money_of=lambda value, currency: money(Money.of(value, currency), lang),
            number=lambda n: format_decimal(n, locale=lang),
            rate=lambda r: format_rate(r, lang),
            day=lambda d: day(d, lang),
            last_day=lambda end: day(end - timedelta(days=1), lang),  # of a period [start, end)
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def money(amount: Money, lang: str) -> str:
    """CLDR's currency format: '$279.00' (en), '29,00 EUR' (uk), '฿1,000.00' (th)."""
    return format_currency(amount.amount, amount.currency, locale=lang)


def day(when: date | datetime | str, lang: str) -> str:
    return format_day(date.fromisoformat(when) if isinstance(when, str) else when, lang)
