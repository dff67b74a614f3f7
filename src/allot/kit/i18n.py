"""The languages of the pages, e-mails and documents (W2), and dates as each writes them.

Babel knows the Gregorian calendar only; Thai dates are written in the Buddhist era, as seed
001 shows ("25 พฤษภาคม 2569"): the year is 543 more, and the era's name is left out.

    >>> from datetime import date
    >>> format_day(date(2026, 5, 25), "th")
    '25 พฤษภาคม 2569'
    >>> format_day(date(2026, 5, 25), "uk_UA")   # CLDR puts a narrow no-break space before р.
    '25 травня 2026\u202fр.'
    >>> format_day(date(2026, 5, 25), "ko")
    '2026년 5월 25일'
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from babel.dates import format_date, get_date_format

LANGUAGES = ("en", "ko", "th", "hi", "uk")
BUDDHIST_ERA = 543


def language(locale: str | None) -> str:
    """The page language for a locale ('uk-UA', 'th_TH', 'ko'); English for any other."""
    lang = re.split(r"[-_]", locale or "", maxsplit=1)[0].lower()
    return lang if lang in LANGUAGES else "en"


Length = Literal["full", "long", "medium", "short"]


def format_day(day: date | datetime, locale: str | None, *, length: Length = "long") -> str:
    lang = language(locale)
    if lang == "th":
        pattern = get_date_format(length, locale="th").pattern.replace("G", "")
        pattern = re.sub(r"y+", f"'{day.year + BUDDHIST_ERA}'", " ".join(pattern.split()))
        return format_date(day, pattern, locale="th")
    return format_date(day, length, locale=lang)
