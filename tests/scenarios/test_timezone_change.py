"""A change of an account's time zone takes effect from the next calendar month (A5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from allot.account.service import get_account, update_account
from allot.core.periods import Month
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from tests.scenarios.world import World, local

KYIV = "Europe/Kyiv"
NY = "America/New_York"


@pytest.fixture
def world(db: Database) -> World:
    return World(db, FixedClock(local(KYIV, 2026, 1, 2, 9)))


def _move_to(world: World, account: str, tz: str) -> None:
    with world.db.transaction() as conn:
        update_account(conn, world.clock, account_id=account, timezone=tz)


def test_A5_recorded_usage_keeps_its_month_and_the_new_zone_starts_next_month(
    world: World,
) -> None:
    shop = world.business("shop", plan="card-scanner-free", tz=KYIV)
    world.at(KYIV, 2026, 1, 20, 10)
    world.consume(shop, quantity=7)
    world.at(KYIV, 2026, 1, 25, 10)
    _move_to(world, shop, NY)
    with world.db.read() as conn:
        account = get_account(conn, shop)
    assert (account.timezone, account.timezone_before) == (NY, KYIV)
    # February has begun in both zones at 05:00 UTC (midnight in New York)
    assert account.timezone_since == datetime(2026, 2, 1, 5, tzinfo=UTC)

    world.at(KYIV, 2026, 2, 2, 10)
    # still January: the rest of January is Kyiv's (23:00 on the 31st there)
    assert world.consume(shop, at=datetime(2026, 1, 31, 21, tzinfo=UTC)).period == "2026-01"
    # 20:00 on 31 January in New York, 03:00 on 1 February in Kyiv: February already
    late = world.consume(shop, at=datetime(2026, 2, 1, 1, tzinfo=UTC))
    assert late.period == "2026-02"
    assert world.page(shop, Month(2026, 1)).metrics[0].used == 8  # 7 + 1, unchanged

    # from February on, months are New York's: 22:00 on 28 February there is February
    world.at(NY, 2026, 3, 1, 10)
    assert world.consume(shop, at=datetime(2026, 3, 1, 3, tzinfo=UTC)).period == "2026-02"
    assert world.consume(shop).period == "2026-03"
    world.assert_ledger_proves_counters()


def test_A5_a_change_still_waiting_is_replaced_and_changing_back_cancels_it(
    world: World,
) -> None:
    shop = world.business("shop", plan="card-scanner-free", tz=KYIV)
    world.at(KYIV, 2026, 1, 25, 10)
    _move_to(world, shop, NY)
    _move_to(world, shop, "Asia/Tokyo")
    with world.db.read() as conn:
        account = get_account(conn, shop)
    assert (account.timezone, account.timezone_before) == ("Asia/Tokyo", KYIV)
    assert account.timezone_since == datetime(2026, 1, 31, 22, tzinfo=UTC)  # Kyiv's 1 Feb
    _move_to(world, shop, KYIV)
    with world.db.read() as conn:
        account = get_account(conn, shop)
    assert (account.timezone, account.timezone_before, account.timezone_since) == (
        KYIV,
        None,
        None,
    )
