"""Backlog releases in the ledger (R4): waiting units leave the backlog and take a payer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from allot.core.allocation import Decision, Outcome, SourceKind
from allot.core.errors import InvalidInput
from allot.kit.clock import Clock
from allot.kit.ids import new_token
from allot.usage import alerts
from allot.usage.actions import record
from allot.usage.alerts import Drawn
from allot.usage.repository import counters as counter_repo
from allot.usage.repository import ledger as ledger_repo
from allot.usage.repository.ledger import Line
from allot.usage.sources import waterfall


@dataclass(frozen=True, slots=True)
class _Release:
    """What `record_release` was asked: which units leave which months, and who pays."""

    account_id: str
    metric: str
    period: str
    at: datetime
    waited: dict[str, int]  # month → units leaving its backlog
    within: int
    top_up: int


def record_release(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    metric: str,
    period: str,
    at: datetime,
    waited: dict[str, int],
    within: int,
    top_up: int,
) -> int:
    """R4 in the ledger: waiting units released in `period` take the payer that releases them.

    `allot.core.backlog.release` decides how many of them `period`'s order limit
    pays (`within`) and how many its top-up (`top_up`). They leave the backlog of
    the months they were placed in (`waited`: month → units) and count in
    `period` under the plan's allowance and the top-up, as R4 says a released
    request counts against the month that sends it. Returns the event's id.
    """
    released = within + top_up
    if released <= 0 or sum(waited.values()) != released:
        raise InvalidInput(
            "invalid_release", "the released units must leave the backlog", field="waited"
        )
    release = _Release(account_id, metric, period, at, waited, within, top_up)
    paid, drawn = _payers(conn, release)
    now = clock.now()
    event_id = record(
        conn,
        account_id=account_id,
        key=f"internal:backlog-release:{new_token()}",
        request_hash="",
        action="backlog_release",
        metric=metric,
        quantity=released,
        holder=None,
        period=period,
        occurred_at=at,
        recorded_at=now,
        decision=Decision(Outcome.ALLOWED, (), "backlog_released"),
        lines=paid,
    ).event_id
    _leave_backlog(conn, release, event_id)
    alerts.after_draws(
        conn,
        clock,
        account_id=account_id,
        metric=metric,
        month=period,
        event_id=event_id,
        at=at,
        drawn=drawn,
    )
    return event_id


def _payers(conn: Connection, release: _Release) -> tuple[list[Line], list[Drawn]]:
    """The plan's allowance pays `within`, the top-up the rest: (ledger lines, alert draws).

    Only the plan is a limited source here, so only its part can cross an alert threshold.
    """
    account_id, metric, period = release.account_id, release.metric, release.period
    fall = waterfall(conn, account_id=account_id, metric=metric, period=period, at=release.at)
    paid: list[Line] = []
    drawn: list[Drawn] = []
    if release.within:
        if fall.subscription is None:
            raise InvalidInput(
                "no_plan_for_metric", f"no plan meters {metric!r} to release into", field="metric"
            )
        plan = fall.subscription.source
        granted = fall.granted[plan]
        used = counter_repo.counters(conn, account_id, metric, period).get(plan, 0) + release.within
        paid.append(Line(plan, SourceKind.PLAN.value, release.within, granted))
        drawn.append(Drawn(plan, SourceKind.PLAN, release.within, granted, used))
    if release.top_up:
        paid.append(Line(SourceKind.TOP_UP.value, SourceKind.TOP_UP.value, release.top_up))
    return paid, drawn


def _leave_backlog(conn: Connection, release: _Release, event_id: int) -> None:
    """Each month the units waited in gives them up, under the event that released them."""
    backlog = SourceKind.BACKLOG.value
    for month, units in sorted(release.waited.items()):
        if units:
            ledger_repo.post(
                conn,
                event_id=event_id,
                account_id=release.account_id,
                metric=release.metric,
                period=month,
                occurred_at=release.at,
                lines=[Line(backlog, backlog, -units)],
            )
