"""Building the catalog field by field from the YAML read, every problem reported."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from allot.catalog.loader.results import CatalogExtras, LoadedCatalog, Loc, PlanExtras
from allot.catalog.loader.source import (
    CODE_PATTERN,
    DUNNING_KEYS,
    FIRST_DAY,
    LAST_DAY,
    LINE_KEYS,
    MAX_CODE,
    METRIC_KEYS,
    PLAN_KEYS,
    RULE_KEYS,
    TOP_KEYS,
    Fields,
    Source,
    describe,
    did_you_mean,
)
from allot.core.catalog import (
    Catalog,
    Interval,
    Metric,
    MetricKind,
    MetricRule,
    NameKind,
    OveragePolicy,
    Plan,
    ProductLine,
)
from allot.core.dunning import DEFAULT_RETRY_DAYS, FinalRule, check_retry_days
from allot.core.errors import InvalidInput
from allot.core.money import exponent
from allot.core.reporting import DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS
from allot.kit.i18n import LANGUAGES

# --- building the catalog -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """What every plan is checked against: names defined in the file, valid or not."""

    currency: str | None
    features: Mapping[str, str]
    metric_codes: frozenset[str]
    metric_kinds: Mapping[str, MetricKind]
    product_line_codes: frozenset[str]


def read_catalog(source: Source, root: object) -> LoadedCatalog | None:
    if not isinstance(root, dict):
        source.problem(
            (),
            "a catalog file is a mapping with catalog:, metrics:, product_lines: and plans:",
            "not_a_mapping",
        )
        return None
    top = Fields(source, (), root, TOP_KEYS)
    name = top.text("catalog")
    if name is not None:
        _check_code(source, ("catalog",), name)
    description = top.text("description", "")
    currency: str | None = None
    if root.get("currency") is not None:
        currency = top.text("currency")
        if currency is not None:
            _check_currency(source, ("currency",), currency)
    features = _features(source, top)
    raw_metrics = top.mapping("metrics", required=True) or {}
    metrics = _each(raw_metrics, lambda code, raw: _metric(source, code, raw))
    raw_lines = top.mapping("product_lines", required=True) or {}
    product_lines = _each(raw_lines, lambda code, raw: _product_line(source, code, raw))
    context = _Context(
        currency=currency,
        features=features,
        metric_codes=frozenset(raw_metrics),
        metric_kinds={code: m.kind for code, m in metrics.items()},
        product_line_codes=frozenset(raw_lines),
    )
    raw_plans = top.mapping("plans", required=True) or {}
    read_plans = _each(raw_plans, lambda code, raw: _plan(source, context, code, raw))
    plans = {code: plan for code, (plan, _extras) in read_plans.items()}
    plan_extras = {code: extras for code, (_plan, extras) in read_plans.items()}
    _check_ladders(source, product_lines, plans, frozenset(raw_plans))
    defined = {
        "metrics": frozenset(raw_metrics),
        "product_lines": frozenset(raw_lines),
        "plans": frozenset(raw_plans),
        "features": frozenset(features),
    }
    names = _translations(source, top, defined)
    if source.problems or name is None:
        return None
    catalog = Catalog(
        name=name,
        metrics=metrics,
        product_lines=product_lines,
        plans=plans,
        description=description,
    )
    return LoadedCatalog(catalog, CatalogExtras(features, plan_extras, source.path, names))


NAMED = tuple(k.value for k in NameKind)
MAX_NAME = 200


def _translations(
    source: Source, top: Fields, defined: Mapping[str, frozenset[str]]
) -> dict[str, dict[str, dict[str, str]]]:
    """W2: the names of metrics, product lines, plans and features in other languages, as
    `translations: {th: {plans: {monthly: …}}}`; `name:` (a feature's meaning) is English."""
    names: dict[str, dict[str, dict[str, str]]] = {}
    others = [lang for lang in LANGUAGES if lang != "en"]
    for lang, raw in (top.mapping("translations", required=False) or {}).items():
        loc: Loc = ("translations", lang)
        if lang not in others:
            source.problem(
                loc, f"a language is one of {', '.join(others)}{did_you_mean(lang, others)}",
                "unknown_language",
            )  # fmt: skip
            continue
        if not isinstance(raw, dict):
            source.problem(loc, f"a mapping of {', '.join(NAMED)}", "wrong_type")
            continue
        kinds = Fields(source, loc, raw, NAMED)
        for kind in NAMED:
            for code, text in (kinds.mapping(kind, required=False) or {}).items():
                where = (*loc, kind, code)
                one = kind.removesuffix("s")
                if code not in defined[kind]:
                    source.problem(
                        where, f"no {one.replace('_', ' ')} {code!r} in this file",
                        f"undefined_{one}",
                    )  # fmt: skip
                elif not isinstance(text, str) or not text.strip() or len(text) > MAX_NAME:
                    source.problem(where, f"a name of 1-{MAX_NAME} characters", "wrong_type")
                elif "\n" in text or "\r" in text:
                    source.problem(where, "a name is one line", "wrong_type")
                else:
                    names.setdefault(lang, {}).setdefault(kind, {})[code] = text.strip()
    return names


def _features(source: Source, top: Fields) -> dict[str, str]:
    """The features plans may list, each with what it means (text)."""
    features: dict[str, str] = {}
    for code, meaning in (top.mapping("features", required=False) or {}).items():
        if _check_code(source, ("features", code), code):
            if isinstance(meaning, str):
                features[code] = meaning
            else:
                source.problem(
                    ("features", code),
                    f"must say what the feature means (text), not {describe(meaning)}",
                    "wrong_type",
                )
    return features


def _each(raw: Mapping[str, object], read: Callable[[str, object], T | None]) -> dict[str, T]:
    """Every entry read in the file's order; one that cannot be read is left out.

    Its problems are reported all the same, so that one run names every mistake.
    """
    out: dict[str, T] = {}
    for code, item in raw.items():
        value = read(code, item)
        if value is not None:
            out[code] = value
    return out


def _metric(source: Source, code: str, raw: object) -> Metric | None:
    loc: Loc = ("metrics", code)
    data = _entry(source, loc, code, raw)
    if data is None:
        return None
    before = len(source.problems)
    f = Fields(source, loc, data, METRIC_KEYS)
    name = f.text("name")
    kind = f.choice("kind", MetricKind)
    unit = f.text("unit", "unit")
    description = f.text("description", "")
    if len(source.problems) > before or name is None or kind is None:
        return None
    return _build(
        source,
        loc,
        lambda: Metric(code=code, name=name, kind=kind, unit=unit, description=description),
    )


def _product_line(source: Source, code: str, raw: object) -> ProductLine | None:
    loc: Loc = ("product_lines", code)
    data = _entry(source, loc, code, raw)
    if data is None:
        return None
    before = len(source.problems)
    f = Fields(source, loc, data, LINE_KEYS)
    name = f.text("name")
    ladder = f.names("ladder", required=True)
    overage_day = f.integer("overage_invoice_day", minimum=FIRST_DAY, maximum=LAST_DAY, default=8)
    top_up_day = f.integer("top_up_invoice_day", minimum=FIRST_DAY, maximum=LAST_DAY, default=1)
    waive = f.boolean("waive_overage_on_upgrade", False)
    reward = f.money("referral_reward")
    archive_oldest = f.boolean("archive_oldest", False)
    grace = f.integer(
        "late_usage_grace_days", minimum=0, maximum=MAX_GRACE_DAYS, default=DEFAULT_GRACE_DAYS
    )
    retry_days, final_rule = _dunning(source, loc, f.mapping("dunning", required=False))
    if len(source.problems) > before or None in (name, ladder, overage_day, top_up_day, grace):
        return None
    assert name is not None
    assert ladder is not None
    assert overage_day is not None
    assert top_up_day is not None
    assert grace is not None
    return _build(
        source,
        loc,
        lambda: ProductLine(
            code=code,
            name=name,
            ladder=tuple(ladder),
            overage_invoice_day=overage_day,
            top_up_invoice_day=top_up_day,
            waive_overage_on_upgrade=waive,
            referral_reward=reward,
            archive_oldest=archive_oldest,
            late_usage_grace_days=grace,
            retry_days=retry_days,
            final_rule=final_rule,
        ),
    )


def _dunning(
    source: Source, loc: Loc, raw: Mapping[str, object] | None
) -> tuple[tuple[int, ...], FinalRule]:
    """P2: `dunning: {retry_days: [1, 3, …], final_rule: downgrade | cancel | keep}`."""
    if not raw:
        return DEFAULT_RETRY_DAYS, FinalRule.KEEP
    at: Loc = (*loc, "dunning")
    f = Fields(source, at, raw, DUNNING_KEYS)
    days = raw.get("retry_days", list(DEFAULT_RETRY_DAYS))
    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS
    if not isinstance(days, list) or any(
        isinstance(d, bool) or not isinstance(d, int) for d in days
    ):
        source.problem(
            (*at, "retry_days"), f"must be a list of days, not {describe(days)}", "wrong_type"
        )
    elif (why := check_retry_days(tuple(days))) is not None:
        source.problem((*at, "retry_days"), why, "out_of_range")
    else:
        retry_days = tuple(days)
    rule = f.choice("final_rule", FinalRule) if "final_rule" in raw else FinalRule.KEEP
    return retry_days, rule or FinalRule.KEEP


def _plan(
    source: Source, context: _Context, code: str, raw: object
) -> tuple[Plan, PlanExtras] | None:
    loc: Loc = ("plans", code)
    data = _entry(source, loc, code, raw)
    if data is None:
        return None
    before = len(source.problems)
    f = Fields(source, loc, data, PLAN_KEYS)
    name = f.text("name")
    product_line = _plan_product_line(source, context, f)
    currency = _plan_currency(source, context, f, data)
    price = _plan_price(source, f, data)
    interval = f.choice("interval", Interval)
    per_quantity = f.boolean("per_quantity", False)
    features = _plan_features(source, context, f)
    note = f.text("note", "")
    tip = f.text("tip", "")
    published = f.money("published_price_per_order")
    rules, examples = _plan_rules(source, context, f)
    if len(source.problems) > before:
        return None
    assert name is not None
    assert product_line is not None
    assert currency is not None
    assert interval is not None
    plan = _build(
        source,
        loc,
        lambda: Plan(
            code=code,
            name=name,
            product_line=product_line,
            currency=currency,
            price=price,
            interval=interval,
            rules=rules,
            features=frozenset(features),
            per_quantity=per_quantity,
            note=note,
        ),
    )
    if plan is None:
        return None
    extras = PlanExtras(tip, published, frozenset(examples), source.line(loc))
    return plan, extras


def _plan_product_line(source: Source, context: _Context, f: Fields) -> str | None:
    """The plan's product line, which must be defined under product_lines:."""
    product_line = f.text("product_line")
    if product_line is not None and product_line not in context.product_line_codes:
        source.problem(
            f.at("product_line"),
            f"product line {product_line!r} is not defined under product_lines:"
            + did_you_mean(product_line, sorted(context.product_line_codes)),
            "undefined_product_line",
        )
    return product_line


def _plan_currency(
    source: Source, context: _Context, f: Fields, data: Mapping[str, object]
) -> str | None:
    """The plan's own currency, else the catalog's; one of them is required."""
    currency = context.currency
    if data.get("currency") is not None or currency is None:
        currency = f.text("currency")
        if currency is not None:
            _check_currency(source, f.at("currency"), currency)
    return currency


def _plan_price(source: Source, f: Fields, data: Mapping[str, object]) -> Decimal | None:
    """A price, or by_agreement: true for a plan priced by agreement — exactly one of them."""
    price = f.money("price")
    by_agreement = f.boolean("by_agreement", False)
    if by_agreement and data.get("price") is not None:
        source.problem(
            f.at("price"),
            "a plan by agreement has no price: leave price out, or set by_agreement: false",
            "price_by_agreement",
        )
    elif not by_agreement and data.get("price") is None:
        source.problem(
            f.at("price"),
            'required: a price ("0" for a free plan), or by_agreement: true for a plan '
            "priced by agreement",
            "missing_field",
        )
    return price


def _plan_features(source: Source, context: _Context, f: Fields) -> list[str]:
    """The features the plan sells, each declared under features:."""
    features = f.names("features", required=False) or []
    for index, feature in enumerate(features):
        if feature not in context.features:
            source.problem(
                (*f.at("features"), index),
                f"feature {feature!r} is not declared under features:"
                + did_you_mean(feature, sorted(context.features)),
                "undefined_feature",
            )
    return features


def _plan_rules(
    source: Source, context: _Context, f: Fields
) -> tuple[dict[str, MetricRule], set[str]]:
    """The plan's rule for each metric it meters, and the metrics shown as examples."""
    rules: dict[str, MetricRule] = {}
    examples: set[str] = set()
    for metric, raw_rule in (f.mapping("metrics", required=False) or {}).items():
        read = _rule(source, context, (*f.at("metrics"), metric), metric, raw_rule)
        if read is not None:
            rules[metric], example = read
            if example:
                examples.add(metric)
    return rules, examples


def _rule(
    source: Source, context: _Context, loc: Loc, metric: str, raw: object
) -> tuple[MetricRule, bool] | None:
    before = len(source.problems)
    if metric not in context.metric_codes:
        source.problem(
            loc,
            f"metric {metric!r} is not defined under metrics:"
            + did_you_mean(metric, sorted(context.metric_codes)),
            "undefined_metric",
        )
    if not isinstance(raw, dict):
        source.problem(loc, f"must be a mapping, not {describe(raw)}", "wrong_type")
        return None
    f = Fields(source, loc, raw, RULE_KEYS)
    included = f.integer("included", minimum=0)
    policy = f.choice("policy", OveragePolicy)
    before_prices = len(source.problems)
    overage_price = f.money("overage_price")
    top_up_price = f.money("top_up_price")
    prices_read = len(source.problems) == before_prices  # else the core would repeat it
    example = f.boolean("example", False)
    if policy is not None:
        _check_unused_prices(source, f, policy, overage_price, top_up_price)
        if (
            policy is OveragePolicy.TOP_UP_THEN_BACKLOG
            and context.metric_kinds.get(metric) is MetricKind.GAUGE
        ):
            source.problem(
                f.at("policy"),
                f"top_up_then_backlog queues counted actions; {metric!r} is a gauge",
                "policy_needs_counter",
            )
    if policy is None or not prices_read:
        return None
    # Built even when another field is wrong (a neutral 0 standing in for a bad
    # allowance), so that the core's own checks are reported in the same run.
    rule = _build(
        source,
        loc,
        lambda: MetricRule(
            metric=metric,
            included=0 if included is None else included,
            policy=policy,
            overage_price=overage_price,
            top_up_price=top_up_price,
        ),
    )
    if rule is None or len(source.problems) > before:
        return None
    return rule, example


def _check_unused_prices(
    source: Source,
    f: Fields,
    policy: OveragePolicy,
    overage_price: Decimal | None,
    top_up_price: Decimal | None,
) -> None:
    """Refuse a price the policy never uses: as likely a mistake as one missing.

    The core itself insists a price is there when the policy needs one.
    """
    if overage_price is not None and policy is not OveragePolicy.BILL:
        source.problem(
            f.at("overage_price"),
            f"only policy 'bill' uses an overage price (this policy is {policy.value!r})",
            "unused_overage_price",
        )
    if top_up_price is not None and policy is not OveragePolicy.TOP_UP_THEN_BACKLOG:
        source.problem(
            f.at("top_up_price"),
            "only policy 'top_up_then_backlog' uses a top-up price "
            f"(this policy is {policy.value!r})",
            "unused_top_up_price",
        )


def _check_ladders(
    source: Source,
    product_lines: Mapping[str, ProductLine],
    plans: Mapping[str, Plan],
    plan_codes: frozenset[str],
) -> None:
    """C4: a ladder lists plans of its own product line, one currency; each plan in one ladder."""
    for line_code, product_line in product_lines.items():
        currency: str | None = None
        for index, plan_code in enumerate(product_line.ladder):
            at: Loc = ("product_lines", line_code, "ladder", index)
            if plan_code not in plan_codes:
                source.problem(
                    at,
                    f"plan {plan_code!r} is not defined under plans:"
                    + did_you_mean(plan_code, sorted(plan_codes)),
                    "undefined_plan",
                )
                continue
            plan = plans.get(plan_code)
            if plan is None:  # its own problems are reported where it is defined
                continue
            if plan.product_line != line_code:
                source.problem(
                    at,
                    f"plan {plan_code!r} belongs to product line {plan.product_line!r}",
                    "plan_in_other_ladder",
                )
                continue
            if currency is None:
                currency = plan.currency
            elif plan.currency != currency:
                source.problem(
                    at,
                    f"plan {plan_code!r} is priced in {plan.currency}, the plans below it in "
                    f"{currency}: a ladder compares prices, so it has one currency",
                    "mixed_currencies",
                )
    for code, plan in plans.items():
        own = product_lines.get(plan.product_line)
        if own is not None and code not in own.ladder:
            source.problem(
                ("plans", code, "product_line"),
                f"plan {code!r} is not on the ladder of product line {plan.product_line!r}: "
                f"add it to product_lines.{plan.product_line}.ladder",
                "plan_not_in_ladder",
            )
    for line_code, product_line in product_lines.items():
        first = plans.get(product_line.ladder[0]) if product_line.ladder else None
        if (
            product_line.final_rule is FinalRule.DOWNGRADE
            and first is not None
            and first.price != 0
        ):
            source.problem(
                ("product_lines", line_code, "dunning", "final_rule"),
                f"downgrade moves a subscription to the ladder's first plan, which must be free: "
                f"{first.code!r} is not (use cancel or keep)",
                "downgrade_needs_free_plan",
            )


# --- small helpers ------------------------------------------------------------------------

T = TypeVar("T")


def _build(source: Source, loc: Loc, make: Callable[[], T]) -> T | None:
    """Construct a core dataclass, reporting its own checks (InvalidInput) as problems."""
    try:
        return make()
    except InvalidInput as exc:
        source.problem((*loc, exc.field) if exc.field else loc, exc.message, exc.code)
        return None


def _entry(source: Source, loc: Loc, code: str, raw: object) -> dict[str, object] | None:
    code_ok = _check_code(source, loc, code)
    if not isinstance(raw, dict):
        source.problem(loc, f"must be a mapping, not {describe(raw)}", "wrong_type")
        return None
    return raw if code_ok else None


def _check_code(source: Source, loc: Loc, code: str) -> bool:
    if CODE_PATTERN.match(code) and len(code) <= MAX_CODE:
        return True
    source.problem(
        loc,
        f"{code!r} is not a valid code: use up to {MAX_CODE} lowercase letters and digits, "
        "joined by single '-' or '_'",
        "invalid_code",
    )
    return False


def _check_currency(source: Source, loc: Loc, currency: str) -> None:
    try:
        exponent(currency)
    except InvalidInput as exc:
        source.problem(loc, exc.message, exc.code)
