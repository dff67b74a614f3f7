"""The Reviews gate's machinery: the plan's terms, the month's gate, the backlog released (R4).

A month's gate (`allot.core.backlog.Gate`) is the plan's order limit and, in
the current month only, the merchant's top-up limit. The backlog is released
when there is room again: at the start of each calendar month, oldest first
(`roll`, lazily, on the first call on the account in a new month), and newest
first when a top-up limit is raised or the plan upgraded mid-month (`make_room`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from allot.account.repository import AccountRow
from allot.account.service import get_account
from allot.backlog import repository as repo
from allot.backlog.repository import GateRow, MonthRow
from allot.catalog import repository as catalog_repo
from allot.core import backlog as core
from allot.core.catalog import OveragePolicy, Plan
from allot.core.errors import Refused
from allot.core.periods import Month
from allot.core.reporting import DEFAULT_GRACE_DAYS
from allot.core.timezones import Zones
from allot.kit.clock import Clock
from allot.subscription import repository as sub_repo
from allot.usage.releases import record_release
from allot.webhook.service import emit

ORDERS = "orders"  # the metric an order counts in
RELEASED_EVENT_IDS = 1000  # order ids per review_requests.released event


@dataclass(frozen=True, slots=True)
class Terms:
    """What the account's plan says about orders, and the gate it makes this month."""

    plan: Plan
    policy: OveragePolicy
    limit: int
    top_up_price: Decimal | None
    reviews: bool  # the plan sells review requests
    free: bool
    archive_oldest: bool
    starts_at: datetime  # the plan's first instant: no order counts before it
    grace_days: int = DEFAULT_GRACE_DAYS  # B7: how long a month stays open to late orders


def terms_of(conn: Connection, account_id: str) -> Terms:
    """The terms of the account's live plan that counts orders; refused if none does."""
    for sub in sub_repo.live(conn, account_id):
        rule = sub.plan.rule(ORDERS)
        if rule is None:
            continue
        line = catalog_repo.get_product_line(conn, sub.product_line)
        return Terms(
            plan=sub.plan,
            policy=rule.policy,
            limit=sub.plan.included(ORDERS, sub.quantity),
            top_up_price=rule.top_up_price,
            reviews="reviews" in sub.plan.features,
            free=not sub.plan.price_for(sub.quantity),
            archive_oldest=line is not None and line.archive_oldest,
            starts_at=sub.starts_at,
            grace_days=DEFAULT_GRACE_DAYS if line is None else line.late_usage_grace_days,
        )
    raise Refused(
        "no_orders_plan",
        f"account {account_id!r} is on no plan that counts orders",
        field="account_id",
    )


def _top_up(row: GateRow) -> core.TopUpLimit:
    if row.top_up == "unlimited":
        return core.UNLIMITED
    if row.top_up == "defined":
        assert row.top_up_cap is not None
        return core.TopUpLimit.defined(row.top_up_cap)
    return core.NO_TOP_UP


def gate_of(terms: Terms, row: GateRow, *, top_up: bool) -> core.Gate:
    """A month's gate: the top-up limit counts only where `top_up` (the current month)."""
    return core.Gate.of(
        terms.limit,
        terms.top_up_price,
        _top_up(row) if top_up and not terms.free else core.NO_TOP_UP,
        archive_oldest=terms.archive_oldest,
    )


def _gate_row(conn: Connection, clock: Clock, account: AccountRow) -> GateRow:
    found = repo.gate(conn, account.id)
    if found is None:
        found = GateRow(account.id, "none", None, 0, now_month(clock, account).key, clock.now())
        repo.insert_gate(conn, found)
    return found


def now_month(clock: Clock, account: AccountRow) -> Month:
    """The current calendar month in the account's time zone."""
    return account.zones.month_of(clock.now())


def _release(
    conn: Connection,
    clock: Clock,
    terms: Terms,
    gate_row: GateRow,
    month: Month,
    zones: Zones,
    *,
    newest_first: bool,
    top_up: bool,
) -> tuple[GateRow, list[str]]:
    """Release as much of the backlog as `month` has room for (R4); the ids released.

    Who pays for them is who pays for a place in `month` (`core.release`): its
    order limit first, then its top-up. The usage ledger moves their units out of
    the backlog of the months they were placed in, onto those payers in `month`
    (`record_release`), so the ledger's top-up units of a month are the orders
    its top-up invoice charges.
    """
    if gate_row.waiting == 0 or terms.policy is not OveragePolicy.TOP_UP_THEN_BACKLOG:
        return gate_row, []
    gate = gate_of(terms, gate_row, top_up=top_up)
    month_row = repo.month_row(conn, gate_row.account_id, month.key)
    freed = core.release(
        gate, core.MonthCount(month_row.within, month_row.topped_up), gate_row.waiting
    )
    if not freed.released:
        return gate_row, []
    chosen = repo.waiting(
        conn, gate_row.account_id, limit=freed.released, newest_first=newest_first
    )
    ids = [order_id for order_id, _placed in chosen]
    at = clock.now()
    for part, paid_by in ((ids[: freed.within], "plan"), (ids[freed.within :], "top_up")):
        repo.set_states(
            conn,
            gate_row.account_id,
            part,
            state="to_send",
            paid_by=paid_by,
            released_month=month.key,
            released_at=at,
        )
    start, end = zones.span(month)
    record_release(
        conn,
        clock,
        account_id=gate_row.account_id,
        metric=ORDERS,
        period=month.key,
        at=at if start <= at < end else start,
        waited=dict(Counter(placed for _id, placed in chosen)),
        within=freed.within,
        top_up=freed.top_up,
    )
    took(gate, month_row, freed.month)
    repo.save_month(conn, month_row)
    return updated(gate_row, clock, waiting=freed.waiting), ids


def roll(
    conn: Connection, clock: Clock, account: AccountRow, terms: Terms
) -> tuple[GateRow, list[str]]:
    """Release the backlog at the start of every month since the last call, oldest first."""
    gate_row = _gate_row(conn, clock, account)
    current = now_month(clock, account)
    month = Month.parse(gate_row.month)
    released: list[str] = []
    while month < current:
        month = month.next()
        gate_row, ids = _release(
            conn,
            clock,
            terms,
            gate_row,
            month,
            account.zones,
            newest_first=False,
            top_up=month == current,
        )
        released += ids
    if gate_row.month != current.key:
        gate_row = updated(gate_row, clock, month=current.key)
        repo.update_gate(conn, gate_row)
    return gate_row, released


def make_room(conn: Connection, clock: Clock, *, account_id: str) -> list[str]:
    """After a top-up is raised or the plan upgraded: release the backlog newest first (R4)."""
    account = get_account(conn, account_id, lock=True)
    try:
        terms = terms_of(conn, account_id)
    except Refused:
        return []
    gate_row, released = roll(conn, clock, account, terms)
    gate_row, ids = _release(
        conn,
        clock,
        terms,
        gate_row,
        now_month(clock, account),
        account.zones,
        newest_first=True,
        top_up=True,
    )
    repo.update_gate(conn, gate_row)
    announce(conn, clock, account_id, released + ids)
    return released + ids


def took(gate: core.Gate, row: MonthRow, after: core.MonthCount) -> None:
    """Move a month's counters to `after`, adding the new top-ups' exact amount."""
    added = core.MonthCount(0, after.topped_up - row.topped_up)
    row.top_up_amount += core.top_up_charge(gate, added) if added.topped_up else Decimal(0)
    row.within, row.topped_up = after.within, after.topped_up


def updated(row: GateRow, clock: Clock, **changes: Any) -> GateRow:
    """The gate row with `changes`, stamped now."""
    return replace(row, updated_at=clock.now(), **changes)


def announce(conn: Connection, clock: Clock, account_id: str, ids: Sequence[str]) -> None:
    """R5: tell the platform which requests to send now, in events of at most 1,000 ids."""
    for i in range(0, len(ids), RELEASED_EVENT_IDS):
        emit(
            conn,
            clock,
            type="review_requests.released",
            account_id=account_id,
            payload={"account_id": account_id, "order_ids": list(ids[i : i + RELEASED_EVENT_IDS])},
        )
