"""The orders table's batch statements on both databases: a batch travels as JSON and is unpacked
by the database, so every id and instant must come back exactly as sent, in batches larger than
one IN list, and the gate's counters must match the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from allot.backlog import repository as repo
from allot.backlog.repository import GateRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.reviews.service import OrderIn, ingest_orders
from allot.subscription.service import subscribe
from tests.domains import add_account, load_presets, read, run
from tests.scenarios.world import local

NY = "America/New_York"
NOW = local(NY, 2026, 3, 20, 12)


@pytest.fixture
def store(db: Database, clock: FixedClock) -> Database:
    clock.set(NOW)
    load_presets(db, clock, "reviews-loyalty")
    add_account(db, clock, "store", tz=NY, currency="USD")
    run(
        db,
        lambda conn: subscribe(
            conn,
            clock,
            account_id="store",
            plan_code="reviews-enterprise-5000",
            started_on=date(2026, 3, 1),
        ),
    )
    return db


def ingest(db: Database, clock: FixedClock, orders: list[OrderIn]) -> None:
    run(db, lambda conn: ingest_orders(conn, clock, account_id="store", orders=orders))


ODD_IDS = [
    'quote"d',
    "back\\slash",
    "замовлення-№1",
    "注文🛒",
    "tab\tinside",
    "'single'",
    "a,b;c",
    "line\nbreak",
]


def test_r5_every_order_id_comes_back_exactly_as_it_was_sent(
    store: Database, clock: FixedClock
) -> None:
    at = NOW - timedelta(hours=1)
    ingest(store, clock, [OrderIn(i, at + timedelta(seconds=n)) for n, i in enumerate(ODD_IDS)])
    with store.read() as conn:
        rows = repo.requests(conn, "store", state="to_send", after=None, limit=100)
        known = repo.known_ids(conn, "store", [*ODD_IDS, "never"])
    assert [r.order_id for r in rows] == ODD_IDS
    assert known == set(ODD_IDS)


def test_u5_instants_keep_their_microseconds_and_come_back_in_utc(
    store: Database, clock: FixedClock
) -> None:
    placed = datetime(2026, 3, 15, 23, 59, 59, 999_999, tzinfo=UTC)
    ingest(store, clock, [OrderIn("a", placed.astimezone(local(NY, 2026, 3, 1).tzinfo))])
    (row,) = read(
        store, lambda conn: repo.requests(conn, "store", state="to_send", after=None, limit=5)
    )
    assert row.placed_at == placed
    assert row.placed_at.utcoffset() == timedelta(0)
    assert (row.released_at, row.sent_at) == (NOW, None)


def test_r1_a_batch_larger_than_one_in_list_is_stored_and_read_whole(
    store: Database, clock: FixedClock
) -> None:
    n = 4500  # more than two of the repository's IN lists (2,000 ids each)
    first = NOW - timedelta(days=5)
    ids = [f"order-{i:05d}" for i in range(n)]
    ingest(store, clock, [OrderIn(i, first + timedelta(seconds=k)) for k, i in enumerate(ids)])
    with store.read() as conn:
        states = repo.states_of(conn, "store", ids)
        known = repo.known_ids(conn, "store", ids)
        march = repo.month_row(conn, "store", "2026-03")
        listed = repo.requests(conn, "store", state="to_send", after=None, limit=n)
    assert (len(states), set(states.values()), len(known)) == (n, {"to_send"}, n)
    assert (march.orders, march.within, march.exists) == (n, n, True)
    assert [r.place for r in listed] == list(range(1, n + 1))
    assert [r.order_id for r in listed] == ids


def test_r4_waiting_requests_oldest_or_newest_first_ties_broken_by_id(
    store: Database, clock: FixedClock
) -> None:
    same = NOW - timedelta(days=1)
    ingest(store, clock, [OrderIn(f"o{i}", NOW - timedelta(days=2)) for i in range(5000)])
    ingest(store, clock, [OrderIn("b", same), OrderIn("c", same), OrderIn("a", same)])
    with store.read() as conn:
        oldest = repo.waiting(conn, "store", limit=5, newest_first=False)
        newest = repo.waiting_ids(conn, "store", limit=2, newest_first=True)
    assert oldest == [("a", "2026-03"), ("b", "2026-03"), ("c", "2026-03")]
    assert newest == ["c", "b"]


def test_r2_the_gate_keeps_its_cap_exactly(store: Database, clock: FixedClock) -> None:
    row = GateRow("store", "defined", Decimal("149.99"), 0, "2026-03", NOW)
    run(store, lambda conn: repo.insert_gate(conn, row))
    assert read(store, lambda conn: repo.gate(conn, "store")) == row
    changed = GateRow("store", "unlimited", None, 7, "2026-04", NOW + timedelta(days=12))
    run(store, lambda conn: repo.update_gate(conn, changed))
    assert read(store, lambda conn: repo.gate(conn, "store")) == changed
    assert read(store, lambda conn: repo.gate(conn, "other")) is None


def test_r2_a_months_top_up_amount_is_kept_exactly(store: Database, clock: FixedClock) -> None:
    row = repo.MonthRow("store", "2026-02")
    row.orders, row.within, row.topped_up, row.top_up_amount = 9, 5, 4, Decimal("0.5600")
    assert read(store, lambda conn: repo.month_row(conn, "store", "2026-02")).exists is False
    run(store, lambda conn: repo.save_month(conn, row))
    assert row.exists
    row.topped_up, row.top_up_amount = 5, Decimal("0.70")
    run(store, lambda conn: repo.save_month(conn, row))
    back = read(store, lambda conn: repo.month_row(conn, "store", "2026-02"))
    assert (back.orders, back.within, back.topped_up, back.top_up_amount) == (
        9,
        5,
        5,
        Decimal("0.70"),
    )
    assert read(store, lambda conn: repo.months(conn, "store", ["2026-02", "2026-01"])) == [back]
