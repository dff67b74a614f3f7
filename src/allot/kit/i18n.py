"""The languages of the pages, e-mails and documents (W2): their catalogs and formats.

Every string a business reads goes through gettext, from the catalogs in
`src/allot/translations` (the .po files kept in the repo, compiled by `make translations`);
every number, amount and date through the language's CLDR formats (Babel). One place serves
the pages, the invoice PDFs and the e-mails, so a business reads one language everywhere.

Babel knows the Gregorian calendar only; Thai dates are written in the Buddhist era, as seed
001 shows ("25 พฤษภาคม 2569"): the year is 543 more, and the era's name is left out.

    >>> from datetime import date
    >>> format_day(date(2026, 5, 25), "th")
    '25 พฤษภาคม 2569'
    >>> format_day(date(2026, 5, 25), "uk_UA")   # CLDR puts a narrow no-break space before р.
    '25 травня 2026\u202fр.'
    >>> format_day(date(2026, 5, 25), "ko")
    '2026년 5월 25일'
    >>> format_month(date(2026, 6, 1), "th")
    'มิถุนายน 2569'

A document's amounts carry the ISO code, in the language's own digits grouping, so no reader
mistakes one dollar for another; a unit price keeps every digit it was priced with:

    >>> format_amount(Decimal("1234567.89"), "USD", "hi")
    '12,34,567.89 USD'
    >>> format_amount(Decimal("29"), "EUR", "uk")
    '29,00 EUR'
    >>> format_amount(Decimal("0.186"), "USD", "en", exact=True)
    '0.186 USD'
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from babel import Locale
from babel.dates import format_date, get_date_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations

if TYPE_CHECKING:  # Jinja is loaded by what renders, not by what only names a language
    from jinja2 import BaseLoader, Environment

Language = Literal["en", "ko", "th", "hi", "uk"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
BUDDHIST_ERA = 543
TRANSLATIONS = Path(__file__).parents[1] / "translations"
DOMAIN = "messages"


def language(locale: str | None) -> str:
    """The language for a locale ('uk-UA', 'th_TH', 'ko'); English for any other."""
    lang = re.split(r"[-_]", locale or "", maxsplit=1)[0].lower()
    return lang if lang in LANGUAGES else "en"


def N_(message: str) -> str:  # gettext's name for "translated where shown"
    """Mark a string for the catalogs; it is translated where it is shown."""
    return message


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of a language; English needs none. Where the .mo file was not
    built (`make translations`; an install that skipped it), the .po file is compiled in
    memory instead: a missing build step never stops an invoice or an e-mail."""
    if lang == "en":
        return NullTranslations()
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    if (folder / f"{DOMAIN}.mo").exists():
        return Translations.load(TRANSLATIONS, [lang], domain=DOMAIN)
    with open(folder / f"{DOMAIN}.po", "rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(lang: str) -> Callable[..., str]:
    """`_(message, **values)` in a language, as the templates' newstyle gettext does."""
    catalog = translations(language(lang))

    def _(message: str, **values: object) -> str:
        text = catalog.gettext(message)
        return text % values if values else text

    return _


def environment(loader: BaseLoader, lang: str, *, strict: bool = False) -> Environment:
    """A Jinja environment speaking `lang`: `_()` in its templates reads the catalog.

    It holds templates and translations, never data; callers build one per language once."""
    from jinja2 import Environment, StrictUndefined, Undefined, select_autoescape

    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined if strict else Undefined,
    )
    env.install_gettext_translations(translations(language(lang)), newstyle=True)  # type: ignore[attr-defined]
    return env


Length = Literal["full", "long", "medium", "short"]


def _thai(pattern: str, day: date | datetime) -> str:
    """A Thai CLDR pattern with its year in the Buddhist era and no era name."""
    pattern = " ".join(pattern.replace("G", "").split())
    return re.sub(r"y+", f"'{day.year + BUDDHIST_ERA}'", pattern)


def format_day(day: date | datetime, locale: str | None, *, length: Length = "long") -> str:
    lang = language(locale)
    if lang == "th":
        return format_date(day, _thai(get_date_format(length, locale="th").pattern, day), "th")
    return format_date(day, length, locale=lang)


def format_month(day: date, locale: str | None) -> str:
    """The month a day falls in, spelt out: 'June 2026', '2026년 6월', 'มิถุนายน 2569'."""
    lang = language(locale)
    pattern = Locale.parse(lang).datetime_skeletons["yMMMM"].pattern
    return format_date(day, _thai(pattern, day) if lang == "th" else pattern, locale=lang)


def format_number(number: int | Decimal, locale: str | None) -> str:
    return format_decimal(number, locale=language(locale))


def format_rate(rate: Decimal, locale: str | None) -> str:
    """A share as a percentage, every digit kept: Decimal('0.075') → '7.5%' ('7,5%' in uk)."""
    return format_percent(rate, locale=language(locale), decimal_quantization=False)


@cache
def _amount_pattern(lang: str) -> str:
    """The language's currency pattern without its symbol: '#,##,##0.00' (hi)."""
    pattern: str = Locale.parse(lang).currency_formats["standard"].pattern
    return pattern.split(";")[0].replace("¤", "").strip(" \u00a0\u202f")


def format_amount(
    amount: Decimal, currency: str, locale: str | None, *, exact: bool = False
) -> str:
    """An amount as a document prints it: the language's digits, the currency's decimals
    (every further digit when `exact`), then the ISO code."""
    lang = language(locale)
    digits = format_currency(
        amount, currency, format=_amount_pattern(lang), locale=lang, currency_digits=True,
        decimal_quantization=not exact,
    )  # fmt: skip
    return f"{digits} {currency}"
