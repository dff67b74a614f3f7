"""W2: every string of the pages, PDFs and e-mails in every language, and their own formats.

The catalogs are the .po files in `src/allot/translations` (compiled by `make
translations`); the template `messages.pot` is what the pages and their Python mark with
`_()` / `N_()` now. A string added to a page and not translated fails here, naming it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from allot.kit.i18n import LANGUAGES, TRANSLATIONS, translations

ROOT = Path(__file__).parents[2]
PLACEHOLDER = r"%\(\w+\)s"


def marked() -> set[str]:
    """What the pages, PDFs and e-mails mark for translation today, read with `babel.cfg`
    as `make messages` extracts it."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        methods, options = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    found = extract_from_dir(
        ROOT, method_map=methods, options_map=options, keywords={"_": None, "N_": None}
    )
    return {m for _file, _line, m, _comments, _context in found if isinstance(m, str) and m}


def test_w2_the_template_holds_every_string_the_pages_mark() -> None:
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert marked() - template == set(), "run `make messages`, then translate"
    assert template - marked() == set(), "strings no page uses any more: run `make messages`"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_w2_every_language_translates_every_string_with_its_placeholders(lang: str) -> None:
    import re

    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    messages = {m.id: m for m in catalog if m.id}
    missing = sorted(marked() - messages.keys())
    assert missing == [], f"{lang} misses {missing}"
    for m in messages.values():
        assert m.string, f"{lang}: {m.id!r} is not translated"
        assert not m.fuzzy, f"{lang}: {m.id!r} is fuzzy"
        assert sorted(re.findall(PLACEHOLDER, str(m.string))) == sorted(
            re.findall(PLACEHOLDER, str(m.id))
        ), f"{lang}: {m.id!r} changes its placeholders"
    compiled = translations(lang)
    assert compiled.gettext("Billing & invoices") == messages["Billing & invoices"].string
