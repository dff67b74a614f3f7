"""W2: dates as each language writes them; Thai in the Buddhist era (seed 001)."""

from __future__ import annotations

import doctest
import shutil
from datetime import date
from pathlib import Path

import pytest

from allot.kit import i18n
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


def test_w2_a_catalog_never_compiled_is_read_from_its_po_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An install that skipped `make translations` still writes Thai invoices and e-mails."""
    copy = tmp_path / "translations"
    shutil.copytree(i18n.TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "TRANSLATIONS", copy)
    i18n.translations.cache_clear()
    try:
        assert not list(copy.rglob("*.mo"))
        assert i18n.gettext("th")("Invoice") == "ใบแจ้งหนี้"
        assert i18n.gettext("uk")("Tax %(rate)s", rate="20%") == "Податок 20%"
    finally:
        i18n.translations.cache_clear()


def test_w2_module_examples() -> None:
    assert doctest.testmod(i18n).failed == 0
