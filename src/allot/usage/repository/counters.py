"""Reads of the cached counters (DESIGN rule 9: pages read these, not the ledger).

And the alerts already sent for them, so a threshold is told once a month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.kit.db import insert_for
from allot.usage.models import usage_alerts, usage_counters

_COUNTERS = sa.select(usage_counters.c.source, usage_counters.c.used).where(
    usage_counters.c.account_id == sa.bindparam("account_id"),
    usage_counters.c.metric == sa.bindparam("metric"),
    usage_counters.c.period == sa.bindparam("period"),
)


def counters(conn: Connection, account_id: str, metric: str, period: str) -> dict[str, int]:
    rows = conn.execute(_COUNTERS, {"account_id": account_id, "metric": metric, "period": period})
    return {source: int(used) for source, used in rows}


def counters_for_periods(
    conn: Connection, account_id: str, periods: Iterable[str]
) -> list[tuple[str, str, str, str, int, int | None]]:
    """(metric, period, source, kind, used, granted) for the billing page."""
    rows = conn.execute(
        sa.select(
            usage_counters.c.metric,
            usage_counters.c.period,
            usage_counters.c.source,
            usage_counters.c.source_kind,
            usage_counters.c.used,
            usage_counters.c.granted,
        )
        .where(
            usage_counters.c.account_id == account_id,
            usage_counters.c.period.in_(list(periods)),
        )
        .order_by(usage_counters.c.metric, usage_counters.c.source)
    )
    return [
        (
            r.metric,
            r.period,
            r.source,
            r.source_kind,
            int(r.used),
            None if r.granted is None else int(r.granted),
        )
        for r in rows
    ]


def all_counters(conn: Connection) -> dict[tuple[str, str, str, str], tuple[int, int | None]]:
    rows = conn.execute(sa.select(usage_counters))
    return {
        (r.account_id, r.metric, r.period, r.source): (
            int(r.used),
            None if r.granted is None else int(r.granted),
        )
        for r in rows
    }


def record_alert(
    conn: Connection,
    *,
    account_id: str,
    metric: str,
    source: str,
    period: str,
    threshold: int,
    at: datetime,
) -> bool:
    """Remember that this alert was sent; False if it already was this month."""
    stmt = insert_for(conn, usage_alerts).values(
        account_id=account_id,
        metric=metric,
        source=source,
        period=period,
        threshold=threshold,
        sent_at=at,
    )
    return (
        conn.execute(stmt.on_conflict_do_nothing().returning(usage_alerts.c.threshold)).first()
        is not None
    )


def alerts_of(conn: Connection, account_id: str, period: str) -> list[tuple[str, str, int]]:
    """(metric, source, threshold) of the alerts sent for `period`, the highest per source."""
    rows = conn.execute(
        sa.select(
            usage_alerts.c.metric, usage_alerts.c.source, sa.func.max(usage_alerts.c.threshold)
        )
        .where(usage_alerts.c.account_id == account_id, usage_alerts.c.period == period)
        .group_by(usage_alerts.c.metric, usage_alerts.c.source)
        .order_by(usage_alerts.c.metric, usage_alerts.c.source)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]
