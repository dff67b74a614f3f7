"""The catalog's frozen dataclasses: plans, allowances per quantity, ladders (C2-C5, U4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from allot.core.catalog import (
    Interval,
    MetricRule,
    OveragePolicy,
    Plan,
    ProductLine,
)
from allot.core.errors import InvalidInput

OPERATIONS = "card_operations"
SEATS = "staff_seats"


def monthly(**changes: object) -> Plan:
    fields: dict[str, object] = {
        "code": "stamp_monthly",
        "name": "Monthly",
        "product_line": "stamp_card",
        "currency": "EUR",
        "price": Decimal("29"),
        "interval": Interval.MONTH,
        "rules": {
            OPERATIONS: MetricRule(OPERATIONS, 1000, OveragePolicy.BILL, Decimal("0.01")),
            SEATS: MetricRule(SEATS, 2, OveragePolicy.BILL, Decimal("5")),
        },
        "per_quantity": True,
    }
    fields.update(changes)
    return Plan(**fields)  # type: ignore[arg-type]


def test_C2_free_plan_has_price_zero() -> None:
    free = monthly(code="stamp_free", price=Decimal("0"), per_quantity=False)
    assert free.is_free
    assert not free.by_agreement
    assert not monthly().is_free


def test_C6_custom_plan_is_by_agreement() -> None:
    custom = monthly(code="stamp_custom", price=None)
    assert custom.by_agreement
    assert not custom.is_free
    assert custom.price_for(3) is None


def test_C3_per_location_price_and_allowances_multiply_by_the_quantity() -> None:
    plan = monthly()
    assert plan.price_for(3) == Decimal("87")
    assert plan.included(OPERATIONS, 3) == 3000
    assert plan.included(SEATS, 3) == 6


def test_C3_a_plan_not_priced_per_quantity_ignores_the_quantity() -> None:
    plan = monthly(per_quantity=False)
    assert plan.price_for(3) == Decimal("29")
    assert plan.included(OPERATIONS, 3) == 1000


def test_U4_a_metric_the_plan_does_not_cover_has_no_allowance_and_no_rule() -> None:
    assert monthly().included("marketing_notifications", 5) == 0
    assert monthly().rule("marketing_notifications") is None
    assert monthly().rule(SEATS) == MetricRule(SEATS, 2, OveragePolicy.BILL, Decimal("5"))


def test_C2_annual_interval_is_twelve_months() -> None:
    assert Interval.YEAR.months == 12
    assert Interval.MONTH.months == 1


def test_C5_a_new_price_changes_the_terms_a_new_version_does_not() -> None:
    assert monthly().terms() == monthly(version=2, code="other_code").terms()
    assert monthly().terms() != monthly(price=Decimal("31")).terms()
    assert monthly().terms() != monthly(features=frozenset({"wallet_passes"})).terms()


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        (
            {"included": -1, "policy": OveragePolicy.BLOCK},
            "negative_allowance",
            "included",
        ),
        ({"included": 10, "policy": OveragePolicy.BILL}, "missing_overage_price", "overage_price"),
        (
            {"included": 1500, "policy": OveragePolicy.TOP_UP_THEN_BACKLOG},
            "missing_top_up_price",
            "top_up_price",
        ),
    ],
)
def test_U4_metric_rule_refuses_incomplete_terms(
    kwargs: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        MetricRule("orders", **kwargs)  # type: ignore[arg-type]
    assert (excinfo.value.code, excinfo.value.field) == (code, field)


@pytest.mark.parametrize("policy", [OveragePolicy.RECORD_AND_PROMPT, OveragePolicy.BLOCK])
def test_U4_policies_without_a_price_need_none(policy: OveragePolicy) -> None:
    assert MetricRule(OPERATIONS, 100, policy).overage_price is None


def test_C4_plans_above_in_the_ladder() -> None:
    loyalty = ProductLine(
        "loyalty", "Loyalty", ("loyalty_free", "loyalty_growth", "loyalty_business", "loyalty_pro")
    )
    assert loyalty.plans_above("loyalty_growth") == ("loyalty_business", "loyalty_pro")
    assert loyalty.plans_above("loyalty_pro") == ()
    assert loyalty.plans_above("not_in_ladder") == ()


def test_B2_usage_invoices_default_to_overages_on_the_8th_and_top_ups_on_the_1st() -> None:
    line = ProductLine("reviews", "Reviews", ("reviews_free",))
    assert (line.overage_invoice_day, line.top_up_invoice_day) == (8, 1)
