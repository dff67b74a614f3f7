"""W2: every e-mail in every language, as plain text and as HTML, from one pair of templates.

The figures arrive formatted for the language; the words come from the catalogs (a missing
one fails tests/web/test_translations.py). Here: each letter in each language says its
figures and link in both parts, the HTML escapes what a business or a partner typed while
the plain text keeps it as typed, and a language allot does not speak falls back to English.
"""

from __future__ import annotations

from typing import Any

import pytest

from allot.kit.i18n import LANGUAGES
from allot.notify.letters import compose

LETTERS: dict[str, dict[str, Any]] = {
    "activation_link": {
        "partner": "Brew & Co", "label": "Code #1", "package": [("Card operations", "1,800")],
        "starts": None, "ends": "July 31, 2026 (UTC)", "url": "https://app.example/a?code=AB12",
        "code": "AB12-CD34", "note": "<b>Welcome</b>",
    },
    "usage_alert": {
        "name": "Cafe", "metric": "card operations", "by_code": False, "month": "March 2026",
        "percent": "80%", "used": "80", "granted": "100",
    },
    "payment_failed": {
        "name": "Cafe", "number": "INV-2026-000001", "amount": "29.00 EUR",
        "decline": None, "url": "https://app.example/billing#payment",
    },
    "payment_action": {
        "name": "Cafe", "number": "INV-2026-000001", "amount": "29.00 EUR",
        "url": "https://app.example/billing/confirm?payment=7",
    },
    "sign_in_link": {"name": "Cafe", "url": "https://app.example/portal/tok", "minutes": 15},
}  # fmt: skip

# What each letter says in English (its subject), to tell it from its translations
ENGLISH_SUBJECTS = {
    "activation_link": "Brew & Co sent you an Access Code",
    "usage_alert": "80% of the card operations included by your plan used (March 2026)",
    "payment_failed": "Payment failed: invoice INV-2026-000001 (29.00 EUR)",
    "payment_action": "Confirm your payment of 29.00 EUR for invoice INV-2026-000001",
    "sign_in_link": "Your link to Cafe's billing page",
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", sorted(LETTERS))
def test_w2_each_letter_in_each_language_in_two_parts(name: str, lang: str) -> None:
    values = LETTERS[name]
    letter = compose(name, lang, **values)
    assert letter.subject
    assert "\n" not in letter.subject
    assert (letter.subject == ENGLISH_SUBJECTS[name]) == (lang == "en")
    assert letter.text.endswith("\n")
    assert "\n\n\n" not in letter.text
    assert letter.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{lang}">' in letter.html
    for key in ("url", "number", "amount", "month", "used", "granted", "code", "minutes"):
        if key in values:
            shown = str(values[key])
            assert shown in letter.text, (key, letter.text)
            assert shown in letter.html, (key, letter.html)
    if "url" in values:
        assert f'href="{values["url"]}"' in letter.html


def test_w2_the_html_escapes_what_people_typed_and_the_text_keeps_it() -> None:
    letter = compose("activation_link", "en", **LETTERS["activation_link"])
    assert "<b>Welcome</b>" in letter.text
    assert "Brew & Co has sent you" in letter.text
    assert "&lt;b&gt;Welcome&lt;/b&gt;" in letter.html
    assert "Brew &amp; Co has sent you" in letter.html
    assert "<b>" not in letter.html


def test_w2_the_access_code_letter_reads_as_it_did() -> None:
    text = compose("activation_link", "en", **LETTERS["activation_link"]).text
    assert text == (
        "Hello,\n\nBrew & Co has sent you an Access Code (Code #1). It gives your business:\n\n"
        "  - Card operations: 1,800 per month\n\n"
        "It is valid until July 31, 2026 (UTC), full again at the start of every month.\n\n"
        "Activate it here:\nhttps://app.example/a?code=AB12\n\n"
        "Or type the code on your billing page: AB12-CD34\n\n"
        "A note from Brew & Co:\n<b>Welcome</b>\n\n"
        "The code can be claimed once, by one business. If you did not expect it, ignore this"
        " e-mail; nothing happens until the code is claimed.\n"
    )


def test_w2_a_failed_payment_says_why_in_the_accounts_language() -> None:
    declined = {**LETTERS["payment_failed"], "decline": "картку відхилено"}
    text = compose("payment_failed", "uk", **declined).text
    assert (
        "нам не вдалося стягнути 29.00 EUR за рахунком INV-2026-000001: картку відхилено." in text
    )
    none = compose("payment_failed", "en", **LETTERS["payment_failed"]).text
    assert "there is no card on file" in none
    assert "Update my payment method: https://app.example/billing#payment" in none


def test_w2_a_language_allot_does_not_speak_is_english() -> None:
    assert (
        compose("sign_in_link", "de-DE", **LETTERS["sign_in_link"]).subject
        == (ENGLISH_SUBJECTS["sign_in_link"])
    )
