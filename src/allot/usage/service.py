"""Consume a counter (U1-U5, U8, B7): the hot path, and the full waterfall behind it.

The call runs inside the caller's transaction and starts by locking the
account, so two requests for one account never interleave (DESIGN rule 7).
Then: replay if the idempotency key is known (U1), else read the waterfall,
let `allot.core.allocation` decide, and post the decision to the ledger.
Seats are taken and released in `allot.usage.seats`; the Reviews backlog is
released into the ledger in `allot.usage.releases`.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core.allocation import FREE_OVERAGE_PROMPT, Decision, Draw, Outcome, SourceKind, allocate
from allot.core.catalog import MetricKind
from allot.core.errors import InvalidInput, NotFound
from allot.core.periods import Month, require_utc
from allot.core.reporting import (
    DEFAULT_GRACE_DAYS,
    FUTURE_TOLERANCE,
    check_not_future,
    check_open,
    check_started,
)
from allot.core.timezones import Zones
from allot.kit import validate
from allot.kit.clock import Clock
from allot.usage import alerts, fastpath
from allot.usage.actions import (
    UsageResult,
    check_metric,
    drawn_after,
    hash_request,
    lines_of,
    lock,
    no_metric,
    replay,
)
from allot.usage.alerts import Drawn
from allot.usage.repository import ledger as ledger_repo
from allot.usage.repository import routes as route_repo
from allot.usage.seats import release_seat, take_seat
from allot.usage.sources import Waterfall, waterfall

# The command line still imports these from here (allot.cli is edited elsewhere);
# their home is allot.usage.actions and allot.usage.seats.
__all__ = ["UsageResult", "consume", "release_seat", "take_seat"]


@functools.lru_cache(maxsize=4096)
def _consume_hash(metric: str, quantity: int, occurred_at: str | None) -> str:
    """A consume's request hash: a few bodies repeat endlessly ("1 card operation, now")."""
    return hash_request(action="consume", metric=metric, quantity=quantity, occurred_at=occurred_at)


def consume(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    metric: str,
    quantity: int,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    future_tolerance: timedelta = FUTURE_TOLERANCE,
    top_up: int = 0,
) -> UsageResult:
    """Record one billable action of `quantity` units of a counter metric (U1-U5, U8, B7).

    `occurred_at` decides the calendar month (in the account's time zone) the
    units count in — an order placed on 31 January counts in January even if
    reported in February (U5). It defaults to now. It may not be more than
    `future_tolerance` ahead of the clock, nor before the plan that meters the
    metric started, nor in a month closed to late usage (`allot.core.reporting`).

    When the account's sources are as they were for its last action, the fast
    path locks the account, records the event and pays from the same source
    in two statements (see `allot.usage.fastpath`); otherwise, or when that
    source is full, the full waterfall decides (`_consume_off_route`). `top_up`
    is for the orders of a Reviews plan (R2): see `_consume_on_top_up`.
    """
    validate.positive_int(quantity, field="quantity", maximum=1_000_000)
    key = validate.idempotency_key(idempotency_key)
    if occurred_at is not None:
        occurred_at = require_utc(occurred_at)
    now = clock.now()
    _check_before_route(conn, metric, occurred_at, now, future_tolerance)
    event: dict[str, Any] = {
        "account_id": account_id,
        "idempotency_key": key,
        "action": "consume",
        "metric": metric,
        "quantity": quantity,
        "holder": None,
        "occurred_at": occurred_at or now,
        "recorded_at": now,
        "request_hash": _consume_hash(
            metric, quantity, None if occurred_at is None else occurred_at.isoformat()
        ),
    }
    if top_up:
        return _consume_on_top_up(conn, clock, event, top_up)
    found = route_repo.pay_along_route(conn, event)
    if not isinstance(found, route_repo.Paid):  # not recorded and paid along the route
        return _consume_off_route(conn, clock, event, found)
    event["period"] = found.period
    kind = SourceKind(found.source_kind)
    if found.granted is None or alerts.may_cross(found.granted, found.used):
        _alert_along_route(conn, clock, event, found, kind)
    outcome = Outcome(found.outcome)
    prompt = FREE_OVERAGE_PROMPT if outcome is Outcome.FREE_OVERAGE else ()
    decision = Decision(outcome, (Draw(found.source, kind, quantity),), found.reason, prompt)
    return _result(found.event_id, event, decision)


def _check_before_route(
    conn: Connection,
    metric: str,
    occurred_at: datetime | None,
    now: datetime,
    future_tolerance: timedelta,
) -> None:
    """What must be refused before the route's statement records anything.

    The metric's kind is read only off the route: a route exists only for a counter
    (learned after the check, by `_consume_fully`, and rolled back with it; a metric
    never changes kind nor leaves the catalog), and every path without one checks it.
    A NUL is refused here, as PostgreSQL's text would refuse it; a wrong metric is
    named before an instant in the future, as the full check always did.
    """
    if "\x00" in metric:
        raise no_metric(metric)
    if occurred_at is not None:
        try:
            check_not_future(occurred_at, now, tolerance=future_tolerance, field="occurred_at")
        except InvalidInput:
            check_metric(conn, metric, MetricKind.COUNTER)
            raise


def _alert_along_route(
    conn: Connection, clock: Clock, event: dict[str, Any], paid: route_repo.Paid, kind: SourceKind
) -> None:
    """U7 for a unit paid along the route: only near a threshold, or past every allowance."""
    alerts.after_draws(
        conn,
        clock,
        account_id=event["account_id"],
        metric=event["metric"],
        month=paid.period,
        event_id=paid.event_id,
        at=event["occurred_at"],
        drawn=[Drawn(paid.source, kind, event["quantity"], paid.granted, paid.used)],
    )


def _consume_on_top_up(
    conn: Connection, clock: Clock, event: dict[str, Any], top_up: int
) -> UsageResult:
    """Units of a Reviews plan's orders past every allowance, some let through on the top-up (R2).

    `top_up` is how many of them the Reviews gate let through on the merchant's
    top-up (`allot.core.backlog.admit` decides it). Those are recorded as
    `top_up`, the rest as `backlog`. A route knows nothing of the gate's top-up,
    so such an action always takes the full waterfall.
    """
    account_id, at = event["account_id"], event["occurred_at"]
    check_metric(conn, event["metric"], MetricKind.COUNTER)
    event["request_hash"] = hash_request(
        action="consume",
        metric=event["metric"],
        quantity=event["quantity"],
        occurred_at=at,
        top_up=top_up,
    )
    zones, revision = lock(conn, account_id)
    existing = ledger_repo.find_event(conn, account_id, event["idempotency_key"])
    if existing is not None:
        return replay(existing, event["request_hash"], conn)
    event["period"] = zones.month_of(at).key
    return _consume_fully(conn, clock, event, zones, revision, None, top_up=top_up)


def _consume_off_route(
    conn: Connection, clock: Clock, event: dict[str, Any], found: route_repo.Locked | None
) -> UsageResult:
    """No route paid the units: the full waterfall decides, unless the key is a replay."""
    check_metric(conn, event["metric"], MetricKind.COUNTER)
    if found is None:
        account_id = event["account_id"]
        raise NotFound("account_not_found", f"no account {account_id!r}", field="account_id")
    if found.event_id is not None:
        # recorded along the route, but its source is full: the full waterfall decides,
        # and the event takes its answer
        event["period"] = found.period
        return _consume_fully(conn, clock, event, found.zones, found.revision, found.event_id)
    # a replay, a new month, a changed account: the full waterfall decides
    existing = ledger_repo.find_event(conn, event["account_id"], event["idempotency_key"])
    if existing is not None:
        return replay(existing, event["request_hash"], conn)
    event["period"] = found.zones.month_of(event["occurred_at"]).key  # A5: in that instant's zone
    return _consume_fully(conn, clock, event, found.zones, found.revision, None)


def _consume_fully(
    conn: Connection,
    clock: Clock,
    event: dict[str, Any],
    zones: Zones,
    revision: int,
    event_id: int | None,
    *,
    top_up: int = 0,
) -> UsageResult:
    """The full waterfall, under the account lock; learns the route for the next action."""
    account_id, metric, period = event["account_id"], event["metric"], event["period"]
    at = event["occurred_at"]
    fall = waterfall(conn, account_id=account_id, metric=metric, period=period, at=at)
    grace = _check_reported_in_time(conn, fall, event, zones)
    decision = allocate(event["quantity"], fall.sources, fall.policy, top_up=top_up)
    fastpath.learn(
        conn,
        account_id=account_id,
        metric=metric,
        zones=zones,
        revision=revision,
        period=period,
        grace_days=grace,
        fall=fall,
        decision=decision,
    )
    if event_id is None:
        event_id = ledger_repo.insert_event(
            conn, **event, outcome=decision.outcome.value, reason=decision.reason
        )
    else:
        ledger_repo.set_event_outcome(
            conn, event_id, outcome=decision.outcome.value, reason=decision.reason
        )
    ledger_repo.post(
        conn,
        event_id=event_id,
        account_id=account_id,
        metric=metric,
        period=period,
        occurred_at=event["occurred_at"],
        lines=lines_of(decision, fall.granted),
    )
    alerts.after_draws(
        conn,
        clock,
        account_id=account_id,
        metric=metric,
        month=period,
        event_id=event_id,
        at=event["occurred_at"],
        drawn=drawn_after(decision, fall),
    )
    return _result(event_id, event, decision)


def _check_reported_in_time(
    conn: Connection, fall: Waterfall, event: dict[str, Any], zones: Zones
) -> int:
    """U8 and B7: refuse an action dated before anything counted it, or in a closed month.

    Returns the grace window (days) of the month's product line.
    """
    at = event["occurred_at"]
    grace = DEFAULT_GRACE_DAYS
    if fall.subscription is not None:
        line = catalog_repo.get_product_line(conn, fall.subscription.product_line)
        assert line is not None
        grace = line.late_usage_grace_days
    elif fall.metered_from is not None:
        check_started(at, fall.metered_from, what="the plan", field="occurred_at")
    else:
        created = get_account(conn, event["account_id"]).created_at
        check_started(at, created, what="the account", field="occurred_at")
    month = Month.parse(event["period"])
    check_open(at, month, zones, grace, event["recorded_at"], field="occurred_at")
    return grace


def _result(event_id: int, event: dict[str, Any], decision: Decision) -> UsageResult:
    return UsageResult(
        event_id=event_id,
        account_id=event["account_id"],
        action=event["action"],
        metric=event["metric"],
        quantity=event["quantity"],
        period=event["period"],
        occurred_at=event["occurred_at"],
        outcome=decision.outcome,
        reason=decision.reason,
        draws=decision.draws,
        prompt=decision.prompt,
        holder=event["holder"],
    )
