"""W2: plan, metric, product-line and feature names in the languages beside English.

A catalog file gives them under `translations:`; each is checked like any field (its file,
line and path named), stored with the catalog, replaced whole when it is loaded again, and
never part of a plan's terms: a better word makes no new version.
"""

from __future__ import annotations

from allot.catalog.loader import parse_catalog_with_extras
from allot.catalog.service import load_catalog, names
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from tests.catalog.test_loader import GOOD, line_of, problems

THAI = """\
translations:
  th:
    metrics: {card_operations: การใช้งานบัตร}
    plans: {free: ฟรี, monthly: รายเดือน}
    product_lines: {cards: บัตรสะสมแต้ม}
    features: {wallet_passes: บัตรใน Wallet}
"""


def load(db: Database, clock: FixedClock, text: str) -> None:
    loaded = parse_catalog_with_extras(text, path="coffee.yaml")
    with db.transaction() as conn:
        load_catalog(
            conn, clock, catalog=loaded.catalog, details=loaded.extras.details(),
            names=loaded.extras.names,
        )  # fmt: skip


def test_w2_the_file_gives_names_in_other_languages() -> None:
    loaded = parse_catalog_with_extras(GOOD + THAI)
    assert loaded.extras.names["th"] == {
        "metrics": {"card_operations": "การใช้งานบัตร"},
        "plans": {"free": "ฟรี", "monthly": "รายเดือน"},
        "product_lines": {"cards": "บัตรสะสมแต้ม"},
        "features": {"wallet_passes": "บัตรใน Wallet"},
    }


def test_w2_a_translation_names_a_language_and_a_code_the_file_defines() -> None:
    text = (
        GOOD
        + THAI.replace("  th:", "  de:")
        + ("  ko:\n    plans: {weekly: 주간, free: ''}\n    colours: {free: x}\n")
    )
    found = {(p.field, p.code, p.line) for p in problems(text)}
    assert found == {
        ("translations.de", "unknown_language", line_of(text, "  de:")),
        ("translations.ko.plans.weekly", "undefined_plan", line_of(text, "weekly")),
        ("translations.ko.plans.free", "wrong_type", line_of(text, "weekly")),
        ("translations.ko.colours", "unknown_key", line_of(text, "colours")),
    }


def test_w2_names_are_stored_replaced_on_reload_and_make_no_new_version(
    db: Database, clock: FixedClock
) -> None:
    load(db, clock, GOOD + THAI)
    with db.read() as conn:
        thai = names(conn, "th_TH")
        assert thai.plan("monthly", "Monthly") == "รายเดือน"
        assert thai.metric("card_operations", "Card operations") == "การใช้งานบัตร"
        assert thai.metric("staff_seats", "Staff seats") == "Staff seats"  # none given
        assert names(conn, "uk").plan("monthly", "Monthly") == "Monthly"
        assert names(conn, "en").plan("monthly", "Monthly") == "Monthly"
    better = GOOD + THAI.replace("รายเดือน", "แพ็กเกจรายเดือน")
    loaded = parse_catalog_with_extras(better)
    with db.transaction() as conn:
        report = load_catalog(
            conn, clock, catalog=loaded.catalog, details=loaded.extras.details(),
            names=loaded.extras.names,
        )  # fmt: skip
        assert report.new_versions == []
        assert names(conn, "th").plan("monthly", "Monthly") == "แพ็กเกจรายเดือน"
    load(db, clock, GOOD)  # the file without translations: none are left
    with db.read() as conn:
        assert names(conn, "th").plan("monthly", "Monthly") == "Monthly"


def test_w2_two_catalogs_naming_one_metric_load_and_the_last_name_stands(
    db: Database, clock: FixedClock
) -> None:
    load(db, clock, GOOD + THAI)
    other = (
        GOOD.replace("catalog: coffee", "catalog: tea")
        .replace("  free:", "  tea-free:")
        .replace("  monthly:", "  tea-monthly:")
        .replace("ladder: [free, monthly]", "ladder: [tea-free, tea-monthly]")
        .replace("  cards:", "  tea-cards:")
        .replace("product_line: cards", "product_line: tea-cards")
    ) + "translations:\n  th:\n    metrics: {card_operations: การใช้บัตร}\n"
    load(db, clock, other)  # card_operations is both catalogs' metric
    with db.read() as conn:
        thai = names(conn, "th")
        assert thai.metric("card_operations", "Card operations") == "การใช้บัตร"
        assert thai.plan("monthly", "Monthly") == "รายเดือน"  # coffee's own names stay
