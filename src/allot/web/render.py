"""Templates → HTML responses. Every string of a template goes through `_()` (gettext) and
every number, amount and date through the locale's CLDR formats (Babel)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from allot.core.money import Money

TEMPLATES = Path(__file__).parent / "templates"


@cache  # templates and filters only: nothing that depends on data
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    locale = _locale(context)
    html = (
        _environment()
        .get_template(template)
        .render(
            request=request,
            locale=locale,
            money=lambda m: money(m, locale),
            amount=lambda minor, currency: money(Money.from_minor(minor, currency), locale),
            number=lambda n: format_decimal(n, locale=locale),
            day=lambda d: day(d, locale),
            percent=percent,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def _locale(context: dict[str, Any]) -> str:
    page = context.get("page")
    return getattr(getattr(page, "account", None), "locale", None) or "en"


def money(amount: Money, locale: str) -> str:
    """CLDR's currency format: '$279.00', '29,00 €' (uk), '฿1,000.00' (th)."""
    return format_currency(amount.amount, amount.currency, locale=locale)


def day(when: date | datetime, locale: str) -> str:
    return format_date(when, format="long", locale=locale)


def percent(used: int, of: int | None) -> int:
    """How full a bar is, 0-100 (an unlimited or empty allowance draws no bar)."""
    if not of:
        return 0
    return min(100, int(Decimal(used) * 100 / Decimal(of)))
