"""The subscription's rows over time: the live-line constraint, the billing calendar the run moves
(B1), the quantity in force at an instant (C3), and the accounts the run picks up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from allot.billing.changes import change_quantity
from allot.invoice.run import bill_account
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription import repository as repo
from allot.subscription.models import subscriptions
from allot.subscription.repository import LiveSubscription, QuantitySpan
from allot.subscription.service import subscribe
from tests.domains import add_account, load_presets, read, run
from tests.scenarios.world import local

KYIV = "Europe/Kyiv"


@pytest.fixture
def presets(db: Database, clock: FixedClock) -> Database:
    load_presets(db, clock, "stamp-card")
    return db


def only(db: Database, account_id: str) -> LiveSubscription:
    (found,) = read(db, lambda conn: repo.live(conn, account_id))
    return found


def start(
    db: Database, clock: FixedClock, account_id: str, plan: str, started_on: date, **kw: int
) -> LiveSubscription:
    add_account(db, clock, account_id)
    return run(
        db,
        lambda conn: subscribe(
            conn, clock, account_id=account_id, plan_code=plan, started_on=started_on, **kw
        ),
    )


def bill_on(db: Database, clock: FixedClock, account_id: str, day: date) -> int:
    """Run the account's billing at 10:00 local on `day`; how many invoices it issued."""
    clock.set(local(KYIV, day.year, day.month, day.day, 10))
    return len(run(db, lambda conn: bill_account(conn, clock, account_id=account_id)))


# --- the one live subscription per line, in the database itself ---------------------------------


def test_a2_the_database_refuses_a_second_live_subscription_on_a_line(
    presets: Database, clock: FixedClock
) -> None:
    """Two requests that both passed the service's check cannot both commit."""
    first = start(presets, clock, "cafe", "monthly", date(2026, 1, 5))
    with pytest.raises(sa.exc.IntegrityError), presets.transaction() as conn:
        repo.insert(
            conn,
            account_id="cafe",
            product_line="stamp-card",
            plan_id=first.plan_id,
            quantity=1,
            started_on=date(2026, 1, 5),
            starts_at=first.starts_at,
            at=clock.now(),
        )
    assert only(presets, "cafe").id == first.id


def test_a2_a_canceled_subscription_is_not_live_and_frees_its_line(
    presets: Database, clock: FixedClock
) -> None:
    first = start(presets, clock, "cafe", "monthly", date(2026, 1, 5))
    with presets.transaction() as conn:  # no use case cancels yet: the state, as it would be
        conn.execute(
            sa.update(subscriptions)
            .where(subscriptions.c.id == first.id)
            .values(state="canceled", canceled_at=clock.now())
        )
    assert read(presets, lambda conn: repo.live(conn, "cafe")) == []
    again = run(
        presets,
        lambda conn: subscribe(conn, clock, account_id="cafe", plan_code="card-scanner-free"),
    )
    assert only(presets, "cafe").id == again.id != first.id


# --- B1: the billing calendar ------------------------------------------------------------------


def test_b1_a_contract_of_the_31st_is_due_on_the_last_day_of_shorter_months(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(KYIV, 2026, 1, 31, 9))
    start(presets, clock, "cafe", "monthly", date(2026, 1, 31))
    seen = []
    for day in (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)):
        assert bill_on(presets, clock, "cafe", day) >= 1
        row = only(presets, "cafe")
        seen.append((row.billed_months, row.next_bill_on))
    assert seen == [
        (1, date(2026, 2, 28)),
        (2, date(2026, 3, 31)),
        (3, date(2026, 4, 30)),
        (4, date(2026, 5, 31)),
    ]


def test_b1_the_day_before_the_contract_date_nothing_is_due(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(KYIV, 2026, 1, 21, 9))
    start(presets, clock, "cafe", "monthly", date(2026, 1, 21))
    assert bill_on(presets, clock, "cafe", date(2026, 1, 21)) == 1
    assert bill_on(presets, clock, "cafe", date(2026, 2, 20)) == 0  # no usage: no usage invoice
    assert only(presets, "cafe").next_bill_on == date(2026, 2, 21)
    assert bill_on(presets, clock, "cafe", date(2026, 2, 21)) == 1
    assert only(presets, "cafe").next_bill_on == date(2026, 3, 21)


def test_b1_a_leap_day_annual_contract_renews_on_28_february_and_29_in_leap_years(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(KYIV, 2024, 2, 29, 9))
    start(presets, clock, "cafe", "annual", date(2024, 2, 29))
    dues = []
    for day in (date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28)):
        bill_on(presets, clock, "cafe", day)
        dues.append(only(presets, "cafe").next_bill_on)
    assert dues == [date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]
    assert only(presets, "cafe").billed_months == 48


def test_b2_the_usage_month_moves_on_once_its_usage_invoice_day_is_reached(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(KYIV, 2026, 1, 21, 9))
    start(presets, clock, "cafe", "monthly", date(2026, 1, 21))
    bill_on(presets, clock, "cafe", date(2026, 2, 7))
    assert only(presets, "cafe").usage_month == "2026-01"
    bill_on(presets, clock, "cafe", date(2026, 2, 8))  # B2: January's usage on the 8th
    assert only(presets, "cafe").usage_month == "2026-02"


def test_b6_due_accounts_filters_by_date_and_pages_by_account(
    presets: Database, clock: FixedClock
) -> None:
    start(presets, clock, "b-early", "monthly", date(2026, 1, 5))
    start(presets, clock, "a-late", "monthly", date(2026, 1, 20))
    start(presets, clock, "c-early", "monthly", date(2026, 1, 3))

    def due(by_day: date, after: str | None = None, limit: int = 10) -> list[str]:
        return read(
            presets,
            lambda conn: repo.due_accounts(
                conn, by_day=by_day, usage_before="2026-01", after=after, limit=limit
            ),
        )

    assert due(date(2026, 1, 2)) == []
    assert due(date(2026, 1, 10)) == ["b-early", "c-early"]
    assert due(date(2026, 1, 20)) == ["a-late", "b-early", "c-early"]
    assert due(date(2026, 1, 20), limit=2) == ["a-late", "b-early"]
    assert due(date(2026, 1, 20), after="b-early") == ["c-early"]
    # a usage month before `usage_before` is due whatever the charge date
    assert read(
        presets,
        lambda conn: repo.due_accounts(
            conn, by_day=date(2026, 1, 1), usage_before="2026-02", after=None, limit=10
        ),
    ) == ["a-late", "b-early", "c-early"]


# --- C3: the quantity in force at an instant ---------------------------------------------------


def test_c3_an_increase_is_in_force_from_its_instant_and_the_history_answers_before_it(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(KYIV, 2026, 1, 1, 9))
    first = start(presets, clock, "chain", "monthly", date(2026, 1, 1))
    bill_on(presets, clock, "chain", date(2026, 1, 1))
    raised_at = local(KYIV, 2026, 1, 17, 12)
    clock.set(raised_at)
    run(
        presets,
        lambda conn: change_quantity(
            conn, clock, account_id="chain", subscription_id=first.id, quantity=3
        ),
    )
    row = only(presets, "chain")
    assert (row.quantity, row.quantity_from, row.pending_quantity) == (3, raised_at, None)

    def span(at: datetime) -> QuantitySpan:
        return read(presets, lambda conn: repo.quantity_span(conn, row, at))

    assert span(raised_at - timedelta(microseconds=1)) == QuantitySpan(1, None, raised_at)
    assert span(raised_at) == QuantitySpan(3, raised_at, None)
    assert span(local(KYIV, 2026, 1, 3)) == QuantitySpan(1, None, raised_at)
    changes = read(presets, lambda conn: repo.quantity_changes(conn, first.id))
    assert [(c.from_quantity, c.to_quantity, c.direction, c.state) for c in changes] == [
        (1, 3, "increase", "applied")
    ]


def test_c3_b4_a_decrease_counts_from_the_renewals_local_midnight(
    presets: Database, clock: FixedClock
) -> None:
    clock.set(local(KYIV, 2026, 1, 10, 9))
    first = start(presets, clock, "chain", "monthly", date(2026, 1, 10), quantity=3)
    bill_on(presets, clock, "chain", date(2026, 1, 10))
    clock.set(local(KYIV, 2026, 1, 25, 9))
    run(
        presets,
        lambda conn: change_quantity(
            conn, clock, account_id="chain", subscription_id=first.id, quantity=2
        ),
    )
    row = only(presets, "chain")
    renewal = local(KYIV, 2026, 2, 10)
    assert (row.quantity, row.pending_quantity, row.pending_quantity_at) == (3, 2, renewal)
    assert row.pending_quantity_on == date(2026, 2, 10) == row.next_bill_on
    assert row.quantity_in_force(renewal - timedelta(microseconds=1)) == 3
    assert row.quantity_in_force(renewal) == 2
    assert read(presets, lambda conn: repo.quantity_span(conn, row, renewal)) == QuantitySpan(
        2, renewal, None
    )
    assert read(
        presets, lambda conn: repo.quantity_span(conn, row, local(KYIV, 2026, 2, 1))
    ) == QuantitySpan(3, None, renewal)


def test_c3_a_subscription_without_changes_has_one_quantity_for_all_time(
    presets: Database, clock: FixedClock
) -> None:
    start(presets, clock, "chain", "monthly", date(2026, 1, 5), quantity=4)
    row = only(presets, "chain")
    instants = (datetime(2000, 1, 1, tzinfo=UTC), clock.now(), datetime(2099, 1, 1, tzinfo=UTC))
    with presets.read() as conn:
        spans = [repo.quantity_span(conn, row, at) for at in instants]
    assert spans == [QuantitySpan(4, None, None)] * 3
