"""What a month's usage bills on the plan (B2): overage units, extra seat-days, top-ups.

One function serves the billing page ("billed so far this month") and the
usage invoice (the month, once it is over), so the two can never disagree.
Units drawn from Access Codes never appear here (K8); recorded free overage
and backlog are not billed either (U4). Top-ups (R2) are the orders the Reviews
gate let through past the limit, at the exact amount it summed as they came.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Connection

from allot.backlog import repository as backlog_repo
from allot.catalog import repository as catalog_repo
from allot.core.allocation import SourceKind
from allot.core.catalog import MetricKind, OveragePolicy, Plan
from allot.core.charges import extra_seat_charge, overage_charge
from allot.core.invoicing import ChargeKind
from allot.core.money import Money
from allot.core.periods import Month
from allot.usage.repository import counters as counter_repo
from allot.usage.seats import extra_seat_days


@dataclass(frozen=True, slots=True)
class Billable:
    metric: str
    kind: ChargeKind  # OVERAGE (counter units), EXTRA_SEATS (gauge seat-days), TOP_UP (R2)
    units: int  # units past the allowance, or seat-days held by extra seats
    unit_price: Decimal  # per unit; extra seats: per seat per full month
    amount: Money  # exact, before rounding
    days_in_month: int


def billable_usage(
    conn: Connection, *, account_id: str, timezone: str, plan: Plan, month: Month
) -> list[Billable]:
    out = _top_ups(conn, account_id=account_id, plan=plan, month=month)
    billed = [
        (metric, rule)
        for metric, rule in sorted(plan.rules.items())
        if rule.policy is OveragePolicy.BILL and rule.overage_price is not None
    ]
    if not billed:
        return out
    kinds = _metric_kinds(conn)
    seat_days: dict[str, int] | None = None
    for metric, rule in billed:
        assert rule.overage_price is not None
        if kinds.get(metric) is MetricKind.GAUGE:
            if seat_days is None:
                seat_days = extra_seat_days(
                    conn, account_id=account_id, timezone=timezone, month=month
                )
            days = seat_days.get(metric, 0)
            if days:
                amount = extra_seat_charge(
                    days, rule.overage_price, plan.currency, days_in_month=month.days
                )
                out.append(
                    Billable(
                        metric, ChargeKind.EXTRA_SEATS, days, rule.overage_price, amount, month.days
                    )
                )
            continue
        units = counter_repo.counters(conn, account_id, metric, month.key).get(
            SourceKind.OVERAGE.value, 0
        )
        if units:
            amount = overage_charge(units, rule.overage_price, plan.currency)
            out.append(
                Billable(metric, ChargeKind.OVERAGE, units, rule.overage_price, amount, month.days)
            )
    return out


def _top_ups(conn: Connection, *, account_id: str, plan: Plan, month: Month) -> list[Billable]:
    out = []
    for metric, rule in sorted(plan.rules.items()):
        if rule.policy is not OveragePolicy.TOP_UP_THEN_BACKLOG or rule.top_up_price is None:
            continue
        row = backlog_repo.month_row(conn, account_id, month.key)
        if row.topped_up:
            amount = Money(row.top_up_amount, plan.currency)
            out.append(
                Billable(
                    metric, ChargeKind.TOP_UP, row.topped_up, rule.top_up_price, amount, month.days
                )
            )
    return out


def _metric_kinds(conn: Connection) -> dict[str, MetricKind]:
    return {m.code: m.kind for m in catalog_repo.list_metrics(conn)}
