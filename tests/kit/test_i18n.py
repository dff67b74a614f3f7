"""W2: dates as each language writes them; Thai in the Buddhist era (seed 001)."""

from __future__ import annotations

from datetime import date

import pytest

from allot.kit.i18n import format_day, language


@pytest.mark.parametrize(
    ("day", "locale", "written"),
    [
        (date(2026, 5, 25), "th", "25 พฤษภาคม 2569"),  # seed 001: "อัปเดตแล้ว: 25 พฤษภาคม 2569"
        (date(2026, 5, 12), "th_TH", "12 พฤษภาคม 2569"),
        (date(2027, 1, 1), "th-TH", "1 มกราคม 2570"),
        (date(2026, 5, 25), "ko", "2026년 5월 25일"),
        (date(2026, 5, 25), "hi", "25 मई 2026"),
        (date(2026, 5, 25), "uk", "25 травня 2026\u202fр."),
        (date(2026, 5, 25), "en", "May 25, 2026"),
        (date(2026, 5, 25), "fr", "May 25, 2026"),  # not a page language: English
    ],
)
def test_w2_dates_in_each_language(day: date, locale: str, written: str) -> None:
    assert format_day(day, locale) == written


def test_w2_a_locale_names_its_page_language() -> None:
    assert [language(x) for x in ("uk-UA", "th_TH", "KO", None, "", "pt-BR")] == [
        "uk", "th", "ko", "en", "en", "en",
    ]  # fmt: skip
