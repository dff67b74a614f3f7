"""Upgrade advice for an account (V1): this month's usage to date and last month's.

The usage counted against a plan is everything the plan's own sources took
(its allowance, billed overage, recorded free overage, top-up, backlog): what came
from Access Codes is the partner's and would not change with a plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core.advice import Advice, advise
from allot.core.allocation import SourceKind
from allot.core.catalog import MetricKind
from allot.core.periods import Month, month_of, zone
from allot.kit.clock import Clock
from allot.subscription import repository as repo
from allot.usage.repository import counters as counter_repo


@dataclass(frozen=True, slots=True)
class MonthAdvice:
    month: str
    to_date: bool  # True: the month is not over yet
    advice: Advice


def upgrade_advice(
    conn: Connection, clock: Clock, *, account_id: str, month: Month | None = None
) -> list[MonthAdvice]:
    """Per counted metric of each live plan on a ladder: this month to date, then last month."""
    account = get_account(conn, account_id)
    current = month_of(clock.now(), zone(account.timezone))
    months = [month] if month is not None else [current, current.previous()]
    kinds = {m.code: m.kind for m in catalog_repo.list_metrics(conn)}
    latest = {plan.code: plan for _id, plan, _d in catalog_repo.latest_plans(conn)}
    out = []
    for sub in repo.live(conn, account_id):
        line = catalog_repo.get_product_line(conn, sub.product_line)
        if line is None or sub.plan.code not in line.ladder:
            continue
        ladder = [sub.plan if code == sub.plan.code else latest[code] for code in line.ladder]
        for metric in sorted(sub.plan.rules):
            if kinds.get(metric) is not MetricKind.COUNTER:
                continue
            for m in months:
                used = counter_repo.counters(conn, account_id, metric, m.key)
                units = sum(
                    n
                    for source, n in used.items()
                    if source == sub.source or source in _PAST_THE_PLAN
                )
                found = advise(
                    plans=ladder,
                    current=sub.plan.code,
                    quantity=sub.quantity_in_force(clock.now()),
                    metric=metric,
                    units=units,
                )
                out.append(MonthAdvice(m.key, m == current, found))
    return out


_PAST_THE_PLAN = frozenset(
    k.value
    for k in (SourceKind.OVERAGE, SourceKind.FREE_OVERAGE, SourceKind.TOP_UP, SourceKind.BACKLOG)
)
