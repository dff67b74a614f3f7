"""Usage use cases: consume a counter, take and release seats (U1-U6).

Each call runs inside the caller's transaction and starts by locking the
account, so two requests for one account never interleave (DESIGN rule 7).
Then: replay if the idempotency key is known (U1), else read the waterfall,
let `allot.core.allocation` decide, and post the decision to the ledger.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core.allocation import (
    FREE_OVERAGE_PROMPT,
    Decision,
    Draw,
    Outcome,
    SourceKind,
    allocate,
)
from allot.core.catalog import MetricKind
from allot.core.errors import Conflict, IdempotencyMismatch, InvalidInput, NotFound
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
from allot.kit.ids import new_token
from allot.usage import alerts, fastpath
from allot.usage.alerts import Drawn
from allot.usage.models import GAUGE_PERIOD
from allot.usage.repository import counters as counter_repo
from allot.usage.repository import holds as hold_repo
from allot.usage.repository import ledger as ledger_repo
from allot.usage.repository import routes as route_repo
from allot.usage.repository.ledger import EventRow, Line
from allot.usage.seats import rebalance_seats
from allot.usage.sources import Waterfall, waterfall


@dataclass(frozen=True, slots=True)
class UsageResult:
    """The answer to "may this happen, and who pays?" — also what a retry replays."""

    event_id: int
    account_id: str
    action: str  # consume | seat_take | seat_release
    metric: str
    quantity: int
    period: str
    occurred_at: datetime
    outcome: Outcome
    reason: str
    draws: tuple[Draw, ...]
    prompt: tuple[str, ...]
    replayed: bool = False
    holder: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.BLOCKED


# json.dumps(body, sort_keys=True, default=str) builds this encoder on every call
_BODY = json.JSONEncoder(sort_keys=True, default=str)


def _request_hash(**body: object) -> str:
    return hashlib.sha256(_BODY.encode(body).encode()).hexdigest()


@functools.lru_cache(maxsize=4096)
def _consume_hash(metric: str, quantity: int, occurred_at: str | None) -> str:
    """A consume's request hash: a few bodies repeat endlessly ("1 card operation, now")."""
    return _request_hash(
        action="consume", metric=metric, quantity=quantity, occurred_at=occurred_at
    )


def _check_metric(conn: Connection, code: str, kind: MetricKind) -> None:
    found = None if "\x00" in code else catalog_repo.metric_kind(conn, code)
    if found is None:
        raise NotFound("metric_not_found", f"no metric {code!r} in the catalog", field="metric")
    if found is not kind:
        hint = "take or release a seat" if found is MetricKind.GAUGE else "consume it"
        raise InvalidInput(
            "wrong_metric_kind", f"{code!r} is a {found.value}: {hint}", field="metric"
        )


def _lock(conn: Connection, account_id: str) -> tuple[Zones, int]:
    """Lock the account for this transaction: (its time zones, revision)."""
    found = route_repo.lock_account(conn, account_id)
    if found is None:
        raise NotFound("account_not_found", f"no account {account_id!r}", field="account_id")
    return found


def _lock_account(conn: Connection, account_id: str, key: str) -> tuple[Zones, EventRow | None]:
    """Lock the account, then look the key up: (its time zones, earlier event with this key).

    Two statements on purpose: on PostgreSQL a statement that waited for the
    lock still reads from the snapshot it started with, so a lookup joined to
    the lock would miss an event committed by the request it waited for.
    """
    zones, _revision = _lock(conn, account_id)
    return zones, ledger_repo.find_event(conn, account_id, key)


def _replay(event: EventRow, request_hash: str, conn: Connection) -> UsageResult:
    if event.request_hash != request_hash:
        raise IdempotencyMismatch(event.idempotency_key)
    outcome = Outcome(event.outcome)
    return UsageResult(
        event_id=event.id,
        account_id=event.account_id,
        action=event.action,
        metric=event.metric,
        quantity=event.quantity,
        period=event.period,
        occurred_at=event.occurred_at,
        outcome=outcome,
        reason=event.reason,
        draws=tuple(
            Draw(ln.source, SourceKind(ln.source_kind), ln.quantity)
            for ln in ledger_repo.event_lines(conn, event.id)
        ),
        prompt=FREE_OVERAGE_PROMPT if outcome is Outcome.FREE_OVERAGE else (),
        replayed=True,
        holder=event.holder,
    )


def _record(
    conn: Connection,
    *,
    account_id: str,
    key: str,
    request_hash: str,
    action: str,
    metric: str,
    quantity: int,
    holder: str | None,
    period: str,
    occurred_at: datetime,
    recorded_at: datetime,
    decision: Decision,
    lines: list[Line],
) -> UsageResult:
    event_id = ledger_repo.insert_event(
        conn,
        account_id=account_id,
        idempotency_key=key,
        request_hash=request_hash,
        action=action,
        metric=metric,
        quantity=quantity,
        holder=holder,
        period=period,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        outcome=decision.outcome.value,
        reason=decision.reason,
    )
    ledger_repo.post(
        conn,
        event_id=event_id,
        account_id=account_id,
        metric=metric,
        period=period,
        occurred_at=occurred_at,
        lines=lines,
    )
    return UsageResult(
        event_id=event_id,
        account_id=account_id,
        action=action,
        metric=metric,
        quantity=quantity,
        period=period,
        occurred_at=occurred_at,
        outcome=decision.outcome,
        reason=decision.reason,
        draws=tuple(Draw(ln.source, SourceKind(ln.source_kind), ln.quantity) for ln in lines),
        prompt=decision.prompt,
        holder=holder,
    )


def _lines(decision: Decision, granted: dict[str, int]) -> list[Line]:
    return [
        Line(d.source, d.kind.value, d.quantity, granted.get(d.source) if d.kind.limited else None)
        for d in decision.draws
    ]


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
    source is full, the full waterfall decides.

    `top_up` is for the orders of a Reviews plan (R2): of the units past every
    allowance, how many the Reviews gate let through on the merchant's top-up
    (`allot.core.backlog.admit` decides it). Those are recorded as `top_up`,
    the rest as `backlog`; such an action always takes the full waterfall.
    """
    validate.positive_int(quantity, field="quantity", maximum=1_000_000)
    key = validate.idempotency_key(idempotency_key)
    if occurred_at is not None:
        occurred_at = require_utc(occurred_at)
    _check_metric(conn, metric, MetricKind.COUNTER)
    now = clock.now()
    if occurred_at is not None:
        check_not_future(occurred_at, now, tolerance=future_tolerance, field="occurred_at")
    at = occurred_at or now
    event: dict[str, Any] = {
        "account_id": account_id,
        "idempotency_key": key,
        "action": "consume",
        "metric": metric,
        "quantity": quantity,
        "holder": None,
        "occurred_at": at,
        "recorded_at": now,
        "request_hash": _consume_hash(
            metric, quantity, None if occurred_at is None else occurred_at.isoformat()
        ),
    }
    if top_up:
        # a route knows nothing of the gate's top-up: the full waterfall decides
        event["request_hash"] = _request_hash(
            action="consume", metric=metric, quantity=quantity, occurred_at=at, top_up=top_up
        )
        zones, revision = _lock(conn, account_id)
        existing = ledger_repo.find_event(conn, account_id, key)
        if existing is not None:
            return _replay(existing, event["request_hash"], conn)
        event["period"] = zones.month_of(at).key
        return _consume_fully(conn, clock, event, zones, revision, None, top_up=top_up)
    found = route_repo.pay_along_route(conn, event)
    if found is None:
        raise NotFound("account_not_found", f"no account {account_id!r}", field="account_id")
    if isinstance(found, route_repo.Paid):  # recorded and paid along the route
        event["period"] = found.period
        kind = SourceKind(found.source_kind)
        if found.granted is None or alerts.may_cross(found.granted, found.used):
            alerts.after_draws(
                conn,
                clock,
                account_id=account_id,
                metric=metric,
                month=found.period,
                event_id=found.event_id,
                at=at,
                drawn=[Drawn(found.source, kind, quantity, found.granted, found.used)],
            )
        outcome = Outcome(found.outcome)
        decision = Decision(
            outcome,
            (Draw(found.source, kind, quantity),),
            found.reason,
            FREE_OVERAGE_PROMPT if outcome is Outcome.FREE_OVERAGE else (),
        )
        return _result(found.event_id, event, decision)
    if found.event_id is not None:
        # recorded along the route, but its source is full: the full waterfall decides,
        # and the event takes its answer
        event["period"] = found.period
        return _consume_fully(conn, clock, event, found.zones, found.revision, found.event_id)
    # a replay, a new month, a changed account: the full waterfall decides
    existing = ledger_repo.find_event(conn, account_id, key)
    if existing is not None:
        return _replay(existing, event["request_hash"], conn)
    event["period"] = found.zones.month_of(at).key  # A5: in the zone of that instant
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
        lines=_lines(decision, fall.granted),
    )
    alerts.after_draws(
        conn,
        clock,
        account_id=account_id,
        metric=metric,
        month=period,
        event_id=event_id,
        at=event["occurred_at"],
        drawn=_drawn(decision, fall),
    )
    return _result(event_id, event, decision)


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
    event_id = _record(
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


def _drawn(decision: Decision, fall: Waterfall) -> list[Drawn]:
    """Each draw with its source's counter after it (limited sources only need it)."""
    remaining = {s.source: s.remaining for s in fall.sources}
    return [
        Drawn(
            d.source,
            d.kind,
            d.quantity,
            fall.granted.get(d.source),
            fall.granted[d.source] - remaining[d.source] + d.quantity
            if d.source in remaining
            else 0,
        )
        for d in decision.draws
    ]


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
    holder = validate.text(holder, field="holder")
    key = validate.idempotency_key(idempotency_key)
    now = clock.now()
    request_hash = _request_hash(action="seat_take", metric=metric, holder=holder)
    zones, existing = _lock_account(conn, account_id, key)
    if existing is not None:
        return _replay(existing, request_hash, conn)
    _check_metric(conn, metric, MetricKind.GAUGE)
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
    result = _record(
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
        lines=_lines(decision, fall.granted),
    )
    alerts.after_draws(
        conn,
        clock,
        account_id=account_id,
        metric=metric,
        month=zones.month_of(now).key,
        event_id=result.event_id,
        at=now,
        drawn=_drawn(decision, fall),
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
    holder = validate.text(holder, field="holder")
    key = validate.idempotency_key(idempotency_key)
    now = clock.now()
    request_hash = _request_hash(action="seat_release", metric=metric, holder=holder)
    _zones, existing = _lock_account(conn, account_id, key)
    if existing is not None:
        return _replay(existing, request_hash, conn)
    _check_metric(conn, metric, MetricKind.GAUGE)
    hold = hold_repo.open_hold_of(conn, account_id, metric, holder)
    if hold is None:
        raise NotFound("seat_not_held", f"{holder!r} holds no seat", field="holder")
    hold_repo.close_hold(conn, hold.id, now)
    lines = [Line(hold.source, hold.source_kind, -1)]
    lines += rebalance_seats(conn, account_id=account_id, metric=metric, at=now, released=hold)
    decision = Decision(Outcome.ALLOWED, (), "seat_released")
    return _record(
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
            _record(
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
