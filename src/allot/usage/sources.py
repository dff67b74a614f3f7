"""Gather the waterfall's sources for one account, metric and period from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from allot.core.allocation import PLAN_PRIORITY, Source, SourceKind
from allot.core.catalog import OveragePolicy
from allot.grant import repository as grant_repo
from allot.subscription import repository as subscription_repo
from allot.subscription.repository import LiveSubscription
from allot.usage.repository import counters as counter_repo


@dataclass(frozen=True, slots=True)
class Waterfall:
    sources: list[Source]  # limited sources with what is left of each
    granted: dict[str, int]  # their limits, to store beside the counters
    policy: OveragePolicy | None  # None: no plan covers the metric
    subscription: LiveSubscription | None
    # The same sources pay at every instant of [valid_from, valid_until): no grant or
    # subscription starts or ends in between (None: unbounded on that side).
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    # The first instant a subscription meters the metric (None: none does), for U8.
    metered_from: datetime | None = None

    def still_valid_at(self, at: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= at) and (
            self.valid_until is None or at < self.valid_until
        )


def covering_subscription(
    subs: list[LiveSubscription], metric: str, at: datetime
) -> LiveSubscription | None:
    for sub in subs:
        if sub.starts_at <= at and sub.plan.rule(metric) is not None:
            return sub
    return None


def waterfall(
    conn: Connection, *, account_id: str, metric: str, period: str, at: datetime
) -> Waterfall:
    used = counter_repo.counters(conn, account_id, metric, period)
    sources: list[Source] = []
    granted: dict[str, int] = {}
    boundaries: set[datetime] = set()
    for grant, allowance in grant_repo.unpaused_for_metric(conn, account_id, metric):
        boundaries.update(b for b in grant.bounds if b is not None)
        if not grant.active_at(at):
            continue
        granted[grant.source] = allowance
        sources.append(
            Source(
                grant.source,
                SourceKind.GRANT,
                allowance - used.get(grant.source, 0),
                grant.priority,
            )
        )
    subs = subscription_repo.live(conn, account_id)
    metering = [s.starts_at for s in subs if s.plan.rule(metric) is not None]
    boundaries.update(metering)
    sub = covering_subscription(subs, metric, at)
    policy = None
    if sub is not None:
        rule = sub.plan.rule(metric)
        assert rule is not None
        policy = rule.policy
        # C3: the allowance follows the quantity in force at the instant, never a decrease
        # that is only scheduled; the span it holds over bounds the answer's validity.
        held = subscription_repo.quantity_span(conn, sub, at)
        boundaries.update(b for b in (held.since, held.until) if b is not None)
        included = sub.plan.included(metric, held.quantity)
        granted[sub.source] = included
        sources.append(
            Source(sub.source, SourceKind.PLAN, included - used.get(sub.source, 0), PLAN_PRIORITY)
        )
    return Waterfall(
        sources,
        granted,
        policy,
        sub,
        valid_from=max((b for b in boundaries if b <= at), default=None),
        valid_until=min((b for b in boundaries if b > at), default=None),
        metered_from=min(metering, default=None),
    )
