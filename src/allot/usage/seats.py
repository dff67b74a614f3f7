"""Seats as a gauge: moving held seats up the waterfall, and extra seat-days (U6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from allot.core.allocation import POLICY_PRIORITY, Hold, Source, SourceKind, rebalance
from allot.core.periods import Month, days_touched, zone
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
