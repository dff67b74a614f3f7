"""C5: a catalog file is validated on load, and a bad one is refused with readable errors.

Every problem names the file, the line and the field, like a compiler:

    presets/x.yaml:25: plans.monthly.price: must be a decimal string or integer, not a float ...

and all problems are reported at once, not only the first.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from allot.catalog.loader import (
    CatalogError,
    CatalogProblem,
    catalog_to_dict,
    load_catalog,
    parse_catalog,
    parse_catalog_with_extras,
)
from allot.core.catalog import Interval, MetricKind, OveragePolicy
from allot.core.errors import DomainError

# A small coffee-shop catalog, valid as it stands; each test below breaks one thing.
GOOD = """\
catalog: coffee
currency: EUR
features:
  wallet_passes: Apple Wallet + Google Wallet passes
metrics:
  card_operations: {name: Card operations, kind: counter, unit: operation}
  staff_seats: {name: Staff seats, kind: gauge, unit: seat}
product_lines:
  cards:
    name: Loyalty cards
    ladder: [free, monthly]
    overage_invoice_day: 8
plans:
  free:
    name: Free
    product_line: cards
    price: "0"
    interval: month
    features: [wallet_passes]
    metrics:
      card_operations: {included: 100, policy: record_and_prompt}
      staff_seats: {included: 1, policy: record_and_prompt}
  monthly:
    name: Monthly
    product_line: cards
    price: "29"
    interval: month
    per_quantity: true
    features: [wallet_passes]
    metrics:
      card_operations: {included: 1000, policy: bill, overage_price: "0.03", example: true}
      staff_seats: {included: 1, policy: bill, overage_price: "5"}
"""


def broken(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str, nth: int = 1) -> int:
    """The 1-based line of the nth line that holds `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[nth - 1]


def problems(text: str) -> list[CatalogProblem]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, path="presets/x.yaml")
    return caught.value.problems


def only_problem(text: str) -> CatalogProblem:
    found = problems(text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


# --- a good file --------------------------------------------------------------------------


def test_c2_a_good_file_loads_into_the_core_dataclasses() -> None:
    catalog = parse_catalog(GOOD)
    assert catalog.name == "coffee"
    assert catalog.metrics["staff_seats"].kind is MetricKind.GAUGE
    assert catalog.product_lines["cards"].ladder == ("free", "monthly")
    assert catalog.product_lines["cards"].top_up_invoice_day == 1  # the default
    monthly = catalog.plans["monthly"]
    assert monthly.currency == "EUR"  # the catalog-wide currency
    assert monthly.price == Decimal("29")
    assert monthly.interval is Interval.MONTH
    assert monthly.per_quantity
    assert monthly.features == {"wallet_passes"}
    rule = monthly.rules["card_operations"]
    assert (rule.included, rule.policy, rule.overage_price) == (
        1000,
        OveragePolicy.BILL,
        Decimal("0.03"),
    )
    assert catalog.plans["free"].is_free


def test_c2_an_integer_price_is_exact_too() -> None:
    catalog = parse_catalog(broken('price: "29"', "price: 29"))
    assert catalog.plans["monthly"].price == Decimal("29")


def test_c2_a_plan_by_agreement_has_no_price() -> None:
    catalog = parse_catalog(broken('price: "29"', "by_agreement: true"))
    assert catalog.plans["monthly"].by_agreement


def test_example_numbers_are_kept_and_rendered() -> None:
    loaded = parse_catalog_with_extras(GOOD)
    assert loaded.extras.plans["monthly"].example_metrics == {"card_operations"}
    rendered = catalog_to_dict(loaded.catalog, loaded.extras)
    rules = rendered["plans"]["monthly"]["metrics"]
    assert rules["card_operations"] == {
        "included": 1000,
        "policy": "bill",
        "overage_price": "0.03",
        "top_up_price": None,
        "example": True,
    }
    assert rules["staff_seats"]["example"] is False
    assert rendered["features"] == {"wallet_passes": "Apple Wallet + Google Wallet passes"}
    assert json.loads(json.dumps(rendered)) == rendered


def test_catalog_to_dict_without_extras_leaves_them_out() -> None:
    rendered = catalog_to_dict(parse_catalog(GOOD))
    assert rendered["plans"]["monthly"]["price"] == "29"
    assert "example" not in rendered["plans"]["monthly"]["metrics"]["card_operations"]
    assert "features" not in rendered


# --- C5: what is refused, and how it reads ------------------------------------------------


def test_c5_a_float_price_is_refused_with_file_line_and_field() -> None:
    text = broken('price: "29"', "price: 29.90")
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, path="presets/x.yaml")
    error = caught.value
    assert str(error) == (
        "presets/x.yaml:26: plans.monthly.price: "
        'must be a decimal string or integer, not a float (write "29.90")'
    )
    assert (error.path, error.line, error.field) == ("presets/x.yaml", 26, "plans.monthly.price")
    assert error.code == "invalid_catalog"
    assert isinstance(error, DomainError)
    assert [p.code for p in error.problems] == ["float_money"]


def test_c5_a_float_overage_price_is_refused() -> None:
    text = broken('overage_price: "0.03"', "overage_price: 0.03")
    problem = only_problem(text)
    assert problem.field == "plans.monthly.metrics.card_operations.overage_price"
    assert problem.line == line_of(text, "overage_price: 0.03")
    assert problem.code == "float_money"


def test_c5_an_unknown_key_is_a_typo() -> None:
    text = broken("per_quantity: true", "per_quantiy: true")
    problem = only_problem(text)
    assert str(problem) == (
        f"presets/x.yaml:{line_of(text, 'per_quantiy')}: plans.monthly.per_quantiy: "
        "unknown key (did you mean 'per_quantity'?)"
    )
    assert problem.code == "unknown_key"


def test_c5_a_plan_may_only_use_defined_metrics() -> None:
    text = broken(
        "staff_seats: {included: 1, policy: bill", "staff_seat: {included: 1, policy: bill"
    )
    problem = only_problem(text)
    assert problem.field == "plans.monthly.metrics.staff_seat"
    assert problem.line == line_of(text, "staff_seat: {included")
    assert problem.message == (
        "metric 'staff_seat' is not defined under metrics: (did you mean 'staff_seats'?)"
    )
    assert problem.code == "undefined_metric"


def test_c5_an_allowance_is_a_non_negative_integer() -> None:
    text = broken("included: 100,", "included: -100,")
    problem = only_problem(text)
    assert problem.field == "plans.free.metrics.card_operations.included"
    assert problem.message == "must be a non-negative integer, not -100"
    assert problem.line == line_of(text, "included: -100")


@pytest.mark.parametrize("value", ['"100"', "100.0", "true"])
def test_c5_an_allowance_is_not_text_a_float_or_a_yes(value: str) -> None:
    problem = only_problem(broken("included: 100,", f"included: {value},"))
    assert problem.code == "wrong_type"
    assert problem.message.startswith("must be a whole number, not ")


def test_c5_an_unknown_currency_is_refused() -> None:
    text = broken("currency: EUR", "currency: EURO")
    problem = only_problem(text)
    assert (problem.line, problem.field, problem.code) == (2, "currency", "unknown_currency")
    assert "'EURO' is not a known ISO 4217 code" in problem.message


def test_c5_a_plan_code_is_defined_once() -> None:
    text = GOOD + "  free:\n    name: Free again\n"
    problem = only_problem(text)
    assert problem.field == "plans.free"
    assert problem.line == line_of(text, "  free:", nth=2)
    assert problem.message == f"duplicate key 'free' (first at line {line_of(text, '  free:')})"


def test_c4_a_ladder_names_only_defined_plans() -> None:
    text = broken("ladder: [free, monthly]", "ladder: [free, monthly, annual]")
    problem = only_problem(text)
    assert problem.field == "product_lines.cards.ladder[2]"
    assert problem.message == "plan 'annual' is not defined under plans:"
    assert problem.line == line_of(text, "ladder:")


def test_c4_every_plan_is_on_its_product_lines_ladder() -> None:
    problem = only_problem(broken("ladder: [free, monthly]", "ladder: [free]"))
    assert problem.field == "plans.monthly.product_line"
    assert problem.code == "plan_not_in_ladder"


def test_c4_a_ladder_lists_plans_of_its_own_product_line_only() -> None:
    text = broken(
        "    overage_invoice_day: 8\n",
        "    overage_invoice_day: 8\n  other:\n    name: Other\n    ladder: [monthly]\n",
    )
    problem = only_problem(text)
    assert problem.field == "product_lines.other.ladder[0]"
    assert problem.message == "plan 'monthly' belongs to product line 'cards'"


def test_c4_a_ladder_has_one_currency() -> None:
    text = broken('    price: "29"\n', '    price: "29"\n    currency: USD\n')
    problem = only_problem(text)
    assert problem.code == "mixed_currencies"
    assert problem.field == "product_lines.cards.ladder[1]"


@pytest.mark.parametrize("day", [0, 29, 31])
def test_b2_an_invoice_day_is_one_every_month_has(day: int) -> None:
    problem = only_problem(broken("overage_invoice_day: 8", f"overage_invoice_day: {day}"))
    assert problem.field == "product_lines.cards.overage_invoice_day"
    assert problem.message == f"must be from 1 to 28, not {day}"


def test_u4_policy_bill_needs_an_overage_price() -> None:
    """The core's own check (MetricRule), reported at the file's line."""
    text = broken(', overage_price: "5"}', "}")
    problem = only_problem(text)
    assert problem.field == "plans.monthly.metrics.staff_seats.overage_price"
    assert problem.code == "missing_overage_price"
    assert problem.line == line_of(text, "staff_seats: {included: 1, policy: bill}")


def test_u4_top_up_then_backlog_needs_a_top_up_price() -> None:
    text = broken('policy: bill, overage_price: "0.03"', "policy: top_up_then_backlog", text=GOOD)
    problem = only_problem(text)
    assert problem.field == "plans.monthly.metrics.card_operations.top_up_price"
    assert problem.code == "missing_top_up_price"


def test_r2_a_top_up_price_of_nothing_is_refused_at_its_line() -> None:
    """At 0 the money cap would let every order through: refused when loaded, not per request."""
    text = broken(
        'policy: bill, overage_price: "0.03"',
        'policy: top_up_then_backlog, top_up_price: "0"',
        text=GOOD,
    )
    problem = only_problem(text)
    assert problem.field == "plans.monthly.metrics.card_operations.top_up_price"
    assert problem.code == "invalid_top_up_price"
    assert problem.line == line_of(text, 'top_up_price: "0"')


def test_u4_a_price_the_policy_never_uses_is_refused() -> None:
    text = broken(
        "staff_seats: {included: 1, policy: record_and_prompt}",
        'staff_seats: {included: 1, policy: record_and_prompt, overage_price: "5"}',
    )
    problem = only_problem(text)
    assert problem.field == "plans.free.metrics.staff_seats.overage_price"
    assert problem.code == "unused_overage_price"


def test_u4_only_counters_can_queue_in_a_backlog() -> None:
    text = broken(
        'staff_seats: {included: 1, policy: bill, overage_price: "5"}',
        'staff_seats: {included: 1, policy: top_up_then_backlog, top_up_price: "5"}',
    )
    problem = only_problem(text)
    assert problem.field == "plans.monthly.metrics.staff_seats.policy"
    assert problem.code == "policy_needs_counter"


def test_c2_a_price_is_required_unless_by_agreement() -> None:
    text = broken('    price: "29"\n', "")
    problem = only_problem(text)
    assert problem.field == "plans.monthly.price"
    assert problem.line == line_of(text, "  monthly:")  # the plan's line: the price is missing
    both = only_problem(broken('price: "29"', 'price: "29"\n    by_agreement: true'))
    assert both.code == "price_by_agreement"


def test_c2_a_feature_is_declared_before_use() -> None:
    text = broken("features: [wallet_passes]", "features: [wallet_pass]")
    problem = only_problem(text)
    assert problem.field == "plans.free.features[0]"
    assert problem.message == (
        "feature 'wallet_pass' is not declared under features: (did you mean 'wallet_passes'?)"
    )


def test_c5_a_missing_field_is_named() -> None:
    problem = only_problem(broken("    name: Monthly\n", ""))
    assert (problem.field, problem.message) == ("plans.monthly.name", "required")


def test_c5_several_problems_are_reported_together_in_line_order() -> None:
    text = broken('price: "29"', "price: 29.90")
    text = broken("per_quantity: true", "per_quantiy: true", text)
    text = broken(
        "staff_seats: {included: 1, policy: record_and_prompt}", "seats: {included: 1}", text
    )
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, path="presets/x.yaml")
    error = caught.value
    assert [(p.line, p.field, p.code) for p in error.problems] == [
        (22, "plans.free.metrics.seats", "undefined_metric"),
        (22, "plans.free.metrics.seats.policy", "missing_field"),
        (26, "plans.monthly.price", "float_money"),
        (28, "plans.monthly.per_quantiy", "unknown_key"),
    ]
    assert str(error).splitlines() == [str(p) for p in error.problems]
    assert (error.line, error.field) == (22, "plans.free.metrics.seats")


def test_c5_malformed_yaml_names_its_line() -> None:
    text = broken("    interval: month\n    per_quantity", "    interval: [month\n    per_quantity")
    problem = only_problem(text)
    assert problem.code == "invalid_yaml"
    assert problem.field == ""
    assert problem.line == line_of(text, "per_quantity: true")  # where the parser gave up
    assert "while parsing a flow sequence at line 27" in problem.message
    assert str(problem).startswith(f"presets/x.yaml:{problem.line}: invalid YAML: ")


def test_c5_a_tab_indented_file_is_malformed_yaml() -> None:
    problem = only_problem(broken("  free:\n    name: Free", "  free:\n\tname: Free"))
    assert (problem.code, problem.line) == ("invalid_yaml", line_of(GOOD, "name: Free"))


@pytest.mark.parametrize(
    "value", ["!!python/object/apply:os.system [echo]", "!!python/name:os.system ''"]
)
def test_c5_python_tags_are_not_executed(value: str) -> None:
    """The loader is safe: a YAML tag never constructs arbitrary Python objects."""
    problem = only_problem(broken("catalog: coffee", f"catalog: coffee\ndescription: {value}"))
    assert (problem.line, problem.field) == (2, "description")
    assert problem.code in {"unsupported_tag", "invalid_yaml"}


@pytest.mark.parametrize("text", ["", "# nothing\n", "~\n"])
def test_c5_an_empty_file_is_refused(text: str) -> None:
    assert only_problem(text).code == "empty_catalog"


def test_c5_a_list_is_not_a_catalog() -> None:
    assert only_problem("- plans\n").code == "not_a_mapping"


def test_c5_codes_are_simple_names() -> None:
    problem = only_problem(broken("  free:", "  Free Plan:").replace("[free,", "['Free Plan',"))
    assert problem.field == "plans.Free Plan"
    assert problem.code == "invalid_code"


def test_c5_an_unreadable_file_is_a_catalog_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(missing)
    assert caught.value.path == str(missing)
    assert caught.value.problems[0].code == "unreadable_file"


def test_load_catalog_reads_a_file_and_names_it(tmp_path: Path) -> None:
    good = tmp_path / "coffee.yaml"
    good.write_text(GOOD, encoding="utf-8")
    assert load_catalog(good).name == "coffee"
    bad = tmp_path / "bad.yaml"
    bad.write_text(broken('price: "29"', "price: 29.0"), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"bad\.yaml:26: plans\.monthly\.price: "):
        load_catalog(bad)


def test_C5_a_control_character_is_a_catalog_error_not_a_crash() -> None:
    from allot.catalog.loader import CatalogError, parse_catalog

    with pytest.raises(CatalogError) as err:
        parse_catalog("\x1f", path="odd.yaml")
    assert "invalid YAML" in str(err.value)
