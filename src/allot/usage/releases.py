"""Backlog releases in the ledger (R4): waiting units leave the backlog and take a payer."""

from __future__ import annotations

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
    fall = waterfall(conn, account_id=account_id, metric=metric, period=period, at=at)
    paid: list[Line] = []
    drawn: list[Drawn] = []
    if within:
        if fall.subscription is None:
            raise InvalidInput(
                "no_plan_for_metric", f"no plan meters {metric!r} to release into", field="metric"
            )
        plan = fall.subscription.source
        granted = fall.granted[plan]
        used = counter_repo.counters(conn, account_id, metric, period).get(plan, 0) + within
        paid.append(Line(plan, SourceKind.PLAN.value, within, granted))
        drawn.append(Drawn(plan, SourceKind.PLAN, within, granted, used))
    if top_up:
        paid.append(Line(SourceKind.TOP_UP.value, SourceKind.TOP_UP.value, top_up))
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
    backlog = SourceKind.BACKLOG.value
    for month, units in sorted(waited.items()):
        if units:
            ledger_repo.post(
                conn,
                event_id=event_id,
                account_id=account_id,
                metric=metric,
                period=month,
                occurred_at=at,
                lines=[Line(backlog, backlog, -units)],
            )
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
