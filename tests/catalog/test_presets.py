"""The two shipped presets (C6): every figure the seeds give, exactly as they give it.

The seed tables are copied out below, row by row, from seed 003 (Stamped
billing) and seed 000 (the stamp-card platform's billing page), and each row is
checked against the loaded catalog. Figures the seeds do not give must be
labelled as example numbers.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from allot.catalog.loader import LoadedCatalog, catalog_to_dict, load_catalog_with_extras
from allot.core.catalog import Interval, MetricKind, OveragePolicy, Plan

PRESETS = Path(__file__).resolve().parents[2] / "presets"
STAMP_CARD = PRESETS / "stamp-card.yaml"
REVIEWS_LOYALTY = PRESETS / "reviews-loyalty.yaml"

# Seed 003, "To Up Limit Fees" (Reviews):
#   plan code, order limit, price per order, top-up per order price, plan price
REVIEWS_TABLE = [
    ("reviews-basic", 200, "0.12", "0.16", "23"),
    ("reviews-premium", 500, "0.12", "0.16", "59"),
    ("reviews-business", 1500, "0.10", "0.14", "149"),
    ("reviews-professional", 3500, "0.09", "0.13", "299"),
    ("reviews-enterprise-5000", 5000, "0.07", "0.11", "349"),
    ("reviews-enterprise-10000", 10000, "0.05", "0.09", "549"),
    ("reviews-enterprise-15000", 15000, "0.05", "0.09", "749"),
    ("reviews-enterprise-20000", 20000, "0.04", "0.08", "899"),
]

# Seed 003, "Loyalty Overages Fees":
#   plan code, order limit, price per order, overage per order price, plan price
LOYALTY_TABLE = [
    ("loyalty-premium", 500, "0.12", "0.20", "59"),
    ("loyalty-business", 1500, "0.12", "0.20", "179"),
    ("loyalty-professional", 3500, "0.14", "0.22", "479"),
    ("loyalty-enterprise-5000", 5000, "0.13", "0.21", "629"),
    ("loyalty-enterprise-10000", 10000, "0.08", "0.16", "849"),
    ("loyalty-enterprise-15000", 15000, "0.06", "0.14", "999"),
    ("loyalty-enterprise-20000", 20000, "0.06", "0.14", "1199"),
]

# Seed 003, "Full Suite Overage Fees": same columns as Loyalty.
FULL_SUITE_TABLE = [
    ("full-suite-business", 1500, "0.19", "0.20", "279"),
    ("full-suite-professional", 3500, "0.19", "0.22", "659"),
    ("full-suite-enterprise-5000", 5000, "0.17", "0.21", "849"),
    ("full-suite-enterprise-10000", 10000, "0.12", "0.16", "1199"),
    ("full-suite-enterprise-15000", 15000, "0.09", "0.14", "1399"),
    ("full-suite-enterprise-20000", 20000, "0.08", "0.14", "1599"),
]

ALL_ROWS = REVIEWS_TABLE + LOYALTY_TABLE + FULL_SUITE_TABLE

# The one row whose published price per order is not price / limit rounded:
# $999 / 15,000 = $0.0666 -> $0.07, but the seed prints $0.06.
PUBLISHED_DISAGREEMENT = "loyalty-enterprise-15000"


@pytest.fixture(scope="module")
def stamp_card() -> LoadedCatalog:
    return load_catalog_with_extras(STAMP_CARD)


@pytest.fixture(scope="module")
def reviews_loyalty() -> LoadedCatalog:
    return load_catalog_with_extras(REVIEWS_LOYALTY)


def plan(loaded: LoadedCatalog, code: str) -> Plan:
    return loaded.catalog.plans[code]


def round_half_up(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- both presets -------------------------------------------------------------------------


def test_c6_both_presets_load(stamp_card: LoadedCatalog, reviews_loyalty: LoadedCatalog) -> None:
    assert stamp_card.catalog.name == "stamp-card"
    assert list(stamp_card.catalog.plans) == [
        "card-scanner-free",
        "monthly",
        "annual",
        "enterprise",
    ]
    assert reviews_loyalty.catalog.name == "reviews-loyalty"
    assert len(reviews_loyalty.catalog.plans) == 1 + len(ALL_ROWS)  # the free plan + 21 rows


def test_c6_presets_share_no_code(
    stamp_card: LoadedCatalog, reviews_loyalty: LoadedCatalog
) -> None:
    """Both presets load into one database: their plan, product line and metric codes differ."""
    a, b = stamp_card.catalog, reviews_loyalty.catalog
    assert not set(a.plans) & set(b.plans)
    assert not set(a.product_lines) & set(b.product_lines)
    assert not set(a.metrics) & set(b.metrics)


@pytest.mark.parametrize("preset", [STAMP_CARD, REVIEWS_LOYALTY], ids=lambda p: p.stem)
def test_c6_every_amount_in_the_presets_is_a_quoted_string(preset: Path) -> None:
    """Prices are written "0.14", never 0.14 (a float) nor 29 (fine, but kept uniform)."""
    document = yaml.safe_load(preset.read_text(encoding="utf-8"))
    money_keys = {"price", "overage_price", "top_up_price", "published_price_per_order"}

    def amounts(node: object) -> list[object]:
        if isinstance(node, dict):
            found = [v for k, v in node.items() if k in money_keys and v is not None]
            return found + [a for v in node.values() for a in amounts(v)]
        if isinstance(node, list):
            return [a for v in node for a in amounts(v)]
        return []

    found = amounts(document)
    assert found
    assert all(isinstance(a, str) for a in found)


@pytest.mark.parametrize("preset", [STAMP_CARD, REVIEWS_LOYALTY], ids=lambda p: p.stem)
def test_catalog_to_dict_is_json_with_decimals_as_strings(preset: Path) -> None:
    rendered = load_catalog_with_extras(preset).to_dict()
    assert json.loads(json.dumps(rendered)) == rendered
    for plan_dict in rendered["plans"].values():
        assert plan_dict["price"] is None or isinstance(plan_dict["price"], str)
        for rule in plan_dict["metrics"].values():
            assert isinstance(rule["example"], bool)


# --- stamp-card (seeds 000-002) -----------------------------------------------------------


def test_c1_stamp_card_metrics(stamp_card: LoadedCatalog) -> None:
    metrics = stamp_card.catalog.metrics
    assert metrics["card_operations"].kind is MetricKind.COUNTER
    assert metrics["staff_seats"].kind is MetricKind.GAUGE
    assert metrics["marketing_notifications"].kind is MetricKind.COUNTER
    assert "stamp or a voucher" in metrics["card_operations"].description


def test_c6_free_card_scanner_plan_as_seed_000_describes_it(stamp_card: LoadedCatalog) -> None:
    """Card scanner (free): 100 card operations per month, 1 staff seat, wallet passes,
    all reward types (Award, Voucher, Lottery), basic campaigns, support by email/messengers."""
    free = plan(stamp_card, "card-scanner-free")
    assert free.name == "Card scanner (free)"
    assert free.is_free
    assert free.currency == "EUR"
    assert free.interval is Interval.MONTH
    assert free.included("card_operations") == 100
    assert free.included("staff_seats") == 1
    assert free.features == {
        "wallet_passes",
        "reward_award",
        "reward_voucher",
        "reward_lottery",
        "basic_campaigns",
        "support_email_messengers",
    }
    # Seed 002: past the free limits, the overage is recorded and the business prompted.
    assert {r.policy for r in free.rules.values()} == {OveragePolicy.RECORD_AND_PROMPT}
    # 100 operations and 1 seat are the seed's; marketing notifications are not in it.
    assert stamp_card.extras.plans["card-scanner-free"].example_metrics == {
        "marketing_notifications"
    }


def test_v3_free_plan_tip(stamp_card: LoadedCatalog) -> None:
    tip = stamp_card.extras.plans["card-scanner-free"].tip
    assert "100 card operations per month is roughly 25\N{EN DASH}30 active regulars" in tip
    assert "small coffee shop" in tip


def test_c3_monthly_is_29_euros_per_location(stamp_card: LoadedCatalog) -> None:
    monthly = plan(stamp_card, "monthly")
    assert monthly.price == Decimal("29")
    assert monthly.interval is Interval.MONTH
    assert monthly.per_quantity
    # 3 locations: 3 x the price and 3 x the included card operations.
    assert monthly.price_for(3) == Decimal("87")
    assert monthly.included("card_operations", 3) == 3 * monthly.included("card_operations")
    # "a significantly larger card operations limit and access to advanced workflows"
    free = plan(stamp_card, "card-scanner-free")
    assert monthly.included("card_operations") > free.included("card_operations")
    assert "advanced_workflows" in monthly.features
    assert monthly.features > free.features


def test_c6_annual_is_ten_monthly_payments_two_months_free(stamp_card: LoadedCatalog) -> None:
    monthly, annual = plan(stamp_card, "monthly"), plan(stamp_card, "annual")
    assert annual.price == Decimal("290")
    assert annual.interval is Interval.YEAR
    assert annual.per_quantity
    assert monthly.price is not None
    assert annual.price == 10 * monthly.price
    assert 12 * monthly.price - annual.price == 2 * monthly.price
    # The same tier paid yearly: the same monthly allowances and features.
    assert annual.rules == monthly.rules
    assert annual.features == monthly.features


def test_c6_enterprise_is_by_agreement(stamp_card: LoadedCatalog) -> None:
    enterprise = plan(stamp_card, "enterprise")
    assert enterprise.name == "Custom / Enterprise"
    assert enterprise.by_agreement
    assert enterprise.price is None
    assert {"custom_pos_integration", "multi_location"} <= enterprise.features
    assert "chains" in enterprise.note


@pytest.mark.parametrize("code", ["monthly", "annual", "enterprise"])
def test_c6_paid_plan_figures_the_seeds_do_not_give_are_examples(
    stamp_card: LoadedCatalog, code: str
) -> None:
    """Paid plans bill past the allowance (seed 002); their figures are example numbers."""
    paid = plan(stamp_card, code)
    assert set(paid.rules) == {"card_operations", "staff_seats", "marketing_notifications"}
    for rule in paid.rules.values():
        assert rule.policy is OveragePolicy.BILL
        assert rule.overage_price is not None
    assert stamp_card.extras.plans[code].example_metrics == set(paid.rules)
    rendered = catalog_to_dict(stamp_card.catalog, stamp_card.extras)["plans"][code]
    assert all(rule["example"] for rule in rendered["metrics"].values())


def test_c4_stamp_card_ladder(stamp_card: LoadedCatalog) -> None:
    line = stamp_card.catalog.product_lines["stamp-card"]
    assert line.ladder == ("card-scanner-free", "monthly", "annual", "enterprise")
    assert line.plans_above("monthly") == ("annual", "enterprise")
    assert line.overage_invoice_day == 8


# --- reviews-loyalty (seed 003) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "limit", "price_per_order", "top_up_price", "price"),
    REVIEWS_TABLE,
    ids=[row[0] for row in REVIEWS_TABLE],
)
def test_c6_reviews_table_row(
    reviews_loyalty: LoadedCatalog,
    code: str,
    limit: int,
    price_per_order: str,
    top_up_price: str,
    price: str,
) -> None:
    reviews = plan(reviews_loyalty, code)
    assert reviews.product_line == "reviews"
    assert (reviews.currency, reviews.interval) == ("USD", Interval.MONTH)
    assert reviews.price == Decimal(price)
    rule = reviews.rules["orders"]
    assert rule.included == limit
    assert rule.policy is OveragePolicy.TOP_UP_THEN_BACKLOG
    assert rule.top_up_price == Decimal(top_up_price)
    assert rule.overage_price is None
    extras = reviews_loyalty.extras.plans[code]
    assert extras.published_price_per_order == Decimal(price_per_order)
    assert extras.example_metrics == set()


@pytest.mark.parametrize(
    ("code", "limit", "price_per_order", "overage_price", "price"),
    LOYALTY_TABLE + FULL_SUITE_TABLE,
    ids=[row[0] for row in LOYALTY_TABLE + FULL_SUITE_TABLE],
)
def test_c6_loyalty_and_full_suite_table_row(
    reviews_loyalty: LoadedCatalog,
    code: str,
    limit: int,
    price_per_order: str,
    overage_price: str,
    price: str,
) -> None:
    """Past the limit the account "functions normally" and each order is billed (U4)."""
    loyalty = plan(reviews_loyalty, code)
    assert loyalty.product_line == ("loyalty" if code.startswith("loyalty") else "full-suite")
    assert (loyalty.currency, loyalty.interval) == ("USD", Interval.MONTH)
    assert loyalty.price == Decimal(price)
    rule = loyalty.rules["orders"]
    assert rule.included == limit
    assert rule.policy is OveragePolicy.BILL
    assert rule.overage_price == Decimal(overage_price)
    assert rule.top_up_price is None
    extras = reviews_loyalty.extras.plans[code]
    assert extras.published_price_per_order == Decimal(price_per_order)
    assert extras.example_metrics == set()


def test_c4_ladders_hold_every_row_in_the_seeds_order(reviews_loyalty: LoadedCatalog) -> None:
    lines = reviews_loyalty.catalog.product_lines
    assert list(lines) == ["reviews", "loyalty", "full-suite"]
    assert lines["reviews"].ladder == ("reviews-free", *(row[0] for row in REVIEWS_TABLE))
    assert lines["loyalty"].ladder == tuple(row[0] for row in LOYALTY_TABLE)
    assert lines["full-suite"].ladder == tuple(row[0] for row in FULL_SUITE_TABLE)
    assert [lines[c].name for c in lines] == ["Reviews", "Loyalty", "Full Suite"]


def test_c6_free_reviews_plan_is_labelled_an_example(reviews_loyalty: LoadedCatalog) -> None:
    """Seed 003 mentions a free plan (no top-ups on it) but gives no order limit."""
    free = plan(reviews_loyalty, "reviews-free")
    assert free.is_free
    assert free.rules["orders"].policy is OveragePolicy.TOP_UP_THEN_BACKLOG
    assert reviews_loyalty.extras.plans["reviews-free"].example_metrics == {"orders"}
    assert reviews_loyalty.extras.plans["reviews-free"].published_price_per_order is None


def test_u5_an_order_is_every_order_placed(reviews_loyalty: LoadedCatalog) -> None:
    orders = reviews_loyalty.catalog.metrics["orders"]
    assert orders.kind is MetricKind.COUNTER
    assert "whatever the exclusions" in orders.description


def test_b2_overages_on_the_8th_top_ups_on_the_1st(reviews_loyalty: LoadedCatalog) -> None:
    for line in reviews_loyalty.catalog.product_lines.values():
        assert (line.overage_invoice_day, line.top_up_invoice_day) == (8, 1)


@pytest.mark.parametrize(
    ("code", "limit", "price_per_order", "price"),
    [(code, limit, ppo, price) for code, limit, ppo, _, price in ALL_ROWS],
    ids=[row[0] for row in ALL_ROWS],
)
def test_v2_price_per_order_is_price_over_limit_rounded(
    reviews_loyalty: LoadedCatalog, code: str, limit: int, price_per_order: str, price: str
) -> None:
    """V2: "dividing the subscription price by the number of orders": $279 / 1,500 = $0.19.

    Rounded half up to cents. Seed 003 agrees on every row but one (next test).
    """
    published = reviews_loyalty.extras.plans[code].published_price_per_order
    assert published == Decimal(price_per_order)
    computed = round_half_up(Decimal(price) / limit)
    if code == PUBLISHED_DISAGREEMENT:
        assert (computed, published) == (Decimal("0.07"), Decimal("0.06"))
    else:
        assert computed == published


def test_v2_the_seed_misprints_one_price_per_order(reviews_loyalty: LoadedCatalog) -> None:
    """Loyalty Enterprise 15,000: $999 / 15,000 = $0.0666, so $0.07, but the seed prints $0.06.

    It is the only disagreement in the three tables. The preset keeps the
    published figure as printed; allot computes from price and limit.
    """
    disagreeing = []
    for code, extras in reviews_loyalty.extras.plans.items():
        the_plan = plan(reviews_loyalty, code)
        published = extras.published_price_per_order
        if published is None or the_plan.price is None:
            continue
        computed = round_half_up(the_plan.price / the_plan.included("orders"))
        if computed != published:
            disagreeing.append((code, the_plan.price / the_plan.included("orders"), published))
    assert disagreeing == [(PUBLISHED_DISAGREEMENT, Decimal("0.0666"), Decimal("0.06"))]


def test_v2_worked_figures_of_seed_003(reviews_loyalty: LoadedCatalog) -> None:
    # Full Suite Business at 1,800 orders: 300 over x $0.20 = $60.
    suite = plan(reviews_loyalty, "full-suite-business")
    over = 1800 - suite.included("orders")
    assert over == 300
    assert over * (suite.rules["orders"].overage_price or 0) == Decimal("60.00")
    # Loyalty Business, 500 orders over: $100.
    loyalty = plan(reviews_loyalty, "loyalty-business")
    assert 500 * (loyalty.rules["orders"].overage_price or 0) == Decimal("100.00")
    # Price per order $279 / 1,500 = $0.19 (as displayed, rounded).
    assert round_half_up(Decimal("279") / suite.included("orders")) == Decimal("0.19")
    # Reviews Business: a $150 top-up limit at $0.14 buys 1,071 orders, 2,571 in the month.
    reviews = plan(reviews_loyalty, "reviews-business")
    top_up_price = reviews.rules["orders"].top_up_price
    assert top_up_price == Decimal("0.14")
    extra_orders = int(Decimal("150") // top_up_price)
    assert (extra_orders, reviews.included("orders") + extra_orders) == (1071, 2571)


def test_v1_loyalty_business_at_3000_orders_costs_the_professional_price(
    reviews_loyalty: LoadedCatalog,
) -> None:
    """$179 + 1,500 x $0.20 = $479: the 85 % rule of thumb comes out of the arithmetic."""
    business = plan(reviews_loyalty, "loyalty-business")
    professional = plan(reviews_loyalty, "loyalty-professional")
    assert business.price is not None
    staying = business.price + (3000 - 1500) * (business.rules["orders"].overage_price or 0)
    assert staying == professional.price == Decimal("479")
