"""Seats as a gauge (U6): taking and releasing one, moving held seats up the waterfall,
and extra seat-days.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.core.allocation import (
    POLICY_PRIORITY,
    Decision,
    Hold,
    Outcome,
    Source,
    SourceKind,
    allocate,
    rebalance,
)
from allot.core.catalog import MetricKind
from allot.core.errors import Conflict, NotFound
from allot.core.periods import Month, days_touched, zone
from allot.core.timezones import Zones
from allot.kit import validate
from allot.kit.clock import Clock
from allot.kit.ids import new_token
from allot.usage import alerts
from allot.usage.actions import (
    UsageResult,
    check_metric,
    drawn_after,
    hash_request,
    lines_of,
    lock_and_find,
    record,
    replay,
)
from allot.usage.models import GAUGE_PERIOD
from allot.usage.repository import holds as hold_repo
from allot.usage.repository.holds import HoldRow
from allot.usage.repository.ledger import Line
from allot.usage.sources import waterfall


def rebalance_seats(
    conn: Connection,
    *,
    account_id: str,
    metric: str,
    at: datetime,
    released: HoldRow | None = None,
) -> list[Line]:
    """Move held seats onto better sources with room; return the ledger lines to post.

    `released` is a hold closed in this same request whose counter is not yet
    decremented: its room counts as free.
    """
    fall = waterfall(conn, account_id=account_id, metric=metric, period=GAUGE_PERIOD, at=at)
    freed = released.source if released is not None else None
    sources = [
        Source(s.source, s.kind, s.remaining + (s.source == freed), s.priority)
        for s in fall.sources
    ]
    by_source = {s.source: s for s in sources}
    held = hold_repo.open_holds(conn, account_id, metric)
    holds = []
    for h in held:
        if h.source in by_source:
            priority = by_source[h.source].priority
        elif not SourceKind(h.source_kind).limited:
            priority = POLICY_PRIORITY
        else:
            continue  # a paused or ended grant keeps what it already pays for
        holds.append(Hold(h.id, h.source, priority, recency=h.id))
    open_by_id = {h.id: h for h in held}
    lines: list[Line] = []
    for move in rebalance(holds, sources):
        old = open_by_id[move.hold_id]
        hold_repo.close_hold(conn, old.id, at)
        hold_repo.insert_hold(
            conn,
            account_id=account_id,
            metric=metric,
            holder=old.holder,
            source=move.to.source,
            source_kind=move.to.kind.value,
            at=at,
        )
        lines.append(Line(old.source, old.source_kind, -1))
        lines.append(Line(move.to.source, move.to.kind.value, 1, fall.granted[move.to.source]))
    return lines


def extra_seat_days(
    conn: Connection, *, account_id: str, timezone: str, month: Month
) -> dict[str, int]:
    """Per gauge metric, the days of `month` extra (billed) seats were held, summed over seats."""
    tz = zone(timezone)
    totals: dict[str, int] = {}
    for metric, hold in hold_repo.holds_of_kind_between(
        conn, account_id, SourceKind.OVERAGE.value, month.start(tz), month.end(tz)
    ):
        days = days_touched(hold.taken_at, hold.released_at, month, tz)
        totals[metric] = totals.get(metric, 0) + days
    return totals


class _SeatRequest(NamedTuple):
    """A seat action checked, its account locked and its key looked up (U1)."""

    holder: str
    key: str
    now: datetime
    request_hash: str
    zones: Zones

    @classmethod
    def open(
        cls,
        conn: Connection,
        clock: Clock,
        action: str,
        account_id: str,
        metric: str,
        holder: str,
        idempotency_key: str,
    ) -> _SeatRequest | UsageResult:
        """The request to act on, or the first answer when the key is a replay."""
        holder = validate.text(holder, field="holder")
        key = validate.idempotency_key(idempotency_key)
        now = clock.now()
        request_hash = hash_request(action=action, metric=metric, holder=holder)
        zones, existing = lock_and_find(conn, account_id, key)
        if existing is not None:
            return replay(existing, request_hash, conn)
        check_metric(conn, metric, MetricKind.GAUGE)
        return cls(holder, key, now, request_hash, zones)


def take_seat(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    metric: str,
    holder: str,
    idempotency_key: str,
) -> UsageResult:
    """Give `holder` (a staff login) a seat: codes, then the plan, then extra/free overage (U6)."""
    request = _SeatRequest.open(
        conn, clock, "seat_take", account_id, metric, holder, idempotency_key
    )
    if isinstance(request, UsageResult):
        return request
    holder, key, now, request_hash, zones = request
    if hold_repo.open_hold_of(conn, account_id, metric, holder) is not None:
        raise Conflict("seat_already_held", f"{holder!r} already holds a seat", field="holder")
    fall = waterfall(conn, account_id=account_id, metric=metric, period=GAUGE_PERIOD, at=now)
    decision = allocate(1, fall.sources, fall.policy)
    if decision.allowed:
        (draw,) = decision.draws
        hold_repo.insert_hold(
            conn,
            account_id=account_id,
            metric=metric,
            holder=holder,
            source=draw.source,
            source_kind=draw.kind.value,
            at=now,
        )
    result = record(
        conn,
        account_id=account_id,
        key=key,
        request_hash=request_hash,
        action="seat_take",
        metric=metric,
        quantity=1,
        holder=holder,
        period=GAUGE_PERIOD,
        occurred_at=now,
        recorded_at=now,
        decision=decision,
        lines=lines_of(decision, fall.granted),
    )
    alerts.after_draws(
        conn,
        clock,
        account_id=account_id,
        metric=metric,
        month=zones.month_of(now).key,
        event_id=result.event_id,
        at=now,
        drawn=drawn_after(decision, fall),
    )
    return result


def release_seat(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    metric: str,
    holder: str,
    idempotency_key: str,
) -> UsageResult:
    """Free `holder`'s seat at once; a seat billed as extra moves onto the room it leaves."""
    request = _SeatRequest.open(
        conn, clock, "seat_release", account_id, metric, holder, idempotency_key
    )
    if isinstance(request, UsageResult):
        return request
    holder, key, now, request_hash, _zones = request
    hold = hold_repo.open_hold_of(conn, account_id, metric, holder)
    if hold is None:
        raise NotFound("seat_not_held", f"{holder!r} holds no seat", field="holder")
    hold_repo.close_hold(conn, hold.id, now)
    lines = [Line(hold.source, hold.source_kind, -1)]
    lines += rebalance_seats(conn, account_id=account_id, metric=metric, at=now, released=hold)
    decision = Decision(Outcome.ALLOWED, (), "seat_released")
    return record(
        conn,
        account_id=account_id,
        key=key,
        request_hash=request_hash,
        action="seat_release",
        metric=metric,
        quantity=1,
        holder=holder,
        period=GAUGE_PERIOD,
        occurred_at=now,
        recorded_at=now,
        decision=decision,
        lines=lines,
    )


def settle_seats(conn: Connection, clock: Clock, *, account_id: str) -> list[UsageResult]:
    """After a grant is added or resumed, move held seats onto any room it brings."""
    now = clock.now()
    get_account(conn, account_id, lock=True)
    results = []
    for metric in hold_repo.held_metrics(conn, account_id):
        lines = rebalance_seats(conn, account_id=account_id, metric=metric, at=now)
        if not lines:
            continue
        moved = sum(1 for ln in lines if ln.quantity > 0)
        results.append(
            record(
                conn,
                account_id=account_id,
                key=f"internal:seat-move:{new_token()}",
                request_hash="",
                action="seat_move",
                metric=metric,
                quantity=moved,
                holder=None,
                period=GAUGE_PERIOD,
                occurred_at=now,
                recorded_at=now,
                decision=Decision(Outcome.ALLOWED, (), "seats_rebalanced"),
                lines=lines,
            )
        )
    return results
