"""What is sold: metrics, plans with their allowances and overage rules, ladders.

A catalog is data (see presets/*.yaml); these frozen dataclasses are what the
rest of the core reasons about. A plan's allowance is *per unit of quantity
per month* (C3): the stamp-card preset bills "per location", so 3 locations
get 3 x the price and 3 x the included card operations.

A plan version never changes once stored: a new price is a new version and
existing subscriptions keep the one they signed (C5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from allot.core.dunning import DEFAULT_RETRY_DAYS, FinalRule
from allot.core.errors import InvalidInput


class MetricKind(StrEnum):
    COUNTER = "counter"  # summed per calendar month (card operations, orders)
    GAUGE = "gauge"  # a level held over time (staff seats)


class OveragePolicy(StrEnum):
    """What happens to units past every code and the plan's allowance (U4)."""

    BILL = "bill"  # allowed, billed per unit at the overage price
    RECORD_AND_PROMPT = "record_and_prompt"  # allowed, recorded, not billed; prompt shown
    BLOCK = "block"  # refused with a reason
    TOP_UP_THEN_BACKLOG = "top_up_then_backlog"  # reviews: top-up, then backlog (section 5)


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"

    @property
    def months(self) -> int:
        return 12 if self is Interval.YEAR else 1


class NameKind(StrEnum):
    """What a catalog names in other languages (W2), as its file's `translations:` lists them."""

    METRICS = "metrics"
    PRODUCT_LINES = "product_lines"
    PLANS = "plans"
    FEATURES = "features"


@dataclass(frozen=True, slots=True)
class Metric:
    code: str
    name: str
    kind: MetricKind
    unit: str = "unit"
    description: str = ""


@dataclass(frozen=True, slots=True)
class MetricRule:
    """A plan's terms for one metric: monthly allowance and what happens past it."""

    metric: str
    included: int  # per unit of quantity, per month (gauges: a level)
    policy: OveragePolicy
    overage_price: Decimal | None = None  # per unit; gauges: per unit per full month
    top_up_price: Decimal | None = None  # reviews: per order bought beyond the limit

    def __post_init__(self) -> None:
        if self.included < 0:
            raise InvalidInput("negative_allowance", "included must be >= 0", field="included")
        if self.policy is OveragePolicy.BILL and self.overage_price is None:
            raise InvalidInput(
                "missing_overage_price",
                f"{self.metric}: policy 'bill' needs an overage price",
                field="overage_price",
            )
        if self.policy is OveragePolicy.TOP_UP_THEN_BACKLOG and self.top_up_price is None:
            raise InvalidInput(
                "missing_top_up_price",
                f"{self.metric}: policy 'top_up_then_backlog' needs a top-up price",
                field="top_up_price",
            )
        if self.top_up_price is not None and self.top_up_price <= 0:
            # R2: the top-up limit is money; at a price of nothing it would be unlimited
            raise InvalidInput(
                "invalid_top_up_price",
                f"{self.metric}: a top-up price is more than 0",
                field="top_up_price",
            )


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    name: str
    product_line: str
    currency: str
    price: Decimal | None  # None: by agreement (Custom / Enterprise)
    interval: Interval
    rules: Mapping[str, MetricRule] = field(default_factory=dict)
    features: frozenset[str] = frozenset()
    per_quantity: bool = False  # price and allowances multiply by the quantity (locations)
    version: int = 1
    note: str = ""

    @property
    def is_free(self) -> bool:
        return self.price is not None and self.price == 0

    @property
    def by_agreement(self) -> bool:
        return self.price is None

    def rule(self, metric: str) -> MetricRule | None:
        return self.rules.get(metric)

    def included(self, metric: str, quantity: int = 1) -> int:
        rule = self.rules.get(metric)
        if rule is None:
            return 0
        return rule.included * (quantity if self.per_quantity else 1)

    def price_for(self, quantity: int) -> Decimal | None:
        if self.price is None:
            return None
        return self.price * (quantity if self.per_quantity else 1)

    def terms(self) -> tuple[object, ...]:
        """Everything that, if changed, makes a new version (code and version aside)."""
        return (
            self.name,
            self.product_line,
            self.currency,
            self.price,
            self.interval,
            tuple(sorted((m, r) for m, r in self.rules.items())),
            tuple(sorted(self.features)),
            self.per_quantity,
            self.note,
        )


@dataclass(frozen=True, slots=True)
class ProductLine:
    """A ladder of plans (C4), cheapest first, and its usage-invoice days (B2)."""

    code: str
    name: str
    ladder: tuple[str, ...]
    overage_invoice_day: int = 8
    top_up_invoice_day: int = 1
    # B3 (reviews-loyalty): an upgrade before the usage invoice is issued waives
    # the overage of the month it bills
    waive_overage_on_upgrade: bool = False
    # A4: what a referrer earns when a business it referred pays its first paid
    # invoice on this line, in the currency of that invoice; None: no reward
    referral_reward: Decimal | None = None
    # R3 CHOICE: a full backlog archives the newest request (default) or the oldest
    archive_oldest: bool = False
    # B7: days after a month ends during which its late usage is still accepted
    # (and billed on the next usage invoice); later, it is refused
    late_usage_grace_days: int = 35
    # P2: days after a failed card payment's first failure on which it is tried again, and
    # what happens after the last (see allot.core.dunning)
    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS
    final_rule: FinalRule = FinalRule.KEEP

    def rank(self, plan_code: str) -> int:
        """A plan's place on the ladder (higher is an upgrade); -1 if not on it."""
        return self.ladder.index(plan_code) if plan_code in self.ladder else -1

    def plans_above(self, plan_code: str) -> tuple[str, ...]:
        if plan_code not in self.ladder:
            return ()
        return self.ladder[self.ladder.index(plan_code) + 1 :]


@dataclass(frozen=True, slots=True)
class Catalog:
    name: str
    metrics: Mapping[str, Metric]
    product_lines: Mapping[str, ProductLine]
    plans: Mapping[str, Plan]
    description: str = ""
