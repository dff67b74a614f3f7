"""Upgrade advice: the cost of staying against each plan above, and the breakeven (V1, V2, U4).

The ladders are built here from seed 003's tables (the figures of
presets/reviews-loyalty.yaml; one test checks the preset agrees) and from the
stamp-card preset (seeds 000-002). The breakeven figures below are what the
arithmetic gives; the seed's "about 85 % of the next tier" holds for five of
the eleven Loyalty and Full Suite pairs, and the others are asserted as they
are, so that nobody mistakes the rule of thumb for a rule.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.advice import Advice, advise
from allot.core.catalog import Interval, MetricRule, OveragePolicy, Plan
from allot.core.errors import InvalidInput
from allot.core.money import Money

PROPERTY = settings(max_examples=300, deadline=None)

ORDERS = "orders"
OPERATIONS = "card_operations"
PRESETS = Path(__file__).resolve().parents[2] / "presets"


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def billed(code: str, name: str, price: str, limit: int, overage: str, line: str) -> Plan:
    rule = MetricRule(ORDERS, limit, OveragePolicy.BILL, overage_price=Decimal(overage))
    return Plan(code, name, line, "USD", Decimal(price), Interval.MONTH, {ORDERS: rule})


def ladder(line: str, title: str, policy: OveragePolicy, rows: str) -> tuple[Plan, ...]:
    """Plans from a seed table's rows: tier | order limit | rate past it | plan price."""
    plans = []
    for row in rows.strip().splitlines():
        tier, limit, rate, price = (cell.strip() for cell in row.split("|"))
        rule = MetricRule(
            ORDERS,
            int(limit.replace(",", "")),
            policy,
            overage_price=Decimal(rate) if policy is OveragePolicy.BILL else None,
            top_up_price=Decimal(rate) if policy is OveragePolicy.TOP_UP_THEN_BACKLOG else None,
        )
        code = f"{line}-{tier.lower().replace(' ', '-').replace(',', '')}"
        plans.append(
            Plan(
                code, f"{title} {tier}", line, "USD", Decimal(price), Interval.MONTH, {ORDERS: rule}
            )
        )
    return tuple(plans)


# Seed 003, "Loyalty Overages Fees" (order limit, overage per order, plan price).
LOYALTY = ladder(
    "loyalty",
    "Loyalty",
    OveragePolicy.BILL,
    """
    Premium           |    500 | 0.20 |   59
    Business          |  1,500 | 0.20 |  179
    Professional      |  3,500 | 0.22 |  479
    Enterprise 5,000  |  5,000 | 0.21 |  629
    Enterprise 10,000 | 10,000 | 0.16 |  849
    Enterprise 15,000 | 15,000 | 0.14 |  999
    Enterprise 20,000 | 20,000 | 0.14 | 1199
    """,
)

# Seed 003, "Full Suite Overage Fees".
FULL_SUITE = ladder(
    "full-suite",
    "Full Suite",
    OveragePolicy.BILL,
    """
    Business          |  1,500 | 0.20 |  279
    Professional      |  3,500 | 0.22 |  659
    Enterprise 5,000  |  5,000 | 0.21 |  849
    Enterprise 10,000 | 10,000 | 0.16 | 1199
    Enterprise 15,000 | 15,000 | 0.14 | 1399
    Enterprise 20,000 | 20,000 | 0.14 | 1599
    """,
)

# Seed 003, "To Up Limit Fees" (top-up per order). The free plan is the preset's: the
# seed gives none of its figures, its 50 orders are an example.
REVIEWS = ladder(
    "reviews",
    "Reviews",
    OveragePolicy.TOP_UP_THEN_BACKLOG,
    """
    Free              |     50 | 0.16 |    0
    Basic             |    200 | 0.16 |   23
    Premium           |    500 | 0.16 |   59
    Business          |  1,500 | 0.14 |  149
    Professional      |  3,500 | 0.13 |  299
    Enterprise 5,000  |  5,000 | 0.11 |  349
    Enterprise 10,000 | 10,000 | 0.09 |  549
    Enterprise 15,000 | 15,000 | 0.09 |  749
    Enterprise 20,000 | 20,000 | 0.08 |  899
    """,
)


def stamp(code: str, name: str, price: str | None, interval: Interval, rule: MetricRule) -> Plan:
    return Plan(
        code,
        name,
        "stamp-card",
        "EUR",
        None if price is None else Decimal(price),
        interval,
        {OPERATIONS: rule},
        per_quantity=code != "card-scanner-free",
    )


_PAID_OPERATIONS = MetricRule(OPERATIONS, 1000, OveragePolicy.BILL, overage_price=Decimal("0.03"))

# The stamp-card preset's ladder: Free, Monthly (per location), Annual (per location
# per year), Custom / Enterprise by agreement. Paid figures are the preset's examples.
STAMP_CARD = (
    stamp(
        "card-scanner-free",
        "Card scanner (free)",
        "0",
        Interval.MONTH,
        MetricRule(OPERATIONS, 100, OveragePolicy.RECORD_AND_PROMPT),
    ),
    stamp("monthly", "Monthly", "29", Interval.MONTH, _PAID_OPERATIONS),
    stamp("annual", "Annual", "290", Interval.YEAR, _PAID_OPERATIONS),
    stamp(
        "enterprise",
        "Custom / Enterprise",
        None,
        Interval.MONTH,
        MetricRule(OPERATIONS, 5000, OveragePolicy.BILL, overage_price=Decimal("0.02")),
    ),
)


def on(ladder: tuple[Plan, ...], current: str, units: int, *, quantity: int = 1) -> Advice:
    metric = OPERATIONS if ladder is STAMP_CARD else ORDERS
    return advise(plans=ladder, current=current, quantity=quantity, metric=metric, units=units)


def option_costs(advice: Advice) -> dict[str, Money | None]:
    return {option.plan_code: option.cost for option in advice.options}


# --- the seed's worked figures (V1, V2) -------------------------------------------------


def test_v1_loyalty_business_at_3000_orders_costs_exactly_the_professional_price() -> None:
    """$179 + 1,500 x $0.20 = $479, the Professional price: staying wins the tie."""
    advice = on(LOYALTY, "loyalty-business", 3000)

    stay = advice.current
    assert stay.is_current
    assert (stay.plan_cost, stay.included, stay.units_over) == (usd("179"), 1500, 1500)
    assert stay.over_charge == usd("300")
    assert stay.cost == usd("479")
    assert advice.options[1].plan_code == "loyalty-professional"
    assert advice.options[1].cost == usd("479")
    assert advice.cheapest is stay
    assert advice.saving == usd("0")
    assert not advice.upgrade
    assert advice.message == (
        "At 3,000 orders, Loyalty Business costs $479.00, the same as Loyalty Professional "
        "($479.00): upgrade once you expect more than 3,000 orders a month."
    )


def test_v1_at_3001_orders_staying_is_dearer_than_professional() -> None:
    advice = on(LOYALTY, "loyalty-business", 3001)

    assert advice.current.cost == usd("479.20")
    assert advice.cheapest.plan_code == "loyalty-professional"
    assert advice.upgrade
    assert advice.saving == usd("0.20")
    assert advice.message == (
        "At 3,001 orders, Loyalty Business costs $479.20; Loyalty Professional would cost "
        "$479.00, saving $0.20 a month."
    )


def test_v2_full_suite_business_at_1800_orders_pays_60_dollars_of_overage() -> None:
    """300 orders over x $0.20 = $60 (the seed's FAQ)."""
    advice = on(FULL_SUITE, "full-suite-business", 1800)

    assert advice.current.units_over == 300
    assert advice.current.over_charge == usd("60.00")
    assert advice.current.cost == usd("339")
    assert advice.cheapest is advice.current
    assert advice.message == (
        "At 1,800 orders, Full Suite Business costs $339.00, less than Full Suite Professional "
        "($659.00): upgrade once you expect more than 3,400 orders a month."
    )


def test_v2_loyalty_business_500_orders_over_pays_100_dollars() -> None:
    advice = on(LOYALTY, "loyalty-business", 2000)

    assert advice.current.units_over == 500
    assert advice.current.over_charge == usd("100")
    assert advice.current.cost == usd("279")
    assert advice.cheapest is advice.current


# --- breakeven: the "about 85 %" comes out of the arithmetic (V1) ------------------------

# (ladder, current plan, breakeven units, share of the next plan's allowance,
#  usage at which both cost the same or None when no whole usage does)
BREAKEVENS = [
    (LOYALTY, "loyalty-premium", 1101, "0.734", 1100),
    (LOYALTY, "loyalty-business", 3001, "0.857", 3000),
    (LOYALTY, "loyalty-professional", 4182, "0.836", None),
    (LOYALTY, "loyalty-enterprise-5000", 6048, "0.605", None),
    (LOYALTY, "loyalty-enterprise-10000", 10938, "0.729", None),
    (LOYALTY, "loyalty-enterprise-15000", 16429, "0.821", None),
    (FULL_SUITE, "full-suite-business", 3401, "0.972", 3400),
    (FULL_SUITE, "full-suite-professional", 4364, "0.873", None),
    (FULL_SUITE, "full-suite-enterprise-5000", 6667, "0.667", None),
    (FULL_SUITE, "full-suite-enterprise-10000", 11251, "0.750", 11250),
    (FULL_SUITE, "full-suite-enterprise-15000", 16429, "0.821", None),
]


@pytest.mark.parametrize(
    ("ladder", "current", "units", "share", "equal_at"),
    BREAKEVENS,
    ids=[row[1] for row in BREAKEVENS],
)
def test_v1_breakeven_of_every_adjacent_loyalty_and_full_suite_pair(
    ladder: tuple[Plan, ...], current: str, units: int, share: str, equal_at: int | None
) -> None:
    advice = on(ladder, current, 0)
    assert advice.breakeven_units == units
    assert advice.breakeven_share == Decimal(share)

    # The next plan up is strictly cheaper at the breakeven, and not one order before.
    at = on(ladder, current, units)
    before = on(ladder, current, units - 1)
    assert at.cheapest is not at.current
    assert _next_cost(at) < _stay_cost(at)
    assert _next_cost(before) >= _stay_cost(before)
    if equal_at is not None:
        assert equal_at == units - 1
        assert _next_cost(before) == _stay_cost(before)
    else:
        assert _next_cost(before) > _stay_cost(before)


def test_v1_the_85_percent_rule_of_thumb_holds_for_five_pairs_of_eleven() -> None:
    """Within 80-90 %: Loyalty Business, Professional and Enterprise 15,000, Full Suite
    Professional and Enterprise 15,000. Elsewhere the arithmetic gives 60-97 %."""
    shares = {current: on(ladder, current, 0).breakeven_share for ladder, current, *_ in BREAKEVENS}
    near_85 = {
        code
        for code, share in shares.items()
        if share is not None and Decimal("0.80") <= share <= Decimal("0.90")
    }
    assert near_85 == {
        "loyalty-business",
        "loyalty-professional",
        "loyalty-enterprise-15000",
        "full-suite-professional",
        "full-suite-enterprise-15000",
    }
    assert shares["loyalty-business"] == Decimal("0.857")  # the seed's own example pair
    assert min(s for s in shares.values() if s is not None) == Decimal("0.605")
    assert max(s for s in shares.values() if s is not None) == Decimal("0.972")


def test_v1_the_preset_file_has_the_seed_figures_used_here() -> None:
    """presets/reviews-loyalty.yaml, parsed by the catalog loader (a file, no database)."""
    from allot.catalog.loader import load_catalog  # the only test here that reads YAML

    catalog = load_catalog(PRESETS / "reviews-loyalty.yaml")
    for code, ladder in (("loyalty", LOYALTY), ("full-suite", FULL_SUITE), ("reviews", REVIEWS)):
        assert catalog.product_lines[code].ladder == tuple(plan.code for plan in ladder)
        for built in ladder:
            loaded = catalog.plans[built.code]
            assert (loaded.name, loaded.price, loaded.currency) == (
                built.name,
                built.price,
                built.currency,
            )
            assert (loaded.interval, loaded.per_quantity) == (built.interval, built.per_quantity)
            assert loaded.rules[ORDERS] == built.rules[ORDERS]


# --- Reviews: priced with top-ups (U4, R2) ----------------------------------------------


def test_v1_reviews_business_is_priced_with_top_ups() -> None:
    """V2's $150 top-up at $0.14 buys 1,071 orders, 2,571 in all; that still undercuts
    Professional's $299 by 6 cents, and one order more tips it."""
    advice = on(REVIEWS, "reviews-business", 2571)

    assert advice.current.policy is OveragePolicy.TOP_UP_THEN_BACKLOG
    assert advice.current.units_over == 1071
    assert advice.current.over_charge == usd("149.94")
    assert advice.current.cost == usd("298.94")
    assert advice.cheapest is advice.current
    assert advice.breakeven_units == 2572
    assert advice.breakeven_share == Decimal("0.735")

    tipped = on(REVIEWS, "reviews-business", 2572)
    assert tipped.current.cost == usd("299.08")
    assert tipped.cheapest.plan_code == "reviews-professional"
    assert tipped.saving == usd("0.08")


def test_r2_v1_the_free_reviews_plan_buys_no_top_ups_its_orders_wait_in_the_backlog() -> None:
    advice = on(REVIEWS, "reviews-free", 80)

    assert advice.current.units_over == 30
    assert advice.current.over_charge == usd("0")
    assert advice.current.cost == usd("0")
    assert advice.cheapest is advice.current
    assert advice.breakeven_units is None  # free and unpaid past the limit: never dearer
    assert advice.message == (
        "At 80 orders, Reviews Free costs $0.00, less than Reviews Basic ($23.00); 30 orders "
        "past its allowance wait in the backlog (no top-ups on a free plan)."
    )


# --- the shape of the ladder -------------------------------------------------------------


def test_v1_options_are_the_current_plan_then_every_plan_above_in_ladder_order() -> None:
    advice = on(LOYALTY, "loyalty-business", 1000)
    assert [o.plan_code for o in advice.options] == [p.code for p in LOYALTY[1:]]
    assert [o.is_current for o in advice.options] == [True] + [False] * 5
    assert advice.current is advice.options[0]


def test_v1_a_plan_above_past_its_own_limit_pays_its_own_overage_and_a_tier_may_be_skipped() -> (
    None
):
    advice = on(LOYALTY, "loyalty-business", 6000)

    costs = option_costs(advice)
    assert costs["loyalty-business"] == usd("1079")  # 179 + 4,500 x 0.20
    assert costs["loyalty-professional"] == usd("1029")  # 479 + 2,500 x 0.22
    assert costs["loyalty-enterprise-5000"] == usd("839")  # 629 + 1,000 x 0.21
    assert costs["loyalty-enterprise-10000"] == usd("849")
    assert advice.cheapest.plan_code == "loyalty-enterprise-5000"
    assert advice.saving == usd("240")
    assert advice.message == (
        "At 6,000 orders, Loyalty Business costs $1,079.00; Loyalty Enterprise 5,000 would "
        "cost $839.00, saving $240.00 a month."
    )


def test_v1_the_top_of_the_ladder_has_no_plan_above() -> None:
    advice = on(LOYALTY, "loyalty-enterprise-20000", 25000)

    assert advice.options == (advice.current,)
    assert advice.current.over_charge == usd("700")  # 5,000 x $0.14
    assert advice.cheapest is advice.current
    assert advice.breakeven_units is None
    assert advice.breakeven_share is None
    assert advice.message == (
        "At 25,000 orders, Loyalty Enterprise 20,000 costs $1,899.00; there is no plan above it."
    )


def test_v1_a_plan_by_agreement_is_listed_but_not_priced() -> None:
    advice = on(STAMP_CARD, "annual", 1500)

    enterprise = advice.options[1]
    assert enterprise.plan_code == "enterprise"
    assert enterprise.cost is None
    assert enterprise.plan_cost is None
    assert not enterprise.priced
    assert enterprise.included == 5000  # its terms are still shown
    assert advice.cheapest is advice.current
    assert advice.breakeven_units is None
    assert advice.message.endswith("; Custom / Enterprise is priced by agreement.")


def test_v1_staying_on_a_plan_by_agreement_has_nothing_to_compare() -> None:
    advice = on(STAMP_CARD, "enterprise", 9000)

    assert advice.current.cost is None
    assert advice.current.over_charge == eur("80")  # 4,000 x 0.02, shown all the same
    assert advice.cheapest is advice.current
    assert advice.saving == eur("0")
    assert "priced by agreement" in advice.message


def test_v1_a_plan_above_without_terms_for_the_metric_is_listed_unpriced() -> None:
    bare = Plan(
        "loyalty-custom", "Loyalty Custom", "loyalty", "USD", Decimal("2000"), Interval.MONTH
    )
    advice = advise(
        plans=(*LOYALTY, bare),
        current="loyalty-enterprise-20000",
        quantity=1,
        metric=ORDERS,
        units=100,
    )
    custom = advice.options[1]
    assert (custom.policy, custom.included, custom.cost) == (None, 0, None)
    assert custom.plan_cost == usd("2000")
    assert advice.cheapest is advice.current


def test_v1_ties_between_plans_above_go_to_the_lower_plan() -> None:
    ladder = (
        billed("a", "A", "100", 100, "1", "x"),
        billed("b", "B", "300", 1000, "1", "x"),
        billed("c", "C", "300", 2000, "1", "x"),
    )
    advice = advise(plans=ladder, current="a", quantity=1, metric=ORDERS, units=900)
    assert advice.current.cost == usd("900")
    assert advice.options[1].cost == advice.options[2].cost == usd("300")
    assert advice.cheapest.plan_code == "b"


# --- quantity and yearly plans (C3) -------------------------------------------------------


def test_c3_v1_three_locations_multiply_the_price_and_the_allowance() -> None:
    """Monthly x 3 locations: €87 and 3,000 operations; 500 over x €0.03 = €15. Annual
    x 3 counts €870 / 12 = €72.50 a month, which undercuts staying on Monthly."""
    advice = on(STAMP_CARD, "monthly", 3500, quantity=3)

    stay = advice.current
    assert (stay.plan_cost, stay.included, stay.units_over) == (eur("87"), 3000, 500)
    assert stay.over_charge == eur("15")
    assert stay.cost == eur("102")
    annual = advice.options[1]
    assert annual.plan_cost == eur("72.5")
    assert annual.cost == eur("87.5")
    assert advice.cheapest is annual
    assert advice.saving == eur("14.5")
    assert advice.breakeven_units == 0  # Annual is cheaper per month at any usage
    assert advice.breakeven_share == Decimal("0.000")
    assert advice.message == (
        "At 3,500 card operations, Monthly costs €102.00; Annual would cost €87.50, "
        "saving €14.50 a month."
    )


def test_v1_a_yearly_price_stays_exact_per_month_and_is_rounded_only_in_the_message() -> None:
    advice = on(STAMP_CARD, "monthly", 0)
    annual = advice.options[1]
    assert annual.plan_cost is not None
    assert annual.plan_cost.amount * 12 == Decimal("290.0000000000000000000000000000000")
    assert annual.plan_cost.amount != Decimal("24.17")
    assert "€24.17" in advice.message


# --- policies that charge nothing past the plan (U4) ------------------------------------


def test_u4_v1_record_and_prompt_costs_nothing_past_the_plan_but_shows_the_units_over() -> None:
    advice = on(STAMP_CARD, "card-scanner-free", 150)

    assert advice.current.policy is OveragePolicy.RECORD_AND_PROMPT
    assert advice.current.units_over == 50
    assert advice.current.cost == eur("0")
    assert advice.cheapest is advice.current
    assert advice.message == (
        "At 150 card operations, Card scanner (free) costs €0.00, less than Annual (€24.17); "
        "50 card operations past its allowance are recorded, not billed."
    )


def test_u4_v1_block_costs_nothing_past_the_plan_and_says_the_units_are_refused() -> None:
    rule = MetricRule(ORDERS, 100, OveragePolicy.BLOCK)
    blocked = Plan(
        "capped", "Capped", "loyalty", "USD", Decimal("10"), Interval.MONTH, {ORDERS: rule}
    )
    advice = advise(
        plans=(blocked, LOYALTY[0]), current="capped", quantity=1, metric=ORDERS, units=130
    )
    assert advice.current.units_over == 30
    assert advice.current.cost == usd("10")
    assert "30 orders past its allowance are refused" in advice.message


def test_v1_a_crossing_below_todays_usage_is_not_offered_as_a_threshold() -> None:
    """A plan above with a dearer overage can be cheaper for a while and dearer again:
    the breakeven is the first crossing, and the sentence offers none behind us."""
    ladder = (billed("a", "A", "10", 100, "5", "x"), billed("b", "B", "50", 120, "10", "x"))
    advice = advise(plans=ladder, current="a", quantity=1, metric=ORDERS, units=200)
    assert advice.breakeven_units == 109
    assert advice.cheapest is advice.current  # 510 against 850
    assert advice.message == "At 200 orders, A costs $510.00, less than B ($850.00)."


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"current": "loyalty-gold"}, "current", "unknown_plan"),
        ({"units": -1}, "units", "invalid_units"),
        ({"units": True}, "units", "invalid_units"),
        ({"metric": "staff_seats"}, "metric", "metric_not_on_plan"),
        ({"quantity": 0}, "quantity", "invalid_quantity"),
        ({"plans": (*LOYALTY, LOYALTY[0])}, "plans", "duplicate_plan"),
        ({"plans": (LOYALTY[1], STAMP_CARD[1])}, "plans", "currency_mismatch"),
    ],
)
def test_v1_bad_input_is_refused_with_the_field_named(
    changes: dict[str, object], field: str, code: str
) -> None:
    arguments: dict[str, object] = {
        "plans": LOYALTY,
        "current": "loyalty-business",
        "quantity": 1,
        "metric": ORDERS,
        "units": 100,
    }
    arguments.update(changes)
    with pytest.raises(InvalidInput) as caught:
        advise(**arguments)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.code) == (field, code)


# --- properties --------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=2000, places=2)
rates = st.decimals(min_value=Decimal("0.01"), max_value=3, places=2)
policies = st.sampled_from(list(OveragePolicy))


def _rule(policy: OveragePolicy, included: int, rate: Decimal) -> MetricRule:
    return MetricRule(
        ORDERS,
        included,
        policy,
        overage_price=rate if policy is OveragePolicy.BILL else None,
        top_up_price=rate if policy is OveragePolicy.TOP_UP_THEN_BACKLOG else None,
    )


@st.composite
def ladders(draw: st.DrawFn) -> tuple[tuple[Plan, ...], int]:
    """A ladder whose priced plans cost at least as much as the ones below (cheapest first)."""
    size = draw(st.integers(min_value=1, max_value=5))
    amounts = sorted(draw(st.lists(prices, min_size=size, max_size=size)))
    per_quantity = draw(st.booleans())
    plans = tuple(
        Plan(
            f"p{i}",
            f"Plan {i}",
            "x",
            "USD",
            None if i > 0 and draw(st.integers(0, 5)) == 0 else amount,
            Interval.MONTH,
            {ORDERS: _rule(draw(policies), draw(st.integers(0, 5000)), draw(rates))},
            per_quantity=per_quantity,
        )
        for i, amount in enumerate(amounts)
    )
    return plans, draw(st.integers(min_value=0, max_value=size - 1))


@PROPERTY
@given(ladder=ladders(), units=st.integers(0, 20000), quantity=st.integers(1, 4))
def test_v1_property_the_cheapest_option_costs_no_more_than_any_priced_option(
    ladder: tuple[tuple[Plan, ...], int], units: int, quantity: int
) -> None:
    plans, index = ladder
    advice = advise(
        plans=plans, current=plans[index].code, quantity=quantity, metric=ORDERS, units=units
    )
    assert len(advice.options) == len(plans) - index
    assert advice.cheapest in advice.options
    if advice.current.cost is None:
        assert advice.cheapest is advice.current
        return
    cheapest = advice.cheapest.cost
    assert cheapest is not None
    for option in advice.options:
        if option.cost is not None:
            assert cheapest.amount <= option.cost.amount
    assert advice.saving == advice.current.cost - cheapest
    assert advice.saving.amount >= 0


@PROPERTY
@given(ladder=ladders(), share=st.fractions(0, 1), quantity=st.integers(1, 4))
def test_v1_property_staying_within_the_allowance_is_always_cheapest(
    ladder: tuple[tuple[Plan, ...], int], share: Fraction, quantity: int
) -> None:
    plans, index = ladder
    current = plans[index]
    if current.price is None:
        return
    units = int(current.included(ORDERS, quantity) * share)
    advice = advise(
        plans=plans, current=current.code, quantity=quantity, metric=ORDERS, units=units
    )
    assert advice.current.units_over == 0
    assert advice.cheapest is advice.current
    assert advice.saving.amount == 0


def _reference_cost(plan: Plan, units: int, quantity: int) -> Fraction:
    """An independent, plain statement of V1's cost, for the breakeven property."""
    rule = plan.rules[ORDERS]
    assert plan.price is not None
    scale = quantity if plan.per_quantity else 1
    rate = Decimal(0)
    if rule.policy is OveragePolicy.BILL:
        rate = rule.overage_price or Decimal(0)
    elif rule.policy is OveragePolicy.TOP_UP_THEN_BACKLOG and plan.price != 0:
        rate = rule.top_up_price or Decimal(0)
    over = max(0, units - rule.included * scale)
    return Fraction(plan.price * scale) + Fraction(rate) * over


SCAN = 1500


@PROPERTY
@given(
    stay=st.tuples(prices, st.integers(0, 300), rates, policies),
    up=st.tuples(prices, st.integers(0, 300), rates, policies),
    quantity=st.integers(1, 3),
)
def test_v1_property_the_breakeven_is_the_first_usage_where_the_next_plan_is_cheaper(
    stay: tuple[Decimal, int, Decimal, OveragePolicy],
    up: tuple[Decimal, int, Decimal, OveragePolicy],
    quantity: int,
) -> None:
    plans = tuple(
        Plan(code, code, "x", "USD", price, Interval.MONTH, {ORDERS: _rule(policy, limit, rate)})
        for code, (price, limit, rate, policy) in (("stay", stay), ("up", up))
    )

    def dearer(units: int) -> bool:
        return _reference_cost(plans[0], units, quantity) > _reference_cost(
            plans[1], units, quantity
        )

    advice = advise(plans=plans, current="stay", quantity=quantity, metric=ORDERS, units=0)
    found = next((u for u in range(SCAN) if dearer(u)), None)
    if found is not None:
        assert advice.breakeven_units == found
    elif advice.breakeven_units is not None:  # a crossing further out than the scan
        assert advice.breakeven_units >= SCAN
        assert dearer(advice.breakeven_units)
        assert not dearer(advice.breakeven_units - 1)
    if advice.breakeven_units is not None:
        at = advise(
            plans=plans,
            current="stay",
            quantity=quantity,
            metric=ORDERS,
            units=advice.breakeven_units,
        )
        assert at.cheapest.plan_code == "up"


def _stay_cost(advice: Advice) -> Decimal:
    assert advice.current.cost is not None
    return advice.current.cost.amount


def _next_cost(advice: Advice) -> Decimal:
    cost = advice.options[1].cost
    assert cost is not None
    return cost.amount
