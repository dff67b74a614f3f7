"""Templates → HTML responses, in the page's language (W2).

Every string of a template goes through `_()` (gettext, from the catalogs compiled by
`make translations`), and every number, amount and date through the language's CLDR formats
(Babel; Thai dates in the Buddhist era, `allot.kit.i18n`). One Jinja environment per
language, built once: it holds templates and translations, never data.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from allot.core.money import Money
from allot.kit.i18n import LANGUAGES, format_day, language

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
TRANSLATIONS = HERE / "translations"
DOMAIN = "messages"


def N_(message: str) -> str:  # gettext's name for "translated where shown"
    """Mark a string for the catalogs; the page translates it where it shows it."""
    return message


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of a language; English needs none."""
    if lang == "en":
        return NullTranslations()
    if not (TRANSLATIONS / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").exists():
        raise RuntimeError(f"the {lang} catalog is not compiled: run `make translations`")
    return Translations.load(TRANSLATIONS, [lang], domain=DOMAIN)


@cache
def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


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
            day=lambda d: day(d, lang),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def money(amount: Money, lang: str) -> str:
    """CLDR's currency format: '$279.00' (en), '29,00 EUR' (uk), '฿1,000.00' (th)."""
    return format_currency(amount.amount, amount.currency, locale=lang)


def day(when: date | datetime | str, lang: str) -> str:
    return format_day(date.fromisoformat(when) if isinstance(when, str) else when, lang)
