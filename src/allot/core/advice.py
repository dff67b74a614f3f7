"""Upgrade advice (V1): what a month's usage costs on the current plan and on each plan above.

For one metric's usage in one month, on a subscription's plan and quantity,
`advise` prices staying against every plan above it on the same ladder:

    cost = the plan's price for one month (x quantity if per_quantity; a yearly
           plan counts a twelfth of its price)
         + units past the allowance x the plan's rate past it

The rate past the allowance follows the plan's rule for the metric (U4):

- `bill`: the overage price (Loyalty, Full Suite);
- `top_up_then_backlog`: the top-up price, i.e. what it costs to have every
  order processed, as with an Unlimited top-up limit (Reviews, R2). A free
  plan cannot buy top-ups, so there the orders wait in the backlog unpaid;
- `record_and_prompt`, `block`: nothing. The units over are shown, not charged.

A plan above may itself be past its own allowance; it is priced the same way.
Plans by agreement (and plans with no terms for the metric) are listed
without a cost. The cheapest priced option wins; ties go to staying, then to
the lower plan.

The *breakeven* is the smallest whole usage at which the next plan up costs
strictly less than staying, and its share of that plan's allowance. (It is the
first crossing: where the plan above has the dearer overage, staying can be
cheapest again further out, and the sentence then offers no threshold.) Both cost
curves are straight lines that bend only at an allowance, so it is solved
exactly (with fractions) piece by piece, never by scanning and never
hard-coded. The seed's rule of thumb, "upgrade once usage passes about 85 % of
the next tier", is what this arithmetic gives for some pairs of its tables
(Loyalty Business -> Professional: 3,001 / 3,500 = 0.857) and not for others
(Loyalty Premium -> Business: 1,101 / 1,500 = 0.734); tests/core/test_advice.py
lists every pair.

Money stays exact; only the sentence in `Advice.message` shows rounded
amounts. Pages and documents render their own text from the fields.

The seed's own example (V1): Loyalty Business at 3,000 orders costs
$179 + 1,500 x $0.20 = $479, exactly the Professional price; one order more
and Professional is the cheaper plan.

    >>> from allot.core.catalog import Interval, MetricRule, OveragePolicy, Plan
    >>> def loyalty(code: str, price: str, limit: int, overage: str) -> Plan:
    ...     rule = MetricRule("orders", limit, OveragePolicy.BILL, Decimal(overage))
    ...     return Plan(code, f"Loyalty {code.title()}", "loyalty", "USD",
    ...                 Decimal(price), Interval.MONTH, {"orders": rule})
    >>> ladder = [loyalty("business", "179", 1500, "0.20"),
    ...           loyalty("professional", "479", 3500, "0.22")]
    >>> advice = advise(plans=ladder, current="business", quantity=1,
    ...                 metric="orders", units=3000)
    >>> stay = advice.current
    >>> stay.plan_cost, stay.units_over, stay.over_charge, stay.cost
    (Money('179', 'USD'), 1500, Money('300.00', 'USD'), Money('479.00', 'USD'))
    >>> advice.options[1].cost
    Money('479.00', 'USD')
    >>> advice.cheapest.plan_code, advice.saving
    ('business', Money('0', 'USD'))
    >>> advice.breakeven_units, advice.breakeven_share
    (3001, Decimal('0.857'))
    >>> print(advice.message)  # doctest: +NORMALIZE_WHITESPACE
    At 3,000 orders, Loyalty Business costs $479.00, the same as Loyalty Professional
    ($479.00): upgrade once you expect more than 3,000 orders a month.
    >>> advise(plans=ladder, current="business", quantity=1,
    ...        metric="orders", units=3001).saving
    Money('0.20', 'USD')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from allot.core.catalog import MetricRule, OveragePolicy, Plan
from allot.core.errors import InvalidInput
from allot.core.money import Money

__all__ = ["SHARE_PLACES", "Advice", "Option", "advise"]

SHARE_PLACES = Decimal("0.001")  # breakeven shares to a tenth of a percent: 0.857

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "THB": "฿"}


@dataclass(frozen=True, slots=True)
class Option:
    """One plan priced for the month's usage (the current plan or one above it)."""

    plan_code: str
    plan_name: str
    is_current: bool
    policy: OveragePolicy | None  # None: the plan has no terms for this metric
    included: int  # the allowance at this quantity (0 without terms for the metric)
    units_over: int  # usage past the allowance, charged or not
    plan_cost: Money | None  # the price for one month at this quantity; None by agreement
    over_charge: Money  # what the units over cost (zero when the policy does not charge)
    cost: Money | None  # plan_cost + over_charge; None when the plan cannot be priced

    @property
    def priced(self) -> bool:
        return self.cost is not None


@dataclass(frozen=True, slots=True)
class Advice:
    metric: str
    units: int
    quantity: int
    current: Option
    options: tuple[Option, ...]  # the current plan first, then the plans above in ladder order
    cheapest: Option  # the cheapest priced option (the current one if it cannot be priced)
    saving: Money  # current.cost - cheapest.cost (zero when staying is cheapest)
    # The smallest whole usage at which the next plan up is strictly cheaper than
    # staying; None with no plan above, an unpriced one, or no such usage.
    breakeven_units: int | None
    breakeven_share: Decimal | None  # breakeven_units / the next plan's allowance, 3 places
    message: str  # one plain English sentence

    @property
    def upgrade(self) -> bool:
        return not self.cheapest.is_current


def advise(
    *, plans: Sequence[Plan], current: str, quantity: int, metric: str, units: int
) -> Advice:
    """Price `units` of `metric` on plan `current` and on each plan after it in `plans`.

    `plans` are the ladder's plans in ladder order (cheapest first, as in
    `ProductLine.ladder`); those below the current plan are ignored.
    """
    index = _validate(plans=plans, current=current, quantity=quantity, metric=metric, units=units)
    ladder = plans[index:]
    options = tuple(
        _option(plan, quantity=quantity, metric=metric, units=units, is_current=i == 0)
        for i, plan in enumerate(ladder)
    )
    stay = options[0]
    cheapest = _cheapest(options)
    zero = Money.zero(ladder[0].currency)
    saving = (
        stay.cost - cheapest.cost
        if stay.cost is not None and cheapest.cost is not None and cheapest is not stay
        else zero
    )
    breakeven_units: int | None = None
    breakeven_share: Decimal | None = None
    if len(ladder) > 1:
        breakeven_units = _breakeven(ladder[0], ladder[1], quantity=quantity, metric=metric)
        allowance = ladder[1].included(metric, quantity)
        if breakeven_units is not None and allowance > 0:
            breakeven_share = (Decimal(breakeven_units) / Decimal(allowance)).quantize(
                SHARE_PLACES, rounding=ROUND_HALF_UP
            )
    return Advice(
        metric=metric,
        units=units,
        quantity=quantity,
        current=stay,
        options=options,
        cheapest=cheapest,
        saving=saving,
        breakeven_units=breakeven_units,
        breakeven_share=breakeven_share,
        message=_message(options, cheapest, saving, breakeven_units, metric=metric, units=units),
    )


# --- pricing ----------------------------------------------------------------------------


def _rate(plan: Plan, rule: MetricRule) -> Decimal:
    """The price of one unit past the allowance (MetricRule guarantees the prices exist)."""
    if rule.policy is OveragePolicy.BILL and rule.overage_price is not None:
        return rule.overage_price
    if (
        rule.policy is OveragePolicy.TOP_UP_THEN_BACKLOG
        and rule.top_up_price is not None
        and not plan.is_free  # R2: no top-ups on a free plan; orders wait in the backlog
    ):
        return rule.top_up_price
    return Decimal(0)


def _monthly_price(plan: Plan, quantity: int) -> Fraction | None:
    price = plan.price_for(quantity)
    if price is None:
        return None
    return Fraction(price) / plan.interval.months


def _option(plan: Plan, *, quantity: int, metric: str, units: int, is_current: bool) -> Option:
    rule = plan.rule(metric)
    zero = Money.zero(plan.currency)
    price = plan.price_for(quantity)
    plan_cost: Money | None = None
    if price is not None:
        plan_cost = Money.of(price, plan.currency)
        if plan.interval.months != 1:
            plan_cost = plan_cost / plan.interval.months
    if rule is None:
        return Option(
            plan_code=plan.code,
            plan_name=plan.name,
            is_current=is_current,
            policy=None,
            included=0,
            units_over=0,
            plan_cost=plan_cost,
            over_charge=zero,
            cost=None,
        )
    included = plan.included(metric, quantity)
    units_over = max(0, units - included)
    over_charge = Money.of(_rate(plan, rule), plan.currency) * units_over
    return Option(
        plan_code=plan.code,
        plan_name=plan.name,
        is_current=is_current,
        policy=rule.policy,
        included=included,
        units_over=units_over,
        plan_cost=plan_cost,
        over_charge=over_charge,
        cost=None if plan_cost is None else plan_cost + over_charge,
    )


def _cost_key(option: Option) -> Decimal:
    """Sort key for priced options only (callers filter out the unpriced)."""
    return option.cost.amount if option.cost is not None else Decimal("Infinity")


def _cheapest(options: tuple[Option, ...]) -> Option:
    """The lowest cost; ties keep the earlier option (staying, then the lower plan)."""
    if options[0].cost is None:
        return options[0]  # by agreement: nothing to compare it with
    return min(options, key=_cost_key)  # min keeps the first of equal keys


# --- breakeven --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Curve:
    """cost(u) = base + rate x max(0, u - allowance), exactly."""

    base: Fraction
    allowance: int
    rate: Fraction

    def cost(self, units: int) -> Fraction:
        return self.base + self.rate * max(0, units - self.allowance)


def _curve(plan: Plan, *, quantity: int, metric: str) -> _Curve | None:
    rule = plan.rule(metric)
    base = _monthly_price(plan, quantity)
    if rule is None or base is None:
        return None
    return _Curve(base, plan.included(metric, quantity), Fraction(_rate(plan, rule)))


def _breakeven(stay_plan: Plan, next_plan: Plan, *, quantity: int, metric: str) -> int | None:
    """The smallest u >= 0 with stay(u) > next(u), or None if there is none.

    d(u) = stay(u) - next(u) is linear between the two allowances, so on each
    piece [lo, hi] it is d(lo) + slope x (u - lo): if d(lo) <= 0 and the slope
    is positive, the first whole u past the root is lo + floor(-d(lo)/slope) + 1.
    """
    stay = _curve(stay_plan, quantity=quantity, metric=metric)
    up = _curve(next_plan, quantity=quantity, metric=metric)
    if stay is None or up is None:
        return None
    points = sorted({0, stay.allowance, up.allowance})
    for i, lo in enumerate(points):
        hi = points[i + 1] if i + 1 < len(points) else None  # None: no end
        gap = stay.cost(lo) - up.cost(lo)
        if gap > 0:
            return lo
        slope = (stay.rate if lo >= stay.allowance else 0) - (up.rate if lo >= up.allowance else 0)
        if slope > 0:
            u = lo + math.floor(-gap / slope) + 1
            if hi is None or u <= hi:
                return u
    return None


# --- validation and the sentence --------------------------------------------------------


def _validate(
    *, plans: Sequence[Plan], current: str, quantity: int, metric: str, units: int
) -> int:
    if isinstance(units, bool) or not isinstance(units, int) or units < 0:
        raise InvalidInput("invalid_units", "units must be a whole number >= 0", field="units")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidInput(
            "invalid_quantity", "quantity must be a whole number >= 1", field="quantity"
        )
    codes = [plan.code for plan in plans]
    if len(set(codes)) != len(codes):
        raise InvalidInput("duplicate_plan", "a plan appears twice in the ladder", field="plans")
    if current not in codes:
        raise InvalidInput(
            "unknown_plan", f"plan {current!r} is not on this ladder", field="current"
        )
    index = codes.index(current)
    if plans[index].rule(metric) is None:
        raise InvalidInput(
            "metric_not_on_plan", f"plan {current!r} has no terms for {metric!r}", field="metric"
        )
    currency = plans[index].currency
    for plan in plans[index + 1 :]:
        if plan.currency != currency:
            raise InvalidInput(
                "currency_mismatch",
                f"plan {plan.code!r} is in {plan.currency}, {current!r} in {currency}",
                field="plans",
            )
    return index


def _show(money: Money) -> str:
    amount = f"{money.rounded().amount:,}"
    symbol = _SYMBOLS.get(money.currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {money.currency}"


def _show_cost(option: Option) -> str:
    return "by agreement" if option.cost is None else _show(option.cost)


def _not_charged(option: Option, unit: str) -> str:
    """Why units past the allowance cost nothing on this plan, if they do."""
    if option.units_over == 0 or option.over_charge.amount != 0:
        return ""
    what = {
        OveragePolicy.RECORD_AND_PROMPT: "are recorded, not billed",
        OveragePolicy.BLOCK: "are refused",
        OveragePolicy.TOP_UP_THEN_BACKLOG: "wait in the backlog (no top-ups on a free plan)",
    }.get(option.policy or OveragePolicy.BILL, "are not charged")
    return f"; {option.units_over:,} {unit} past its allowance {what}"


def _message(
    options: tuple[Option, ...],
    cheapest: Option,
    saving: Money,
    breakeven_units: int | None,
    *,
    metric: str,
    units: int,
) -> str:
    unit = metric.replace("_", " ")
    stay, above = options[0], options[1:]
    start = f"At {units:,} {unit}, {stay.plan_name}"
    if stay.cost is None:
        return f"{start} is priced by agreement, so there is nothing to compare it with."
    if cheapest is not stay and cheapest.cost is not None:
        return (
            f"{start} costs {_show(stay.cost)}; {cheapest.plan_name} would cost "
            f"{_show(cheapest.cost)}, saving {_show(saving)} a month."
        )
    head = f"{start} costs {_show(stay.cost)}"
    unpaid = _not_charged(stay, unit)
    if not above:
        return f"{head}; there is no plan above it{unpaid}."
    priced = [option for option in above if option.cost is not None]
    if not priced:
        names = " and ".join(option.plan_name for option in above)
        verb = "is" if len(above) == 1 else "are"
        return f"{head}; {names} {verb} priced by agreement{unpaid}."
    alternative = min(priced, key=_cost_key)  # the cheapest plan above; ties: the lower
    relation = "the same as" if _cost_key(alternative) == _cost_key(stay) else "less than"
    sentence = f"{head}, {relation} {alternative.plan_name} ({_show_cost(alternative)}){unpaid}"
    # The first crossing can lie below today's usage when a plan above has a dearer
    # overage; then it is no threshold to look forward to, and is not offered.
    if breakeven_units is not None and breakeven_units > units:
        more = f"more than {breakeven_units - 1:,} {unit} a month"
        if alternative is above[0]:
            sentence += f": upgrade once you expect {more}"
        else:
            sentence += f": {above[0].plan_name} becomes the cheaper plan at {more}"
    return sentence + "."
