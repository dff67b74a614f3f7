"""The billing calendar over 14 months on a fixed clock: B1-B6 with seed 003's figures."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from allot.billing.advice import upgrade_advice
from allot.catalog.loader import load_catalog_with_extras
from allot.catalog.service import load_catalog
from allot.core.money import Money
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from tests.scenarios.world import PRESETS, World, local

NY = "America/New_York"


@pytest.fixture
def world(db: Database) -> World:
    return World(db, FixedClock(local(NY, 2026, 5, 12, 9)))


def usd(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)


def live_through(world: World, tz: str, start: date, months: int) -> None:
    """Move the clock day by day (at local noon) and run the invoice run each day."""
    day = start
    end = date(
        start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1
    )
    while day < end:
        world.at(tz, day.year, day.month, day.day, 12)
        world.bill()
        day += timedelta(days=1)


def test_B1_B2_V2_full_suite_business_billed_every_12th_and_overage_on_the_8th(
    world: World,
) -> None:
    """Seed 003: signed up 12 May → $279 on the 12th of every month; 1,800 orders in
    June → 300 × $0.20 = $60 on 8 July, on its own invoice."""
    store = world.business("store", plan="full-suite-business", tz=NY, currency="USD")
    world.at(NY, 2026, 6, 15, 10)
    world.consume(store, "orders", 1800)
    live_through(world, NY, date(2026, 5, 12), 14)

    subs = world.invoices(store, "subscription")
    assert [i.issued_on for i in subs][:3] == [
        date(2026, 5, 12),
        date(2026, 6, 12),
        date(2026, 7, 12),
    ]
    assert {i.issued_on.day for i in subs} == {12}
    assert len(subs) == 14  # 12 May 2026 .. 12 June 2027
    assert {i.total_minor for i in subs} == {27900}
    assert subs[0].period_start == date(2026, 5, 12)
    assert subs[0].period_end == date(2026, 6, 12)

    usage = world.invoices(store, "usage")
    assert len(usage) == 1  # only June went over: each month's overage is its own charge
    june = usage[0]
    assert june.issued_on == date(2026, 7, 8)
    assert (june.period_start, june.period_end) == (date(2026, 6, 1), date(2026, 7, 1))
    assert june.total_minor == 6000
    (line,) = june.lines
    assert (line.charge.quantity, line.charge.unit_price) == (300, Decimal("0.20"))
    assert june.id not in {i.id for i in subs}


def test_B6_numbers_run_without_gaps_and_a_second_run_issues_nothing(world: World) -> None:
    store = world.business("store", plan="full-suite-business", tz=NY, currency="USD")
    world.business("other", plan="loyalty-business", tz=NY, currency="USD")
    world.at(NY, 2026, 9, 20)
    first = world.bill()
    again = world.bill()
    assert len(first.invoices) == 10  # May..Sep for each of two stores
    assert again.invoices == []
    numbers = sorted(i.number or "" for a in (store, "other") for i in world.invoices(a))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 11)]


def test_V2_loyalty_business_500_over_is_100_dollars(world: World) -> None:
    shop = world.business("shop", plan="loyalty-business", tz=NY, currency="USD")
    world.at(NY, 2026, 6, 3)
    world.consume(shop, "orders", 2000)
    world.at(NY, 2026, 7, 8, 0)
    world.bill()
    (june,) = world.invoices(shop, "usage")
    assert usd(june.total_minor) == Decimal("100.00")


def test_B1_start_on_the_21st_is_billed_every_21st(world: World) -> None:
    shop = world.business(
        "shop", plan="loyalty-premium", tz=NY, currency="USD", started_on=date(2026, 5, 21)
    )
    world.at(NY, 2027, 7, 1)
    world.bill()
    days = [i.issued_on for i in world.invoices(shop, "subscription")]
    assert len(days) == 14
    assert {d.day for d in days} == {21}
    assert days[-1] == date(2027, 6, 21)


def test_B1_start_on_31_january_billed_on_the_last_day_of_shorter_months(world: World) -> None:
    world.at(NY, 2028, 1, 31, 9)
    shop = world.business("shop", plan="loyalty-premium", tz=NY, currency="USD")
    live_through(world, NY, date(2028, 1, 31), 4)
    days = [i.issued_on for i in world.invoices(shop, "subscription")]
    assert days == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]
    world.at(NY, 2029, 3, 1)
    world.bill()
    days = [i.issued_on for i in world.invoices(shop, "subscription")]
    assert date(2029, 2, 28) in days
    assert len(days) == len(set(days))


def test_B1_annual_plan_billed_on_its_anniversary(world: World) -> None:
    """Stamp-card Annual: €290 per location per year, 10 × monthly, every 18 January."""
    world.at("Europe/Kyiv", 2026, 1, 18, 9)
    cafe = world.business("cafe", plan="annual", quantity=2)
    world.at("Europe/Kyiv", 2027, 3, 18)  # 14 months later
    world.bill()
    invoices = world.invoices(cafe, "subscription")
    assert [i.issued_on for i in invoices] == [date(2026, 1, 18), date(2027, 1, 18)]
    assert [i.total_minor for i in invoices] == [58000, 58000]
    assert invoices[0].period_end == date(2027, 1, 18)


def test_B3_an_upgrade_before_the_8th_waives_last_months_overage(world: World) -> None:
    shop = world.business("shop", plan="loyalty-business", tz=NY, currency="USD")
    world.at(NY, 2026, 6, 20)
    world.consume(shop, "orders", 1800)
    world.at(NY, 2026, 7, 5, 10)
    world.bill()
    preview, _ = world.change(shop, "loyalty-professional", preview=True)
    assert "2026-06" in preview.waived_months
    world.change(shop, "loyalty-professional")
    world.at(NY, 2026, 7, 9)
    world.bill()
    assert world.invoices(shop, "usage") == []


def test_B3_an_upgrade_that_waits_for_the_renewal_waives_from_the_renewal(
    world: World, tmp_path: Path
) -> None:
    """Stamp-card with the waiver switched on: Monthly (€29, 1,000 card operations, then
    €0.03 each) from 15 January in Kyiv, moved to Annual on 20 January — a change of
    interval, so it waits for the renewal of 15 February. January's usage invoice
    (8 February) comes before it: January's 200 operations over are billed, €6.00.
    February's invoice (8 March) comes after it: February's overage is waived. The preview
    says so beforehand (it used to list January, which the run then billed)."""
    waiving = tmp_path / "stamp-card.yaml"
    text = (PRESETS / "stamp-card.yaml").read_text()
    waiving.write_text(
        text.replace(
            "top_up_invoice_day: 1 #", "waive_overage_on_upgrade: true\n    top_up_invoice_day: 1 #"
        )
    )
    with world.db.transaction() as conn:
        loaded = load_catalog_with_extras(waiving)
        load_catalog(conn, world.clock, catalog=loaded.catalog, details=loaded.extras.details())
    kyiv = "Europe/Kyiv"
    world.at(kyiv, 2026, 1, 15, 9)
    cafe = world.business("cafe", plan="monthly")
    world.bill()
    world.consume(cafe, "card_operations", 1200)
    world.at(kyiv, 2026, 1, 20, 10)
    preview, _ = world.change(cafe, "annual", preview=True)
    assert (preview.direction, preview.immediate) == ("upgrade", False)
    assert preview.effective_on == date(2026, 2, 15)
    assert preview.waived_months == ("2026-02",)
    world.change(cafe, "annual")
    world.at(kyiv, 2026, 2, 10, 9)
    world.bill()
    (january,) = world.invoices(cafe, "usage")
    assert (january.issued_on, january.total_minor, january.notes) == (date(2026, 2, 8), 600, ())
    world.at(kyiv, 2026, 2, 20, 9)
    world.consume(cafe, "card_operations", 1100)
    world.at(kyiv, 2026, 3, 9, 9)
    world.bill()
    assert world.invoices(cafe, "usage") == [january]  # February's overage waived
    assert [i.total_minor for i in world.invoices(cafe, "subscription")] == [2900, 29000]


def test_B3_without_an_upgrade_the_overage_is_billed_on_the_8th(world: World) -> None:
    shop = world.business("shop", plan="loyalty-business", tz=NY, currency="USD")
    world.at(NY, 2026, 6, 20)
    world.consume(shop, "orders", 1800)
    world.at(NY, 2026, 7, 7, 23)
    world.bill()
    assert world.invoices(shop, "usage") == []  # not before the 8th
    world.at(NY, 2026, 7, 8, 0)
    world.bill()
    (june,) = world.invoices(shop, "usage")
    assert june.total_minor == 6000


def test_B4_mid_period_upgrade_charges_the_prorated_difference_to_the_cent(world: World) -> None:
    """Loyalty Business $179 → Professional $479 on 20 May in the period 12 May–12 June:
    23 of 31 days left → $300 × 23/31 = $222.580645… → $222.58."""
    shop = world.business("shop", plan="loyalty-business", tz=NY, currency="USD")
    world.bill()
    world.at(NY, 2026, 5, 20, 15)
    preview, _ = world.change(shop, "loyalty-professional", preview=True)
    assert (preview.days_left, preview.days_in_period) == (23, 31)
    assert preview.charge_rounded.amount == Decimal("222.58")
    assert world.plan_of(shop) == "loyalty-business"  # a preview changes nothing

    _, invoice = world.change(shop, "loyalty-professional")
    assert invoice is not None
    assert invoice.kind == "proration"
    assert invoice.total_minor == 22258
    assert invoice.lines[0].charge.amount == (Money.of(300, "USD") * 23 / 31).amount  # exact
    assert world.plan_of(shop) == "loyalty-professional"  # at once
    world.at(NY, 2026, 6, 12, 1)
    world.bill()
    renewal = world.invoices(shop, "subscription")[-1]
    assert renewal.issued_on == date(2026, 6, 12)
    assert renewal.total_minor == 47900


def test_B4_a_downgrade_takes_effect_at_the_renewal(world: World) -> None:
    shop = world.business("shop", plan="loyalty-professional", tz=NY, currency="USD")
    world.bill()
    world.at(NY, 2026, 5, 25)
    preview, invoice = world.change(shop, "loyalty-business")
    assert invoice is None
    assert preview.direction == "downgrade"
    assert preview.effective_on == date(2026, 6, 12)
    assert world.plan_of(shop) == "loyalty-professional"  # until the renewal
    world.at(NY, 2026, 6, 12, 0)
    world.bill()
    assert world.plan_of(shop) == "loyalty-business"
    totals = [i.total_minor for i in world.invoices(shop, "subscription")]
    assert totals == [47900, 17900]


@pytest.mark.parametrize(
    ("tz", "utc_hour_of_local_midnight"),
    [("Pacific/Kiritimati", 10), ("Pacific/Pago_Pago", 11)],
)
def test_U5_B2_accounts_at_utc_plus_14_and_minus_11_at_month_boundaries(
    world: World, tz: str, utc_hour_of_local_midnight: int
) -> None:
    shop = world.business(
        "shop", plan="full-suite-business", tz=tz, currency="USD", started_on=date(2026, 6, 1)
    )
    world.at(tz, 2026, 7, 1, 12)  # reported the next day
    # 23:30 local on 30 June is June, whatever the UTC date
    world.consume(shop, "orders", 1500, at=local(tz, 2026, 6, 30, 23, 30))
    world.consume(shop, "orders", 10, at=local(tz, 2026, 6, 30, 23, 45))
    world.consume(shop, "orders", 7, at=local(tz, 2026, 7, 1, 0, 5))  # July
    world.at(tz, 2026, 7, 7, 23)
    world.bill()
    assert world.invoices(shop, "usage") == []
    world.at(tz, 2026, 7, 8, 0)
    assert world.clock.now().hour in (
        utc_hour_of_local_midnight,
        (utc_hour_of_local_midnight + 13) % 24,
    )
    world.bill()
    (june,) = world.invoices(shop, "usage")
    assert june.lines[0].charge.quantity == 10
    subs = world.invoices(shop, "subscription")
    assert [i.issued_on for i in subs] == [date(2026, 6, 1), date(2026, 7, 1)]


def test_B5_tax_rate_of_the_account_on_every_line(world: World) -> None:
    from allot.account.service import update_account

    store = world.business("store", plan="full-suite-business", tz=NY, currency="USD")
    with world.db.transaction() as conn:
        update_account(conn, world.clock, account_id=store, tax_rate="0.0825")
    world.bill()
    (first,) = world.invoices(store)
    assert first.subtotal_minor == 27900
    assert first.tax_minor == 2302  # 279 × 8.25 % = 23.0175 → 23.02
    assert first.total_minor == 30202
    assert "half_up" in first.rounding


def test_V1_loyalty_business_at_3000_orders_costs_exactly_the_professional_price(
    world: World,
) -> None:
    """$179 + 1,500 × $0.20 = $479 = Loyalty Professional; the advice says so (V1)."""
    shop = world.business("shop", plan="loyalty-business", tz=NY, currency="USD")
    world.at(NY, 2026, 6, 10)
    world.consume(shop, "orders", 3000)
    with world.db.read() as conn:
        this_month, last_month = upgrade_advice(conn, world.clock, account_id=shop)
    assert (this_month.month, this_month.to_date) == ("2026-06", True)
    advice = this_month.advice
    assert advice.current.cost == Money.of("479.00", "USD")
    assert advice.options[1].plan_code == "loyalty-professional"
    assert advice.options[1].cost == Money.of("479", "USD")
    assert "the same as Loyalty Professional" in advice.message
    assert advice.breakeven_units == 3001
    assert advice.breakeven_share == Decimal("0.857")  # the seed's "about 85 %", computed
    assert (last_month.month, last_month.advice.units) == ("2026-05", 0)
