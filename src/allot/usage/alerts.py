"""Usage alerts (U7) and overage events, as webhooks from the outbox.

At 80 % and at 100 % of any limited source's allowance (a plan's, a code's)
the account is told once per calendar month: a draw that crosses a threshold
records it in `usage_alerts` (its key makes "once" hold under concurrency and
for seats that come and go), emits `usage.threshold_reached` and e-mails the
account's billing address, if it gave one (A1). A draw recorded past every
allowance emits `usage.overage_recorded`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Connection

from allot.account import repository as account_repo
from allot.catalog import repository as catalog_repo
from allot.catalog.service import names as catalog_names
from allot.core.allocation import SourceKind
from allot.core.periods import Month
from allot.kit.clock import Clock
from allot.kit.i18n import format_month, format_number, format_rate, language
from allot.notify.letters import compose
from allot.notify.models import EmailKind
from allot.notify.service import queue_email
from allot.usage.repository import counters as counter_repo
from allot.webhook.service import emit

THRESHOLDS = (80, 100)


@dataclass(frozen=True, slots=True)
class Drawn:
    """One source's part of an action, with the source's counter after it."""

    source: str
    kind: SourceKind
    quantity: int
    granted: int | None
    used_after: int


def crossed(granted: int, used_after: int, quantity: int) -> list[int]:
    """The thresholds (percent) this draw crossed: 80 % of 18 is 14.4, so the 15th unit.

    >>> crossed(18, 15, 1), crossed(18, 18, 4), crossed(18, 13, 1)
    ([80], [80, 100], [])
    """
    before = used_after - quantity
    return [t for t in THRESHOLDS if before < math.ceil(granted * t / 100) <= used_after]


def may_cross(granted: int, used_after: int) -> bool:
    """False while a limited source's counter is still under its lowest threshold.

    Most draws are far from any threshold; the hot path skips the alert
    check for them. 80 % of 18 is 14.4, so nothing can fire before the 15th unit:

    >>> may_cross(18, 14), may_cross(18, 15)
    (False, True)
    """
    return used_after >= math.ceil(granted * min(THRESHOLDS) / 100)


def after_draws(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    metric: str,
    month: str,
    event_id: int,
    at: datetime,
    drawn: Iterable[Drawn],
) -> None:
    for d in drawn:
        if d.quantity <= 0:
            continue
        if d.granted is not None and d.granted > 0:
            for threshold in crossed(d.granted, d.used_after, d.quantity):
                if counter_repo.record_alert(
                    conn,
                    account_id=account_id,
                    metric=metric,
                    source=d.source,
                    period=month,
                    threshold=threshold,
                    at=clock.now(),
                ):
                    _mail(conn, clock, account_id, metric, month, threshold, d)
                    emit(
                        conn,
                        clock,
                        type="usage.threshold_reached",
                        account_id=account_id,
                        payload={
                            "account_id": account_id,
                            "metric": metric,
                            "source": d.source,
                            "source_kind": d.kind.value,
                            "month": month,
                            "threshold_percent": threshold,
                            "used": d.used_after,
                            "allowance": d.granted,
                        },
                    )
        elif d.kind in (SourceKind.OVERAGE, SourceKind.FREE_OVERAGE):
            emit(
                conn,
                clock,
                type="usage.overage_recorded",
                account_id=account_id,
                payload={
                    "account_id": account_id,
                    "metric": metric,
                    "month": month,
                    "quantity": d.quantity,
                    "billed": d.kind is SourceKind.OVERAGE,
                    "usage_event_id": event_id,
                    "occurred_at": at.isoformat(),
                },
            )


def _mail(
    conn: Connection,
    clock: Clock,
    account_id: str,
    metric: str,
    month: str,
    threshold: int,
    d: Drawn,
) -> None:
    """U7: the same alert as an e-mail (only when one fires: a few times a month)."""
    account = account_repo.get(conn, account_id)
    if account is None or account.details.email is None:
        return
    assert d.granted is not None  # a threshold is a share of an allowance
    found = catalog_repo.get_metric(conn, metric)
    lang = language(account.locale)
    name = catalog_names(conn, lang).metric(metric, found.name if found is not None else metric)
    queue_email(
        conn,
        clock,
        kind=EmailKind.USAGE_ALERT,
        to=account.details.email,
        letter=compose(
            "usage_alert",
            lang,
            name=account.name,
            metric=name.lower(),
            by_code=d.kind is SourceKind.GRANT,
            month=format_month(Month.parse(month).first_day(), lang),
            percent=format_rate(Decimal(threshold) / 100, lang),
            used=format_number(d.used_after, lang),
            granted=format_number(d.granted, lang),
        ),
        account_id=account_id,
    )
