"""Catalog files: YAML in, `allot.core.catalog.Catalog` out, or every problem with its line.

The format, in brief (each preset in presets/ opens with a commented copy):

    catalog: stamp-card              # the catalog's name (a code)
    description: ...
    currency: EUR                    # optional: the currency of plans that name none
    features:                        # the flags plans may list, with what they mean
      wallet_passes: Apple Wallet + Google Wallet passes
    metrics:                         # C1
      card_operations: {name: Card operations, kind: counter, unit: operation}
    product_lines:                   # C4: a ladder of plans, cheapest first; B2 days
      stamp-card: {name: Loyalty cards, ladder: [free, monthly],
                   overage_invoice_day: 8, top_up_invoice_day: 1,
                   waive_overage_on_upgrade: false,   # B3
                   late_usage_grace_days: 35}         # B7: late usage accepted this long
    plans:                           # C2
      monthly:
        name: Monthly
        product_line: stamp-card
        currency: EUR
        price: "29"                  # a quoted decimal or an integer, never a float
        by_agreement: false          # true, with no price, for Custom / Enterprise
        interval: month              # month | year
        per_quantity: true           # C3: price and allowances x quantity (locations)
        features: [wallet_passes]
        note: ...                    # shown with the plan
        tip: ...                     # advice shown beside the plan (V3)
        published_price_per_order: "0.19"   # a figure the source publishes, for display
        metrics:
          card_operations:
            included: 1000           # per unit of quantity, per month
            policy: bill             # bill | record_and_prompt | block | top_up_then_backlog
            overage_price: "0.03"    # policy bill only
            top_up_price: "0.14"     # policy top_up_then_backlog only
            example: true            # figures the source does not give: example numbers

Why not `yaml.safe_load` plus a schema library: C5 wants each problem named by
file, line and field, and all of them at once. So the text is *composed* with
PyYAML's safe loader (nodes carry marks), turned into plain values while the
line of every key and list item is noted, and then read field by field: a bad
field is reported and reading goes on, so one run lists every problem. The
core dataclasses' own checks (`InvalidInput`) are reported the same way. A
catalog is built only from a file with no problem at all.

Money is never a float: YAML reads `0.14` as a binary fraction, which cannot
hold 14 cents exactly, so the loader refuses it and asks for "0.14".

What the core `Plan` has no room for (tips, published figures, which numbers
are examples, what a feature means) comes back beside the catalog as
`CatalogExtras` (`load_catalog_with_extras`); `catalog_to_dict` renders both.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeVar, overload

import yaml

from allot.core.catalog import (
    Catalog,
    Interval,
    Metric,
    MetricKind,
    MetricRule,
    OveragePolicy,
    Plan,
    ProductLine,
)
from allot.core.errors import InvalidInput
from allot.core.money import exponent, to_decimal
from allot.core.reporting import DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS

__all__ = [
    "CatalogError",
    "CatalogExtras",
    "CatalogProblem",
    "LoadedCatalog",
    "PlanExtras",
    "catalog_to_dict",
    "load_catalog",
    "load_catalog_with_extras",
    "parse_catalog",
    "parse_catalog_with_extras",
]

Loc = tuple[str | int, ...]
_E = TypeVar("_E", bound=StrEnum)

_MAP_TAG: Final = "tag:yaml.org,2002:map"
_SEQ_TAG: Final = "tag:yaml.org,2002:seq"
_STR_TAG: Final = "tag:yaml.org,2002:str"
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_CODE: Final = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*\Z")
_MAX_CODE: Final = 64  # the database's code columns
_MAX_NODES: Final = 100_000  # a catalog has hundreds; stops alias bombs
_FIRST_DAY, _LAST_DAY = 1, 28  # every month has these days

_TOP_KEYS: Final = (
    "catalog",
    "description",
    "currency",
    "features",
    "metrics",
    "product_lines",
    "plans",
)
_METRIC_KEYS: Final = ("name", "kind", "unit", "description")
_LINE_KEYS: Final = (
    "name",
    "ladder",
    "overage_invoice_day",
    "top_up_invoice_day",
    "waive_overage_on_upgrade",
    "referral_reward",
    "archive_oldest",
    "late_usage_grace_days",
)
_PLAN_KEYS: Final = (
    "name",
    "product_line",
    "currency",
    "price",
    "by_agreement",
    "interval",
    "per_quantity",
    "features",
    "note",
    "tip",
    "published_price_per_order",
    "metrics",
)
_RULE_KEYS: Final = ("included", "policy", "overage_price", "top_up_price", "example")


# --- errors -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """One thing wrong with a catalog file, where it is and a stable snake_case code."""

    path: str
    line: int | None  # 1-based; None when the file could not be read at all
    field: str  # dotted: plans.reviews-business.metrics.orders.top_up_price
    message: str
    code: str = "invalid_catalog"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class CatalogError(InvalidInput):
    """A catalog file that cannot be loaded; `problems` lists everything found, by line.

    `path`, `line` and `field` are those of the first problem; `str()` shows
    them all, one per line:

        presets/x.yaml:42: plans.monthly.price: must be a decimal string or integer, not ...
    """

    def __init__(self, problems: Sequence[CatalogProblem]) -> None:
        if not problems:
            raise ValueError("a CatalogError needs at least one problem")
        ordered = sorted(problems, key=lambda p: 0 if p.line is None else p.line)
        first = ordered[0]
        super().__init__(
            "invalid_catalog", "\n".join(str(p) for p in ordered), field=first.field or None
        )
        self.problems: list[CatalogProblem] = ordered
        self.path: str = first.path
        self.line: int | None = first.line

    def __str__(self) -> str:
        return self.message


# --- what the core has no room for ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanExtras:
    tip: str = ""  # advice shown beside the plan (V3)
    published_price_per_order: Decimal | None = None  # as the source prints it (seed 003)
    example_metrics: frozenset[str] = frozenset()  # rules whose figures are example numbers
    line: int | None = None  # where the plan starts in its file


@dataclass(frozen=True, slots=True)
class CatalogExtras:
    features: Mapping[str, str] = field(default_factory=dict)  # code -> what it means
    plans: Mapping[str, PlanExtras] = field(default_factory=dict)
    path: str = "<string>"

    def plan_details(self, code: str) -> dict[str, Any]:
        """The plan's descriptive extras, JSON-able (what a store keeps beside the plan)."""
        extras = self.plans.get(code, PlanExtras())
        return {
            "tip": extras.tip,
            "published_price_per_order": _text(extras.published_price_per_order),
            "example_metrics": sorted(extras.example_metrics),
        }

    def details(self) -> dict[str, dict[str, Any]]:
        return {code: self.plan_details(code) for code in self.plans}


@dataclass(frozen=True, slots=True)
class LoadedCatalog:
    catalog: Catalog
    extras: CatalogExtras

    def to_dict(self) -> dict[str, Any]:
        return catalog_to_dict(self.catalog, self.extras)


# --- public API ---------------------------------------------------------------------------


def load_catalog(path: Path | str) -> Catalog:
    return load_catalog_with_extras(path).catalog


def parse_catalog(text: str, *, path: str = "<string>") -> Catalog:
    return parse_catalog_with_extras(text, path=path).catalog


def load_catalog_with_extras(path: Path | str) -> LoadedCatalog:
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CatalogError(
            [CatalogProblem(shown, None, "", f"cannot read the file: {reason}", "unreadable_file")]
        ) from None
    return parse_catalog_with_extras(text, path=shown)


def parse_catalog_with_extras(text: str, *, path: str = "<string>") -> LoadedCatalog:
    source = _Source(path)
    root = source.compose(text)  # None: unreadable YAML, reported
    if root is None and not source.problems:
        source.problem((), "the file is empty", "empty_catalog")
    # Keep reading past non-fatal YAML problems (a duplicate key), to report everything.
    loaded = None if root is None else _read_catalog(source, root)
    if source.problems or loaded is None:
        raise CatalogError(source.problems or [CatalogProblem(path, 1, "", "not a catalog")])
    return loaded


def catalog_to_dict(catalog: Catalog, extras: CatalogExtras | None = None) -> dict[str, Any]:
    """A JSON-able rendering (decimals as strings), in the catalog's own order.

    With `extras`, plans also carry `tip` and `published_price_per_order`,
    each metric rule says whether its figures are `example` numbers, and
    `features` says what each flag means; without, those keys are left out
    rather than guessed.
    """
    out: dict[str, Any] = {"name": catalog.name, "description": catalog.description}
    if extras is not None:
        out["features"] = dict(extras.features)
    out["metrics"] = {
        code: {
            "code": m.code,
            "name": m.name,
            "kind": m.kind.value,
            "unit": m.unit,
            "description": m.description,
        }
        for code, m in catalog.metrics.items()
    }
    out["product_lines"] = {
        code: {
            "code": pl.code,
            "name": pl.name,
            "ladder": list(pl.ladder),
            "overage_invoice_day": pl.overage_invoice_day,
            "top_up_invoice_day": pl.top_up_invoice_day,
            "waive_overage_on_upgrade": pl.waive_overage_on_upgrade,
            "referral_reward": None if pl.referral_reward is None else str(pl.referral_reward),
            "archive_oldest": pl.archive_oldest,
            "late_usage_grace_days": pl.late_usage_grace_days,
        }
        for code, pl in catalog.product_lines.items()
    }
    out["plans"] = {
        code: _plan_to_dict(plan, None if extras is None else extras.plans.get(code, PlanExtras()))
        for code, plan in catalog.plans.items()
    }
    return out


def _plan_to_dict(plan: Plan, extras: PlanExtras | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": plan.code,
        "version": plan.version,
        "name": plan.name,
        "product_line": plan.product_line,
        "currency": plan.currency,
        "price": _text(plan.price),
        "by_agreement": plan.by_agreement,
        "is_free": plan.is_free,
        "interval": plan.interval.value,
        "per_quantity": plan.per_quantity,
        "features": sorted(plan.features),
        "note": plan.note,
    }
    if extras is not None:
        out["tip"] = extras.tip
        out["published_price_per_order"] = _text(extras.published_price_per_order)
    rules: dict[str, Any] = {}
    for metric, rule in plan.rules.items():
        rules[metric] = {
            "included": rule.included,
            "policy": rule.policy.value,
            "overage_price": _text(rule.overage_price),
            "top_up_price": _text(rule.top_up_price),
        }
        if extras is not None:
            rules[metric]["example"] = metric in extras.example_metrics
    out["metrics"] = rules
    return out


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


# --- reading the YAML ---------------------------------------------------------------------


class _Missing:
    pass


_MISSING: Final = _Missing()


class _Source:
    """A composed YAML file as plain values, with the line of every key and list item."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: dict[Loc, int] = {(): 1}
        self.floats: dict[Loc, str] = {}  # a float's text as written, for the message
        self.problems: list[CatalogProblem] = []
        self._nodes = 0

    def line(self, loc: Loc) -> int:
        while loc not in self.lines:
            loc = loc[:-1]
        return self.lines[loc]

    def problem(self, loc: Loc, message: str, code: str, *, line: int | None = None) -> None:
        self.problems.append(
            CatalogProblem(self.path, line or self.line(loc), _dotted(loc), message, code)
        )

    def compose(self, text: str) -> object:
        loader: yaml.SafeLoader | None = None
        try:
            loader = yaml.SafeLoader(text)  # reads the text: a control character fails here
            node = loader.get_single_node()
            if node is None:
                self.problem((), "the file is empty", "empty_catalog")
                return None
            return self._value(loader, node, (), frozenset())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = f"invalid YAML: {exc.problem or exc.context}"
            if exc.problem and exc.context and exc.context_mark:
                message += f" ({exc.context} at line {exc.context_mark.line + 1})"
            line = None if mark is None else mark.line + 1
            self.problems.append(CatalogProblem(self.path, line, "", message, "invalid_yaml"))
        except yaml.YAMLError as exc:  # e.g. a character YAML does not allow
            self.problems.append(
                CatalogProblem(self.path, None, "", f"invalid YAML: {exc}", "invalid_yaml")
            )
        finally:
            if loader is not None:
                loader.dispose()
        return None

    def _value(
        self, loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, open_nodes: frozenset[int]
    ) -> object:
        self._nodes += 1
        if self._nodes > _MAX_NODES:
            if self._nodes == _MAX_NODES + 1:
                self.problem(loc, "the file expands to too many values", "too_large")
            return None
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if id(node) in open_nodes:
            self.problem(loc, "an alias refers to a node that contains it", "recursive_alias")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(loader, node, loc, open_nodes | {id(node)})
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.problem(loc, f"unsupported YAML tag {node.tag!r}", "unsupported_tag")
                return None
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*loc, index)] = item.start_mark.line + 1
                items.append(self._value(loader, item, (*loc, index), open_nodes | {id(node)}))
            return items
        try:
            value = loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(loc, f"cannot read this value: {reason}", "invalid_yaml")
            return None
        if isinstance(value, float):
            self.floats[loc] = str(node.value)
        return value

    def _mapping(
        self, loader: yaml.SafeLoader, node: yaml.MappingNode, loc: Loc, open_nodes: frozenset[int]
    ) -> dict[str, object] | None:
        if node.tag != _MAP_TAG:
            self.problem(loc, f"unsupported YAML tag {node.tag!r}", "unsupported_tag")
            return None
        out: dict[str, object] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "..."
                reason = (
                    "merge keys (<<) are not supported: write the keys out"
                    if key_node.tag == _MERGE_TAG
                    else f"keys must be names; {shown!r} is not (quote it if it is meant)"
                )
                self.problem(loc, reason, "invalid_key", line=key_line)
                continue
            key = str(key_node.value)
            if key in first_seen:
                self.problem(
                    (*loc, key),
                    f"duplicate key {key!r} (first at line {first_seen[key]})",
                    "duplicate_key",
                    line=key_line,
                )
                continue
            first_seen[key] = key_line
            self.lines[(*loc, key)] = key_line
            out[key] = self._value(loader, value_node, (*loc, key), open_nodes)
        return out


class _Fields:
    """One mapping of the file, read key by key; a key nobody reads is a typo."""

    def __init__(
        self, source: _Source, loc: Loc, data: Mapping[str, object], known: Sequence[str]
    ) -> None:
        self.source = source
        self.loc = loc
        self.data = data
        for key in data:
            if key not in known:
                hint = _did_you_mean(key, known) or f" (known: {', '.join(known)})"
                source.problem((*loc, key), f"unknown key{hint}", "unknown_key")

    def at(self, key: str) -> Loc:
        return (*self.loc, key)

    def _get(self, key: str, *, required: bool) -> object:
        value = self.data.get(key)
        if value is None:
            if required:
                missing = key not in self.data
                self.source.problem(
                    self.at(key), "required" if missing else "must not be empty", "missing_field"
                )
            return _MISSING
        return value

    def _wrong(self, key: str, wanted: str, value: object) -> None:
        self.source.problem(self.at(key), f"must be {wanted}, not {_describe(value)}", "wrong_type")

    @overload
    def text(self, key: str) -> str | None: ...
    @overload
    def text(self, key: str, default: str) -> str: ...
    def text(self, key: str, default: str | None = None) -> str | None:
        value = self._get(key, required=default is None)
        if isinstance(value, _Missing):
            return default
        if not isinstance(value, str):
            self._wrong(key, "text", value)
            return default
        if default is None and not value.strip():
            self.source.problem(self.at(key), "must not be empty", "missing_field")
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, required=False)
        if isinstance(value, _Missing):
            return default
        if not isinstance(value, bool):
            self._wrong(key, "true or false", value)
            return default
        return value

    def integer(
        self, key: str, *, minimum: int, maximum: int | None = None, default: int | None = None
    ) -> int | None:
        value = self._get(key, required=default is None)
        if isinstance(value, _Missing):
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "a whole number", value)
            return None
        if value < minimum or (maximum is not None and value > maximum):
            wanted = (
                f"from {minimum} to {maximum}"
                if maximum is not None
                else ("a non-negative integer" if minimum == 0 else f"at least {minimum}")
            )
            self.source.problem(self.at(key), f"must be {wanted}, not {value}", "out_of_range")
            return None
        return value

    def choice(self, key: str, kind: type[_E]) -> _E | None:
        value = self._get(key, required=True)
        if isinstance(value, _Missing):
            return None
        options = [member.value for member in kind]
        if not isinstance(value, str) or value not in options:
            hint = _did_you_mean(value, options) if isinstance(value, str) else ""
            self.source.problem(
                self.at(key),
                f"must be one of {', '.join(options)}, not {_describe(value)}{hint}",
                "invalid_choice",
            )
            return None
        return kind(value)

    def money(self, key: str) -> Decimal | None:
        """An optional amount: a quoted decimal or an integer, >= 0; never a float."""
        value = self._get(key, required=False)
        if isinstance(value, _Missing):
            return None
        if isinstance(value, float):
            written = self.source.floats.get(self.at(key), repr(value))
            self.source.problem(
                self.at(key),
                f'must be a decimal string or integer, not a float (write "{written}")',
                "float_money",
            )
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self._wrong(key, "a decimal string or integer", value)
            return None
        try:
            amount = to_decimal(value, field=key)
        except InvalidInput:
            self.source.problem(
                self.at(key), f"{value!r} is not a decimal number", "invalid_amount"
            )
            return None
        if amount < 0:
            self.source.problem(self.at(key), f"must not be negative, not {value}", "out_of_range")
            return None
        return amount

    def names(self, key: str, *, required: bool) -> list[str] | None:
        value = self._get(key, required=required)
        if isinstance(value, _Missing):
            return None if required else []
        if not isinstance(value, list):
            self._wrong(key, "a list of names", value)
            return None
        if required and not value:
            self.source.problem(self.at(key), "must list at least one name", "missing_field")
            return None
        result: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.source.problem(
                    (*self.at(key), index), f"must be a name, not {_describe(item)}", "wrong_type"
                )
                continue
            if item in result:
                self.source.problem(
                    (*self.at(key), index), f"{item!r} is listed twice", "duplicate_name"
                )
                continue
            result.append(item)
        return result if len(result) == len(value) else None

    def mapping(self, key: str, *, required: bool) -> dict[str, object] | None:
        value = self._get(key, required=required)
        if isinstance(value, _Missing):
            return None if required else {}
        if not isinstance(value, dict):
            self._wrong(key, "a mapping (name: value lines)", value)
            return None
        if required and not value:
            self.source.problem(self.at(key), "must define at least one entry", "missing_field")
            return None
        return value


# --- building the catalog -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """What every plan is checked against: names defined in the file, valid or not."""

    currency: str | None
    features: Mapping[str, str]
    metric_codes: frozenset[str]
    metric_kinds: Mapping[str, MetricKind]
    product_line_codes: frozenset[str]


def _read_catalog(source: _Source, root: object) -> LoadedCatalog | None:
    if not isinstance(root, dict):
        source.problem(
            (),
            "a catalog file is a mapping with catalog:, metrics:, product_lines: and plans:",
            "not_a_mapping",
        )
        return None
    top = _Fields(source, (), root, _TOP_KEYS)
    name = top.text("catalog")
    if name is not None:
        _check_code(source, ("catalog",), name)
    description = top.text("description", "")
    currency: str | None = None
    if root.get("currency") is not None:
        currency = top.text("currency")
        if currency is not None:
            _check_currency(source, ("currency",), currency)

    features: dict[str, str] = {}
    for code, meaning in (top.mapping("features", required=False) or {}).items():
        if _check_code(source, ("features", code), code):
            if isinstance(meaning, str):
                features[code] = meaning
            else:
                source.problem(
                    ("features", code),
                    f"must say what the feature means (text), not {_describe(meaning)}",
                    "wrong_type",
                )

    raw_metrics = top.mapping("metrics", required=True) or {}
    metrics: dict[str, Metric] = {}
    for code, raw in raw_metrics.items():
        metric = _metric(source, code, raw)
        if metric is not None:
            metrics[code] = metric

    raw_lines = top.mapping("product_lines", required=True) or {}
    product_lines: dict[str, ProductLine] = {}
    for code, raw in raw_lines.items():
        product_line = _product_line(source, code, raw)
        if product_line is not None:
            product_lines[code] = product_line

    context = _Context(
        currency=currency,
        features=features,
        metric_codes=frozenset(raw_metrics),
        metric_kinds={code: m.kind for code, m in metrics.items()},
        product_line_codes=frozenset(raw_lines),
    )
    raw_plans = top.mapping("plans", required=True) or {}
    plans: dict[str, Plan] = {}
    plan_extras: dict[str, PlanExtras] = {}
    for code, raw in raw_plans.items():
        read = _plan(source, context, code, raw)
        if read is not None:
            plans[code], plan_extras[code] = read

    _check_ladders(source, product_lines, plans, frozenset(raw_plans))
    if source.problems or name is None:
        return None
    catalog = Catalog(
        name=name,
        metrics=metrics,
        product_lines=product_lines,
        plans=plans,
        description=description,
    )
    return LoadedCatalog(catalog, CatalogExtras(features, plan_extras, source.path))


def _metric(source: _Source, code: str, raw: object) -> Metric | None:
    loc: Loc = ("metrics", code)
    data = _entry(source, loc, code, raw)
    if data is None:
        return None
    before = len(source.problems)
    f = _Fields(source, loc, data, _METRIC_KEYS)
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


def _product_line(source: _Source, code: str, raw: object) -> ProductLine | None:
    loc: Loc = ("product_lines", code)
    data = _entry(source, loc, code, raw)
    if data is None:
        return None
    before = len(source.problems)
    f = _Fields(source, loc, data, _LINE_KEYS)
    name = f.text("name")
    ladder = f.names("ladder", required=True)
    overage_day = f.integer("overage_invoice_day", minimum=_FIRST_DAY, maximum=_LAST_DAY, default=8)
    top_up_day = f.integer("top_up_invoice_day", minimum=_FIRST_DAY, maximum=_LAST_DAY, default=1)
    waive = f.boolean("waive_overage_on_upgrade", False)
    reward = f.money("referral_reward")
    archive_oldest = f.boolean("archive_oldest", False)
    grace = f.integer(
        "late_usage_grace_days", minimum=0, maximum=MAX_GRACE_DAYS, default=DEFAULT_GRACE_DAYS
    )
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
        ),
    )


def _plan(
    source: _Source, context: _Context, code: str, raw: object
) -> tuple[Plan, PlanExtras] | None:
    loc: Loc = ("plans", code)
    data = _entry(source, loc, code, raw)
    if data is None:
        return None
    before = len(source.problems)
    f = _Fields(source, loc, data, _PLAN_KEYS)
    name = f.text("name")
    product_line = f.text("product_line")
    if product_line is not None and product_line not in context.product_line_codes:
        source.problem(
            f.at("product_line"),
            f"product line {product_line!r} is not defined under product_lines:"
            + _did_you_mean(product_line, sorted(context.product_line_codes)),
            "undefined_product_line",
        )

    currency = context.currency
    if data.get("currency") is not None or currency is None:
        currency = f.text("currency")
        if currency is not None:
            _check_currency(source, f.at("currency"), currency)

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
    interval = f.choice("interval", Interval)
    per_quantity = f.boolean("per_quantity", False)
    features = f.names("features", required=False) or []
    for index, feature in enumerate(features):
        if feature not in context.features:
            source.problem(
                (*f.at("features"), index),
                f"feature {feature!r} is not declared under features:"
                + _did_you_mean(feature, sorted(context.features)),
                "undefined_feature",
            )
    note = f.text("note", "")
    tip = f.text("tip", "")
    published = f.money("published_price_per_order")

    rules: dict[str, MetricRule] = {}
    examples: set[str] = set()
    for metric, raw_rule in (f.mapping("metrics", required=False) or {}).items():
        read = _rule(source, context, (*f.at("metrics"), metric), metric, raw_rule)
        if read is not None:
            rules[metric], example = read
            if example:
                examples.add(metric)

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


def _rule(
    source: _Source, context: _Context, loc: Loc, metric: str, raw: object
) -> tuple[MetricRule, bool] | None:
    before = len(source.problems)
    if metric not in context.metric_codes:
        source.problem(
            loc,
            f"metric {metric!r} is not defined under metrics:"
            + _did_you_mean(metric, sorted(context.metric_codes)),
            "undefined_metric",
        )
    if not isinstance(raw, dict):
        source.problem(loc, f"must be a mapping, not {_describe(raw)}", "wrong_type")
        return None
    f = _Fields(source, loc, raw, _RULE_KEYS)
    included = f.integer("included", minimum=0)
    policy = f.choice("policy", OveragePolicy)
    before_prices = len(source.problems)
    overage_price = f.money("overage_price")
    top_up_price = f.money("top_up_price")
    prices_read = len(source.problems) == before_prices  # else the core would repeat it
    example = f.boolean("example", False)
    if policy is not None:
        # The core insists a price is there when the policy needs one; a price
        # that the policy never uses is as likely a mistake, so it is refused too.
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


def _check_ladders(
    source: _Source,
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
                    + _did_you_mean(plan_code, sorted(plan_codes)),
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


# --- small helpers ------------------------------------------------------------------------

_T = TypeVar("_T")


def _build(source: _Source, loc: Loc, make: Callable[[], _T]) -> _T | None:
    """Construct a core dataclass, reporting its own checks (InvalidInput) as problems."""
    try:
        return make()
    except InvalidInput as exc:
        source.problem((*loc, exc.field) if exc.field else loc, exc.message, exc.code)
        return None


def _entry(source: _Source, loc: Loc, code: str, raw: object) -> dict[str, object] | None:
    code_ok = _check_code(source, loc, code)
    if not isinstance(raw, dict):
        source.problem(loc, f"must be a mapping, not {_describe(raw)}", "wrong_type")
        return None
    return raw if code_ok else None


def _check_code(source: _Source, loc: Loc, code: str) -> bool:
    if _CODE.match(code) and len(code) <= _MAX_CODE:
        return True
    source.problem(
        loc,
        f"{code!r} is not a valid code: use up to {_MAX_CODE} lowercase letters and digits, "
        "joined by single '-' or '_'",
        "invalid_code",
    )
    return False


def _check_currency(source: _Source, loc: Loc, currency: str) -> None:
    try:
        exponent(currency)
    except InvalidInput as exc:
        source.problem(loc, exc.message, exc.code)


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _describe(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} ({value!s})"


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else part
    return out
