"""What loading a catalog gives — the catalog with its extras, or every problem (C5) — and
the catalog as plain data in the file's own shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from allot.core.catalog import (
    Catalog,
    Plan,
)
from allot.core.errors import InvalidInput

Loc = tuple[str | int, ...]


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
    # W2: lang -> kind (metrics, product_lines, plans, features) -> code -> name
    names: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)

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
