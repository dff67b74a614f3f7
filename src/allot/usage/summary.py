"""The billing page's numbers, read from counters (never by summing the ledger).

"Used: 9 / 100 included per month" per metric, each active grant's
used / available (K7), seats included and taken, the split by source (U3),
extra seat-days, and the free-plan prompt when there is free overage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core.allocation import FREE_OVERAGE_PROMPT, SourceKind
from allot.core.catalog import Metric, MetricKind, OveragePolicy
from allot.core.money import Money
from allot.core.periods import Month
from allot.grant import repository as grant_repo
from allot.grant.repository import GrantRow
from allot.kit.clock import Clock
from allot.subscription import repository as subscription_repo
from allot.subscription.repository import LiveSubscription
from allot.usage.billable import billable_usage
from allot.usage.models import GAUGE_PERIOD
from allot.usage.repository import counters as counter_repo
from allot.usage.repository import ledger as ledger_repo
from allot.usage.seats import extra_seat_days


@dataclass(frozen=True, slots=True)
class SourceUse:
    source: str
    kind: str
    label: str
    used: int
    available: int | None  # None: no limit (overage)


@dataclass(frozen=True, slots=True)
class MetricUse:
    metric: str
    name: str
    kind: str
    included: int  # the plan's allowance (gauges: seats included)
    used: int  # counted against the plan: its allowance plus what went past it
    from_grants: int
    split: tuple[SourceUse, ...]
    extra_seat_days: int = 0
    charge: Money | None = None  # billed overage or extra seats so far, exact, before rounding
    # B7: units of a month that is over, reported after it ended (counted in it all
    # the same, U5); past the allowance and after its usage invoice, they are billed
    # on the next usage invoice as a late line
    reported_late: int = 0

    @property
    def over(self) -> int:
        return max(self.used - self.included, 0)

    def headline(self) -> str:
        if self.kind == MetricKind.GAUGE.value:
            return f"{self.included} included, {self.used + self.from_grants} taken"
        return f"Used: {self.used} / {self.included} included per month"


@dataclass(frozen=True, slots=True)
class ResourceUse:
    """One resource of a grant's package: "Staff Seat 0 / 36" (K7)."""

    metric: str
    name: str
    used: int
    available: int


@dataclass(frozen=True, slots=True)
class GrantUse:
    grant_id: int
    label: str
    ends_at: datetime | None
    paused: bool
    resources: tuple[ResourceUse, ...]  # one per metric of its package


@dataclass(frozen=True, slots=True)
class PlanLine:
    product_line: str
    plan_code: str
    plan_name: str
    version: int
    quantity: int  # in force now
    started_on: str
    free: bool
    tip: str = ""
    pending_quantity: int | None = None  # a decrease scheduled for the renewal (B4)
    pending_quantity_on: str | None = None


@dataclass(frozen=True, slots=True)
class UsageSummary:
    account_id: str
    name: str
    month: str
    timezone: str
    plans: tuple[PlanLine, ...]
    grants: tuple[GrantUse, ...]
    metrics: tuple[MetricUse, ...]
    prompt: tuple[str, ...] = field(default=())


def usage_summary(
    conn: Connection, clock: Clock, *, account_id: str, month: Month | None = None
) -> UsageSummary:
    """The billing page of `month` (by default the current one) in the account's time zone."""
    account = get_account(conn, account_id)
    zones = account.zones
    now = clock.now()
    month = month or zones.month_of(now)
    _start, month_end = zones.span(month)
    late = (
        ledger_repo.reported_late(conn, account_id, month.key, month_end)
        if month_end <= now
        else {}
    )
    subs = subscription_repo.live(conn, account_id)
    grants = grant_repo.for_account(conn, account_id)
    counted = _Counted(
        labels=_labels(subs, grants),
        counters=_counters(conn, account_id, month),
        seat_days=extra_seat_days(
            conn, account_id=account_id, timezone=account.timezone, month=month
        ),
        billed=_billed_so_far(conn, account_id, account.timezone, subs, month),
        late=late,
    )
    plan_lines = _plan_lines(conn, subs, now)
    # the allowances of the quantity in force at the month's last instant seen so far (C3)
    seen = min(now, month_end - timedelta(microseconds=1))
    metrics = _metric_uses(conn, subs, grants, counted, seen)
    free_overage = any(s.kind == SourceKind.FREE_OVERAGE.value for m in metrics for s in m.split)
    return UsageSummary(
        account.id,
        account.name,
        month.key,
        account.timezone,
        tuple(plan_lines),
        tuple(_grant_uses(conn, grants, counted.counters, now)),
        tuple(metrics),
        FREE_OVERAGE_PROMPT if free_overage else (),
    )


# (metric, source) → (source kind, used, granted), this month's counters and the seats'
_Counters = dict[tuple[str, str], tuple[str, int, int | None]]


@dataclass(frozen=True, slots=True)
class _Counted:
    """What the month's rows are made of, read once for every metric of the page."""

    labels: dict[str, str]  # source → what the page calls it
    counters: _Counters
    seat_days: dict[str, int]  # gauge metric → extra seat-days this month
    billed: dict[tuple[int, str], Money]  # (subscription, metric) → charged so far
    late: dict[str, int]  # metric → units reported after the month ended (B7)


def _labels(subs: list[LiveSubscription], grants: list[GrantRow]) -> dict[str, str]:
    """Each source in the page's words: a grant by its label, the plan, and the policies'."""
    labels = {g.source: g.label for g in grants}
    labels.update({s.source: "plan allowance" for s in subs})
    labels.update(
        {
            SourceKind.OVERAGE.value: "billed overage",
            SourceKind.FREE_OVERAGE.value: "recorded past the free plan",
            SourceKind.TOP_UP.value: "paid by the top-up limit",
            SourceKind.BACKLOG.value: "past the limit",
        }
    )
    return labels


def _counters(conn: Connection, account_id: str, month: Month) -> _Counters:
    """The month's counters and the seats' (a gauge counts in one period for ever)."""
    counters: _Counters = {}
    for metric, _period, source, kind, used, granted in counter_repo.counters_for_periods(
        conn, account_id, [month.key, GAUGE_PERIOD]
    ):
        counters[(metric, source)] = (kind, used, granted)
    return counters


def _billed_so_far(
    conn: Connection, account_id: str, timezone: str, subs: list[LiveSubscription], month: Month
) -> dict[tuple[int, str], Money]:
    """The charges so far this month, by (subscription, metric): overage and extra seats."""
    return {
        (sub.id, b.metric): b.amount
        for sub in subs
        for b in billable_usage(
            conn, account_id=account_id, timezone=timezone, plan=sub.plan, month=month
        )
    }


def _plan_lines(conn: Connection, subs: list[LiveSubscription], now: datetime) -> list[PlanLine]:
    """One line per plan in force, with the catalog's tip and any decrease still to come."""
    details = {pid: d for pid, _plan, d in catalog_repo.latest_plans(conn)}
    plan_lines = []
    for sub in subs:
        tip = str(details.get(sub.plan_id, {}).get("tip", ""))
        plan_lines.append(
            PlanLine(
                sub.product_line,
                sub.plan.code,
                sub.plan.name,
                sub.plan.version,
                sub.quantity_in_force(now),
                sub.started_on.isoformat(),
                sub.plan.is_free,
                tip,
                *_pending(sub, now),
            )
        )
    return plan_lines


def _metric_uses(
    conn: Connection,
    subs: list[LiveSubscription],
    grants: list[GrantRow],
    counted: _Counted,
    seen: datetime,
) -> list[MetricUse]:
    """A row per metric a plan meters, a grant gives or a counter holds, in catalog order.

    `included` is the allowance of the quantity in force at `seen` (C3).
    """
    metric_codes = {m for s in subs for m in s.plan.rules} | {m for (m, _s) in counted.counters}
    metric_codes |= {m for g in grants for m in g.allowances}
    metrics = []
    for meta in catalog_repo.list_metrics(conn):
        if meta.code not in metric_codes:
            continue
        covering = next((s for s in subs if s.plan.rule(meta.code) is not None), None)
        included = 0
        if covering is not None:
            held = subscription_repo.quantity_span(conn, covering, seen)
            included = covering.plan.included(meta.code, held.quantity)
        metrics.append(_metric_use(meta, covering, included, counted))
    return metrics


def _metric_use(
    meta: Metric, covering: LiveSubscription | None, included: int, counted: _Counted
) -> MetricUse:
    """One metric's row: the payer split (U3), what counts against the plan, charges so far."""
    split = tuple(
        SourceUse(src, kind, counted.labels.get(src, src), used, granted)
        for (m, src), (kind, used, granted) in counted.counters.items()
        if m == meta.code and used
    )
    from_grants = sum(s.used for s in split if s.kind == SourceKind.GRANT.value)
    against_plan = sum(s.used for s in split if s.kind != SourceKind.GRANT.value)
    return MetricUse(
        meta.code,
        meta.name,
        meta.kind.value,
        included,
        against_plan,
        from_grants,
        split,
        counted.seat_days.get(meta.code, 0),
        _charge(covering, meta.code, counted.billed),
        counted.late.get(meta.code, 0),
    )


def _grant_uses(
    conn: Connection, grants: list[GrantRow], counters: _Counters, now: datetime
) -> list[GrantUse]:
    """Each grant active now (or paused): used / available per resource of its package (K7)."""
    grant_uses = []
    names = {m.code: m.name for m in catalog_repo.list_metrics(conn)}
    for g in grants:
        if not (g.paused or g.active_at(now)):
            continue
        resources = tuple(
            ResourceUse(m, names.get(m, m), counters.get((m, g.source), ("", 0, None))[1], q)
            for m, q in g.allowances.items()
        )
        grant_uses.append(GrantUse(g.id, g.label, g.ends_at, g.paused, resources))
    return grant_uses


def _charge(
    sub: LiveSubscription | None, metric: str, billed: dict[tuple[int, str], Money]
) -> Money | None:
    """What the plan bills for this metric so far this month (None: nothing billable)."""
    rule = sub.plan.rule(metric) if sub else None
    if sub is None or rule is None or rule.policy is not OveragePolicy.BILL:
        return None
    return billed.get((sub.id, metric), Money.zero(sub.plan.currency))


def _pending(sub: LiveSubscription, now: datetime) -> tuple[int | None, str | None]:
    """The scheduled decrease still to come, if any."""
    on, at = sub.pending_quantity_on, sub.pending_quantity_at
    if on is None or at is None or at <= now:
        return None, None
    return sub.pending_quantity, on.isoformat()
