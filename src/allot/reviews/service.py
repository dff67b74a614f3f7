"""Orders in, review requests out (R1-R5, U4, U5).

The platform reports every order (`ingest_orders`): each counts in the
calendar month it was placed, in the account's time zone, excluded from
reviews or not. On a Reviews plan (policy `top_up_then_backlog`) the gate of
`allot.core.backlog` decides each order's fate in the order they were placed:
its review request is sent now (within the order limit, or paid by the top-up
limit), waits in the backlog, or is archived. On Loyalty and Full Suite (policy
`bill`) nothing waits: past the limit an order is overage, billed per order,
and its request (Full Suite sells reviews) is sent all the same (U4).

The backlog is released when there is room again (R4): at the start of each
calendar month, oldest first, before that month's own orders (the release is
lazy: the first call on the account in a new month does it); and newest first
when a top-up limit is raised or the plan upgraded mid-month.

Top-ups are charged for the month they were used in, on its usage invoice at
the start of the next month (B2). So that a month is never charged after its
invoice, only the current month buys top-ups: an order reported late for an
earlier month, past that month's limit, waits in the backlog.

Every order also counts in the usage ledger (`consume`, one event per month of
a batch), so the billing page, alerts and overage invoices see it as any
other metered unit, under the payer the gate chose (U3): the plan within the
limit, `top_up` for the orders the top-up let through, `backlog` for the rest.
A released backlog order is paid by the month that releases it (R4): its unit
leaves the backlog of its month and counts there under the plan, then the
top-up (`usage.releases.record_release`). Reporting the same order again
changes nothing; a batch's orders are placed by (placed_at, order id), so the
same orders in any order within a batch get the same fates.

This module holds the use cases the platform and the merchant call; the gate's
machinery (the plan's terms, the month's gate, the backlog's release) is
`allot.reviews.gate`.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from allot import audit
from allot.account.repository import AccountRow
from allot.account.service import get_account
from allot.backlog import repository as repo
from allot.backlog.models import OrderOutcome, RequestState
from allot.backlog.repository import GateRow, MonthRow, OrderRow
from allot.core import backlog as core
from allot.core.catalog import OveragePolicy
from allot.core.errors import InvalidInput
from allot.core.money import Money
from allot.core.periods import Month, require_utc, zone
from allot.core.reporting import (
    FUTURE_TOLERANCE,
    check_not_future,
    check_open,
    check_started,
    closes_at,
)
from allot.core.timezones import Zones
from allot.kit import validate
from allot.kit.clock import Clock
from allot.reviews.gate import (
    ORDERS,
    Terms,
    announce,
    gate_of,
    make_room,
    now_month,
    roll,
    terms_of,
    took,
    updated,
)
from allot.reviews.limits import MAX_BATCH
from allot.usage.service import consume

REQUEST_STATES = tuple(RequestState)
TOP_UP_MODES = ("none", "defined", "unlimited")


@dataclass(frozen=True, slots=True)
class OrderIn:
    order_id: str
    placed_at: datetime
    excluded: bool = False


@dataclass
class IngestResult:
    received: int
    new: int
    duplicates: int
    outcomes: dict[str, int] = field(default_factory=dict)
    released: int = 0  # review requests to send now, of these orders and of the backlog


def _check(order: OrderIn, index: int, now: datetime, tolerance: timedelta) -> OrderIn:
    where = f"orders[{index}]"
    order_id = validate.text(order.order_id, field=f"{where}.order_id", max_length=128)
    placed_at = require_utc(order.placed_at, field=f"{where}.placed_at")
    check_not_future(placed_at, now, tolerance=tolerance, field=f"{where}.placed_at")
    if not isinstance(order.excluded, bool):
        raise InvalidInput("not_boolean", "must be true or false", field=f"{where}.excluded")
    return OrderIn(order_id, placed_at, order.excluded)


# An order as the gate handles it: (placed_at in UTC, order id, excluded). Sorting
# these tuples sorts by (placed_at, order id): ids are unique by then.
_Order = tuple[datetime, str, bool]


def _checked(orders: Sequence[OrderIn], now: datetime, tolerance: timedelta) -> list[_Order]:
    """Every order checked as `_check` does, in the order given.

    An order in the usual shape (a str id of at most 128 characters without NUL,
    an aware datetime not after now and the tolerance, a bool) passes with a few
    tests inline; any other goes through `_check`, which normalizes it or names
    what is wrong.
    """
    latest = now + tolerance
    out: list[_Order] = []
    append = out.append
    for index, order in enumerate(orders):
        order_id, placed_at, excluded = order.order_id, order.placed_at, order.excluded
        if (
            type(placed_at) is datetime
            and placed_at.tzinfo is not UTC  # e.g. pydantic's own UTC, or an offset
            and placed_at.utcoffset() is not None
        ):
            placed_at = placed_at.astimezone(UTC)
        if (
            type(order_id) is str
            and len(order_id) <= 128
            and "\x00" not in order_id
            and type(placed_at) is datetime
            and placed_at.tzinfo is UTC
            and placed_at <= latest
            and (excluded is True or excluded is False)
        ):
            stripped = order_id.strip()
            if stripped:
                append((placed_at, stripped, excluded))
                continue
        full = _check(order, index, now, tolerance)
        append((full.placed_at, full.order_id, full.excluded))
    return out


def _check_started(checked: Sequence[_Order], terms: Terms, account: AccountRow) -> None:
    """Refuse a batch with an order placed before the plan started: no plan counted it."""
    if min(checked)[0] >= terms.starts_at:
        return
    for index, (placed_at, _, _) in enumerate(checked):
        started = terms.starts_at.astimezone(zone(account.timezone))
        check_started(placed_at, started, what="the plan", field=f"orders[{index}].placed_at")


def _check_open(
    checked: Sequence[_Order], terms: Terms, account: AccountRow, now: datetime
) -> None:
    """B7: refuse a batch with an order placed in a month already closed to late orders."""
    zones = account.zones
    earliest = min(checked)[0]
    if now < closes_at(zones.month_of(earliest), zones, terms.grace_days):
        return  # the common case: even the earliest order's month is open
    for index, (placed_at, _, _) in enumerate(checked):
        check_open(
            placed_at,
            zones.month_of(placed_at),
            zones,
            terms.grace_days,
            now,
            field=f"orders[{index}].placed_at",
        )


def _by_month(fresh: list[_Order], zones: Zones) -> Iterator[tuple[Month, list[_Order]]]:
    """Runs of `fresh` (sorted) by the calendar month they were placed in (U5, A5).

    A month is the half-open interval of instants [start, end) in the account's
    zones (`allot.core.timezones`), so a run ends at the first order at or after its
    month's end: one `month_of` per month, not per order. (Local time never
    goes back across the 1st of a month in any zone of the tz database, so
    this is `month_of` of every order; a run still takes at least one order.)
    """
    i = 0
    while i < len(fresh):
        month = zones.month_of(fresh[i][0])
        j = max(bisect_left(fresh, (zones.span(month)[1],), i), i + 1)
        yield month, fresh[i:j]
        i = j


def ingest_orders(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    orders: Sequence[OrderIn],
    future_tolerance: timedelta = FUTURE_TOLERANCE,
) -> IngestResult:
    """Record a batch of orders (R1-R3, U5): new ones are counted and gated, known ones skipped.

    An order may be placed up to `future_tolerance` ahead of the clock (U8).
    """
    if not 1 <= len(orders) <= MAX_BATCH:
        raise InvalidInput("invalid_batch", f"send 1-{MAX_BATCH} orders at a time", field="orders")
    now = clock.now()
    checked = _checked(orders, now, future_tolerance)
    account = get_account(conn, account_id, lock=True)
    terms = terms_of(conn, account_id)
    _check_started(checked, terms, account)
    _check_open(checked, terms, account, now)
    gate_row, released = roll(conn, clock, account, terms)
    fresh = _fresh(conn, account_id, checked)
    result = IngestResult(received=len(orders), new=len(fresh), duplicates=len(orders) - len(fresh))
    current = now_month(clock, account)
    sent = list(released)
    outcomes_seen: Counter[str] = Counter()
    for month, batch in _by_month(fresh, account.zones):
        # Each month's rows are written before the next month is gated, so that
        # a later month pushing the oldest waiting requests out of the backlog
        # (archive_oldest) sees this month's.
        month_row = repo.month_row(conn, account_id, month.key)
        excluded = [o[2] for o in batch]
        outcomes: Sequence[str]
        if terms.policy is OveragePolicy.TOP_UP_THEN_BACKLOG:
            gate = gate_of(terms, gate_row, top_up=month == current)
            outcomes, gate_row = _admit(conn, clock, gate, gate_row, month_row, excluded)
        else:
            outcomes = _billed(terms, month_row, len(batch))
        fate = _fates(terms, month, now)
        fates = [fate[key] for key in zip(outcomes, excluded, strict=True)]
        rows = _order_rows(batch, month, month_row.orders, excluded, fates)
        ids = rows.order_id
        repo.insert_orders(conn, account_id, rows, recorded_at=now)
        sent += [i for i, s in zip(ids, rows.state, strict=True) if s == "to_send"]
        outcomes_seen.update(rows.outcome)
        month_row.orders += len(batch)
        repo.save_month(conn, month_row)
        topped_up = rows.outcome.count(core.Outcome.TOP_UP)
        _count_usage(conn, clock, account_id, ids, batch[0][0], future_tolerance, topped_up)
    repo.update_gate(conn, gate_row)
    announce(conn, clock, account_id, sent)
    result.outcomes = dict(outcomes_seen)
    result.released = len(sent)
    return result


def _fresh(conn: Connection, account_id: str, checked: Sequence[_Order]) -> list[_Order]:
    """The orders never reported before, the first of each id, placed in (placed_at, id) order."""
    unique = {o[1]: o for o in reversed(checked)}  # the first of each id
    known = repo.known_ids(conn, account_id, list(unique))
    return sorted(
        unique.values() if not known else (o for o in unique.values() if o[1] not in known)
    )


def _order_rows(
    batch: Sequence[_Order], month: Month, placed: int, excluded: list[bool], fates: list[_Fate]
) -> repo.NewOrders:
    """A month's new rows, column by column: after the `placed` orders it has, with their fates."""
    rows = repo.NewOrders(
        order_id=[o[1] for o in batch],
        placed_at=[o[0] for o in batch],
        month=[month.key] * len(batch),
        place=list(range(placed + 1, placed + len(batch) + 1)),
        excluded=excluded,
    )
    for column, values in zip(_FATE_COLUMNS, zip(*fates, strict=True), strict=True):
        setattr(rows, column, list(values))
    return rows


_STATE: dict[str, tuple[str | None, str | None]] = {
    core.Outcome.WITHIN: ("to_send", "plan"),
    core.Outcome.TOP_UP: ("to_send", "top_up"),
    core.Outcome.WAITING: ("waiting", None),
    core.Outcome.ARCHIVED: ("archived", None),
    core.Outcome.COUNTED: (None, None),
}
# U4: Loyalty and Full Suite never hold a request back; past the limit is overage.
_BILLED: dict[str, tuple[str | None, str | None]] = {
    OrderOutcome.WITHIN: ("to_send", "plan"),
    OrderOutcome.OVERAGE: ("to_send", "plan"),
}
_FATE_COLUMNS = ("outcome", "state", "paid_by", "released_month", "released_at")
_Fate = tuple[str, str | None, str | None, str | None, datetime | None]


def _fates(terms: Terms, month: Month, now: datetime) -> dict[tuple[str, bool], _Fate]:
    """The columns of an order of `month`, by (outcome, excluded): `_FATE_COLUMNS`.

    An excluded order has no request, nor has any order on a plan without
    reviews; a request sent now counts against `month` (its limit or top-up).
    """
    states = _STATE if terms.policy is OveragePolicy.TOP_UP_THEN_BACKLOG else _BILLED
    fates: dict[tuple[str, bool], _Fate] = {}
    for outcome, (state, paid_by) in states.items():
        for excluded in (False, True):
            request = terms.reviews and not excluded
            s, p = (state, paid_by) if request else (None, None)
            fates[outcome, excluded] = (
                str(outcome),
                s,
                p,
                month.key if p else None,
                now if s == "to_send" else None,
            )
    return fates


def _admit(
    conn: Connection,
    clock: Clock,
    gate: core.Gate,
    gate_row: GateRow,
    month_row: MonthRow,
    excluded: Sequence[bool],
) -> tuple[tuple[core.Outcome, ...], GateRow]:
    count = core.MonthCount(month_row.within, month_row.topped_up)
    admitted = core.admit(gate, count, gate_row.waiting, excluded)
    if admitted.evicted_oldest:
        evicted = repo.waiting_ids(
            conn, gate_row.account_id, limit=admitted.evicted_oldest, newest_first=False
        )
        repo.set_states(conn, gate_row.account_id, evicted, state="archived")
    took(gate, month_row, admitted.month)
    return admitted.outcomes, updated(gate_row, clock, waiting=admitted.waiting)


def _billed(terms: Terms, month_row: MonthRow, n: int) -> list[OrderOutcome]:
    """U4: the month's first orders up to the limit are within it, the rest overage."""
    within = max(0, min(n, terms.limit - month_row.within))
    month_row.within += within
    return [OrderOutcome.WITHIN] * within + [OrderOutcome.OVERAGE] * (n - within)


def _count_usage(
    conn: Connection,
    clock: Clock,
    account_id: str,
    ids: Sequence[str],
    first: datetime,
    tolerance: timedelta,
    top_up: int,
) -> None:
    """One ledger event for a month's new orders; the key is the orders' own ids.

    The gate decided who pays each (U3): within the limit the plan's allowance,
    then `top_up` of them the top-up, and the rest (waiting, archived, excluded
    past both) the backlog. Loyalty and Full Suite pass no top-up.
    """
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    consume(
        conn,
        clock,
        account_id=account_id,
        metric=ORDERS,
        quantity=len(ids),
        idempotency_key=f"orders:{digest}",
        occurred_at=first,
        future_tolerance=tolerance,
        top_up=top_up,
    )


def set_top_up_limit(
    conn: Connection, clock: Clock, *, account_id: str, mode: str, cap: Decimal | None = None
) -> GateRow:
    """Set the account's top-up limit (R2): none, defined (a cap per month) or unlimited."""
    if mode not in TOP_UP_MODES:
        raise InvalidInput(
            "invalid_top_up", f"must be one of {', '.join(TOP_UP_MODES)}", field="mode"
        )
    if (mode == "defined") != (cap is not None):
        raise InvalidInput(
            "invalid_top_up_cap", "a cap goes with mode 'defined', and only with it", field="cap"
        )
    account = get_account(conn, account_id, lock=True)
    terms = terms_of(conn, account_id)
    if cap is not None:
        if cap <= 0:
            raise InvalidInput("not_positive", "a cap is more than zero", field="cap")
        if Money.of(cap, account.currency).rounded().amount != cap:
            raise InvalidInput(
                "too_many_decimals", f"more decimals than {account.currency} has", field="cap"
            )
    limit = core.TopUpLimit(None) if mode == "unlimited" else core.TopUpLimit(cap or Decimal(0))
    price = terms.top_up_price if terms.policy is OveragePolicy.TOP_UP_THEN_BACKLOG else None
    core.check_top_up(limit, top_up_price=price, free_plan=terms.free)
    gate_row, released = roll(conn, clock, account, terms)
    was = {"mode": gate_row.top_up, "cap": gate_row.top_up_cap}
    gate_row = updated(gate_row, clock, top_up=mode, top_up_cap=cap)
    repo.update_gate(conn, gate_row)
    audit.record(
        conn, clock, change="top_up_limit.set", subject_kind="top_up_limit",
        subject_id=account_id, account_id=account_id, before=was,
        after={"mode": mode, "cap": cap},
    )  # fmt: skip
    announce(conn, clock, account_id, released)
    make_room(conn, clock, account_id=account_id)
    found = repo.gate(conn, account_id)
    assert found is not None
    return found


def acknowledge(
    conn: Connection, clock: Clock, *, account_id: str, order_ids: Sequence[str]
) -> tuple[int, dict[str, str | None]]:
    """The platform confirms it sent these requests; the others come back with their state."""
    if not 1 <= len(order_ids) <= MAX_BATCH:
        raise InvalidInput("invalid_batch", f"send 1-{MAX_BATCH} ids at a time", field="order_ids")
    ids = [
        validate.text(i, field=f"order_ids[{n}]", max_length=128) for n, i in enumerate(order_ids)
    ]
    get_account(conn, account_id, lock=True)
    done = repo.acknowledge(conn, account_id, ids, at=clock.now())
    states = repo.states_of(conn, account_id, ids)
    others = {i: states.get(i, "unknown") for i in ids if states.get(i, "unknown") != "sent"}
    return done, others


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    """The Reviews page of an account for the current month."""

    month: Month
    plan: str
    limit: int
    orders: int
    within: int
    topped_up: int
    top_up_amount: Decimal
    top_up: str
    top_up_cap: Decimal | None
    top_up_orders: int | None  # what the cap buys in a month; None: unlimited
    states: dict[str, int]
    top_up_offered: bool = False  # the plan sells a top-up (a paid Reviews plan, R2/R3)


def review_status(conn: Connection, clock: Clock, *, account_id: str) -> ReviewStatus:
    """This month's counts and every request by state; rolls a new month's backlog first."""
    account = get_account(conn, account_id, lock=True)
    terms = terms_of(conn, account_id)
    gate_row, released = roll(conn, clock, account, terms)
    announce(conn, clock, account_id, released)
    month = now_month(clock, account)
    row = repo.month_row(conn, account_id, month.key)
    gate = gate_of(terms, gate_row, top_up=True) if terms.top_up_price else None
    return ReviewStatus(
        month=month,
        plan=terms.plan.name,
        limit=terms.limit,
        orders=row.orders,
        within=row.within,
        topped_up=row.topped_up,
        top_up_amount=row.top_up_amount,
        top_up=gate_row.top_up,
        top_up_cap=gate_row.top_up_cap,
        top_up_orders=None if gate is None else core.top_up_orders(gate),
        states=repo.state_counts(conn, account_id),
        top_up_offered=terms.top_up_price is not None
        and terms.policy is OveragePolicy.TOP_UP_THEN_BACKLOG
        and not terms.free,
    )


def list_requests(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    state: str,
    after: str | None = None,
    limit: int = 1000,
) -> list[OrderRow]:
    """R5: requests to send, waiting or archived (and sent), oldest placed first."""
    if state not in REQUEST_STATES:
        raise InvalidInput(
            "invalid_state", f"must be one of {', '.join(REQUEST_STATES)}", field="state"
        )
    if not 1 <= limit <= MAX_BATCH:
        raise InvalidInput("invalid_limit", f"limit must be 1-{MAX_BATCH}", field="limit")
    review_status(conn, clock, account_id=account_id)  # a new month releases the backlog first
    return repo.requests(conn, account_id, state=state, after=after, limit=limit)
