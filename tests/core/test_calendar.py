"""The billing calendar (B1, B2, B3, B4, C3, B7): table tests from the seeds' figures.

Every row reads like a worked example: a contract's start, what has been
charged, the day of a change, and the date or the amount the calendar gives.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.calendar import (
    anniversary,
    billing_period,
    late_months,
    months_waived,
    next_due_after,
    opening,
    paid_period,
    plan_id_at,
    prorate_change,
    prorated_difference,
    remaining_share,
    renewal_starts,
    takes_effect,
    usage_day,
    usage_invoice_day,
    waiving_upgrade,
)
from allot.core.catalog import Interval, MetricRule, OveragePolicy, Plan, ProductLine
from allot.core.errors import InvalidInput
from allot.core.money import Money
from allot.core.periods import Month, local_midnight, zone

NY = ZoneInfo("America/New_York")
KYIV = ZoneInfo("Europe/Kyiv")

ZONES = [
    "UTC",
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Pago_Pago",  # UTC-11
    "Europe/Kyiv",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Kathmandu",  # +05:45
]


def d(text: str) -> date:
    return date.fromisoformat(text)


def local(tz: ZoneInfo, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# -- B1: charged in advance on the contract date ------------------------------------------

ANNIVERSARIES = [
    # (started on, months after, due)
    ("2026-01-31", 0, "2026-01-31"),
    ("2026-01-31", 1, "2026-02-28"),  # the last day of a shorter month ...
    ("2026-01-31", 2, "2026-03-31"),  # ... and back to the 31st
    ("2026-01-31", 3, "2026-04-30"),
    ("2026-01-31", 11, "2026-12-31"),
    ("2026-01-31", 12, "2027-01-31"),
    ("2028-01-31", 1, "2028-02-29"),  # a leap year
    ("2026-01-31", 25, "2028-02-29"),
    ("2026-01-30", 1, "2026-02-28"),
    ("2026-01-30", 2, "2026-03-30"),  # computed from the start, so no drift after February
    ("2026-01-21", 1, "2026-02-21"),  # the seed: started on the 21st, billed every 21st
    ("2026-01-21", 12, "2027-01-21"),
    # annual, from 29 February
    ("2024-02-29", 12, "2025-02-28"),
    ("2024-02-29", 36, "2027-02-28"),
    ("2024-02-29", 48, "2028-02-29"),
    ("2026-12-31", 24, "2028-12-31"),
]  # fmt: skip


@pytest.mark.parametrize(("started", "months", "due"), ANNIVERSARIES)
def test_B1_the_contract_date_in_later_months(started: str, months: int, due: str) -> None:
    assert anniversary(d(started), months) == d(due)


@settings(max_examples=200, deadline=None)
@given(
    anchor_day=st.integers(1, 31),
    anchor_month=st.sampled_from([1, 3, 5, 7, 8, 10, 12]),
    months=st.sampled_from([1, 12]),
)
def test_B1_anniversaries_strictly_increase_and_never_skip_a_month_2024_to_2032(
    anchor_day: int, anchor_month: int, months: int
) -> None:
    anchor = date(2024, anchor_month, anchor_day)
    count = (2032 - 2024) * 12 // months + 1
    dates = [anniversary(anchor, n * months) for n in range(count)]
    assert dates[0] == anchor
    for before, after in pairwise(dates):
        assert before < after
        steps = (after.year - before.year) * 12 + after.month - before.month
        assert steps == months
        assert after.day == min(anchor_day, Month(after.year, after.month).days)


BILLING_PERIODS = [
    # (started on, months charged, interval months, the next period [start, end))
    ("2026-01-31", 0, 1, "2026-01-31", "2026-02-28"),
    ("2026-01-31", 1, 1, "2026-02-28", "2026-03-31"),
    ("2026-01-31", 2, 1, "2026-03-31", "2026-04-30"),
    ("2026-01-18", 0, 12, "2026-01-18", "2027-01-18"),
    ("2028-02-29", 12, 12, "2029-02-28", "2030-02-28"),
    ("2028-02-29", 48, 12, "2032-02-29", "2033-02-28"),
    # monthly for two months, then annual from the renewal (B4: a change of interval)
    ("2026-01-31", 2, 12, "2026-03-31", "2027-03-31"),
]  # fmt: skip


@pytest.mark.parametrize(("started", "billed", "months", "start", "end"), BILLING_PERIODS)
def test_B1_the_period_each_charge_covers(
    started: str, billed: int, months: int, start: str, end: str
) -> None:
    assert billing_period(d(started), billed, months) == (d(start), d(end))


def test_B1_a_new_contract_is_first_charged_on_its_start_and_its_usage_counted_from_its_month() -> (
    None
):
    assert opening(d("2026-01-31")) == (d("2026-01-31"), Month(2026, 1))


PAID_PERIODS = [
    # (started on, months charged, interval months, the last period charged)
    ("2026-01-01", 0, 1, None),  # nothing charged yet
    ("2026-01-01", 1, 1, ("2026-01-01", "2026-02-01")),
    ("2026-01-31", 2, 1, ("2026-02-28", "2026-03-31")),
    ("2026-01-18", 12, 12, ("2026-01-18", "2027-01-18")),
    ("2026-01-31", 14, 12, ("2026-03-31", "2027-03-31")),  # annual since the second renewal
]  # fmt: skip


@pytest.mark.parametrize(("started", "billed", "months", "paid"), PAID_PERIODS)
def test_B1_the_period_paid_last(
    started: str, billed: int, months: int, paid: tuple[str, str] | None
) -> None:
    expected = None if paid is None else (d(paid[0]), d(paid[1]))
    assert paid_period(d(started), billed, months) == expected


NEXT_DUE = [
    # (started, billed, next charge, usage month, usage day, day billed, next due at the earliest)
    ("2026-01-10", 0, "2026-01-10", "2026-01", 8, "2026-01-10", "2026-02-08"),  # the bench's day
    ("2026-01-31", 1, "2026-02-28", "2026-02", 8, "2026-02-28", "2026-03-08"),
    ("2026-01-31", 2, "2026-03-31", "2026-02", 8, "2026-03-08", "2026-03-31"),
    ("2026-01-21", 1, "2026-02-21", "2026-01", 8, "2026-02-08", "2026-02-21"),
    ("2026-01-21", 1, "2026-02-21", "2026-01", 8, "2026-01-30", "2026-02-08"),  # nothing was due
    ("2026-01-05", 1, "2026-02-05", "2026-01", 1, "2026-02-01", "2026-02-05"),  # top-ups on the 1st
]  # fmt: skip


@pytest.mark.parametrize(
    ("started", "billed", "next_on", "usage_month", "on", "day", "due"), NEXT_DUE
)
def test_B1_B2_the_next_date_due_once_a_day_is_billed(
    started: str, billed: int, next_on: str, usage_month: str, on: int, day: str, due: str
) -> None:
    found = next_due_after(d(started), billed, d(next_on), Month.parse(usage_month), on, d(day))
    assert found == d(due)


@settings(max_examples=400, deadline=None)
@given(
    day=st.integers(1, 31),
    month=st.integers(1, 12),
    year=st.integers(2024, 2032),
    tz=st.sampled_from(ZONES),
    switch_after=st.integers(0, 14),
)
def test_B1_periods_tile_without_gap_or_overlap_through_a_change_to_annual(
    day: int, month: int, year: int, tz: str, switch_after: int
) -> None:
    """Anchor days 1-31 x 2024-2032 x seven zones: monthly for a while, then annual."""
    anchor = date(year, month, min(day, stdlib_calendar.monthrange(year, month)[1]))
    zi = zone(tz)
    billed, periods = 0, []
    for n in range(switch_after + 4):
        months = 1 if n < switch_after else 12
        periods.append((billing_period(anchor, billed, months), months))
        billed += months
        assert paid_period(anchor, billed, months) == periods[-1][0]
    assert periods[0][0][0] == anchor
    for ((_, end), _m), ((start, _), _n) in pairwise(periods):
        assert end == start  # no gap, no overlap, as dates ...
        assert local_midnight(end, zi) == local_midnight(start, zi)  # ... and as instants
    for (start, end), months in periods:
        assert local_midnight(start, zi) < local_midnight(end, zi)
        lo, hi = (28, 31) if months == 1 else (365, 366)
        assert lo <= (end - start).days <= hi
        assert start.day == anchor.day or (
            start.day < anchor.day and ((start + timedelta(days=1)).day == 1)
        )


# -- B2: usage invoices on the product line's day of the next month -----------------------

LINE = ProductLine("full-suite", "Full Suite", ("fs-business", "fs-pro"), 8, 1, True)
NO_WAIVER = ProductLine("stamp-card", "Stamp card", ("monthly", "annual"), 8, 1, False)


def plan(*policies: OveragePolicy) -> Plan:
    rules = {}
    for i, policy in enumerate(policies):
        metric = f"m{i}"
        rules[metric] = MetricRule(
            metric,
            100,
            policy,
            overage_price=Decimal("0.20") if policy is OveragePolicy.BILL else None,
            top_up_price=Decimal("0.14") if policy is OveragePolicy.TOP_UP_THEN_BACKLOG else None,
        )
    return Plan("p", "P", "full-suite", "USD", Decimal(179), Interval.MONTH, rules)


@pytest.mark.parametrize(
    ("policies", "day"),
    [
        ((OveragePolicy.BILL,), 8),  # Loyalty, Full Suite: overage on the 8th
        ((OveragePolicy.TOP_UP_THEN_BACKLOG,), 1),  # Reviews: top-ups at the start of the month
        ((OveragePolicy.TOP_UP_THEN_BACKLOG, OveragePolicy.BILL), 8),
        (
            (OveragePolicy.RECORD_AND_PROMPT,),
            8,
        ),  # a free plan: nothing billed, the 8th all the same
        ((), 8),
    ],
)
def test_B2_the_day_a_plan_is_invoiced_for_its_usage(
    policies: tuple[OveragePolicy, ...], day: int
) -> None:
    assert usage_day(plan(*policies), LINE) == day


@pytest.mark.parametrize(
    ("month", "day", "on"),
    [
        ("2026-01", 8, "2026-02-08"),  # Full Suite Business: January's 300 orders over, $60.00
        ("2025-12", 1, "2026-01-01"),  # the candle store's December top-up
        ("2025-12", 8, "2026-01-08"),
        ("2099-12", 8, "2100-01-08"),
    ],
)
def test_B2_a_months_usage_invoice_on_its_day_of_the_next_month(
    month: str, day: int, on: str
) -> None:
    assert usage_invoice_day(Month.parse(month), day) == d(on)


# -- B4: when a change is in force, and which plan prices a month --------------------------


@dataclass(frozen=True, slots=True)
class Change:
    from_plan_id: int
    to_plan_id: int
    direction: str
    requested_at: datetime
    effective_on: date
    state: str = "applied"


def upgrade(at: str, *, state: str = "applied", to: int = 2) -> Change:
    when = local(NY, at)
    return Change(to - 1, to, "upgrade", when, when.date(), state)


def waits(direction: str, at: str, renewal: str, *, state: str = "applied") -> Change:
    """A change that waits for the renewal: a downgrade, or monthly to annual."""
    return Change(2 if direction == "downgrade" else 1, 1 if direction == "downgrade" else 3,
                  direction, local(NY, at), d(renewal), state)  # fmt: skip


def test_B4_an_upgrade_is_in_force_when_made_a_change_that_waits_from_the_renewal() -> None:
    assert takes_effect(upgrade("2026-05-20T15:00"), NY) == local(NY, "2026-05-20T15:00")
    renewal = local(NY, "2026-06-12T00:00")
    assert takes_effect(waits("downgrade", "2026-05-20T15:00", "2026-06-12"), NY) == renewal
    assert takes_effect(waits("upgrade", "2026-05-20T15:00", "2026-06-12"), NY) == renewal
    assert renewal_starts(d("2026-06-12"), KYIV) == local(KYIV, "2026-06-12T00:00")


PLAN_AT = [
    # (changes, the instant, the plan that prices usage up to it; None: the subscription's own)
    ([], "2026-02-01T00:00", None),
    ([upgrade("2026-01-20T10:00")], "2026-02-01T00:00", 2),  # January priced by the new plan
    ([upgrade("2026-02-05T10:00")], "2026-02-01T00:00", 1),  # made after January ended
    ([upgrade("2026-02-05T10:00", state="superseded")], "2026-02-01T00:00", None),
    ([waits("downgrade", "2026-01-20T10:00", "2026-02-12")], "2026-02-01T00:00", 2),
    ([waits("downgrade", "2026-01-20T10:00", "2026-02-12")], "2026-03-01T00:00", 1),
    # monthly to annual, asked on 20 January, in force from the renewal of 12 February:
    # January is still priced by the monthly plan
    ([waits("upgrade", "2026-01-20T10:00", "2026-02-12")], "2026-02-01T00:00", 1),
    ([waits("upgrade", "2026-01-20T10:00", "2026-02-12")], "2026-03-01T00:00", 3),
    ([upgrade("2026-01-05T10:00"), upgrade("2026-01-25T10:00", to=3)], "2026-02-01T00:00", 3),
    ([upgrade("2026-01-05T10:00"), upgrade("2026-02-03T10:00", to=3)], "2026-02-01T00:00", 2),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "instant", "expected"), PLAN_AT)
def test_B4_the_plan_in_force_at_a_months_end_prices_its_usage(
    changes: list[Change], instant: str, expected: int | None
) -> None:
    assert plan_id_at(changes, local(NY, instant), NY) == expected


# -- B3: an upgrade before the usage invoice waives the month's overage --------------------

WAIVERS = [
    # (line, changes, month, usage day, waived?)
    (LINE, [upgrade("2026-02-05T10:00")], "2026-01", 8, True),  # before 8 February
    (LINE, [upgrade("2026-02-05T10:00")], "2026-02", 8, True),  # and its own month
    (LINE, [upgrade("2026-02-08T00:00")], "2026-01", 8, False),  # the invoice's day has begun
    (LINE, [upgrade("2026-02-07T23:59")], "2026-01", 8, True),
    (LINE, [upgrade("2025-12-31T23:59")], "2026-01", 8, False),  # before the month began
    (LINE, [upgrade("2026-01-01T00:00")], "2026-01", 8, True),
    (LINE, [upgrade("2026-01-25T10:00")], "2025-12", 8, False),  # December's invoice was out
    (LINE, [upgrade("2026-02-05T10:00", state="superseded")], "2026-01", 8, False),
    (NO_WAIVER, [upgrade("2026-02-05T10:00")], "2026-01", 8, False),  # stamp-card bills it
    (LINE, [waits("downgrade", "2026-02-05T10:00", "2026-02-06")], "2026-01", 8, False),
    # an upgrade that waits for the renewal waives from the instant it is in force
    (LINE, [waits("upgrade", "2026-01-20T10:00", "2026-02-15")], "2026-01", 8, False),
    (LINE, [waits("upgrade", "2026-01-20T10:00", "2026-02-15")], "2026-02", 8, True),
    (LINE, [waits("upgrade", "2026-01-20T10:00", "2026-02-15", state="scheduled")],
     "2026-02", 8, False),  # not in force yet
    (LINE, [waits("upgrade", "2025-12-20T10:00", "2026-01-15")], "2026-01", 8, True),
]  # fmt: skip


@pytest.mark.parametrize(("line", "changes", "month", "day", "waived"), WAIVERS)
def test_B3_the_upgrade_that_waives_a_months_overage(
    line: ProductLine, changes: list[Change], month: str, day: int, waived: bool
) -> None:
    found = waiving_upgrade(line, changes, Month.parse(month), day, NY)
    assert (found is not None) == waived
    if waived:
        assert found is changes[0]


PREVIEWED = [
    # (line, first month not invoiced, usage day, the upgrade in force from, months waived)
    (LINE, "2026-01", 8, "2026-02-05T10:00", ["2026-01", "2026-02"]),
    (LINE, "2026-02", 8, "2026-02-10T10:00", ["2026-02"]),
    (LINE, "2026-02", 8, "2026-02-01T00:00", ["2026-02"]),
    (NO_WAIVER, "2026-01", 8, "2026-02-05T10:00", []),
    # monthly to annual asked on 20 January, in force from 15 February: January's invoice
    # (8 February) comes first, so only February is waived
    (LINE, "2026-01", 8, "2026-02-15T00:00", ["2026-02"]),
]  # fmt: skip


@pytest.mark.parametrize(("line", "first", "day", "at", "months"), PREVIEWED)
def test_B3_the_months_a_plan_changes_preview_shows_waived(
    line: ProductLine, first: str, day: int, at: str, months: list[str]
) -> None:
    found = months_waived(line, Month.parse(first), day, local(NY, at), NY)
    assert [m.key for m in found] == months


def test_B3_the_preview_and_the_run_agree_on_every_month() -> None:
    """An upgrade at any hour of a winter: the months its preview lists are the ones whose
    usage invoice the run waives."""
    first = Month(2026, 1)
    at = local(NY, "2026-01-01T00:00")
    while at < local(NY, "2026-04-01T00:00"):
        change = upgrade(at.replace(tzinfo=None).isoformat(timespec="minutes"))
        pending = first
        while usage_invoice_day(pending, 8) <= at.date():
            pending = pending.next()  # the run has billed these already
        previewed = {m.key for m in months_waived(LINE, pending, 8, at, NY)}
        billed = {
            m.key
            for m in (pending, pending.next(), pending.next().next())
            if waiving_upgrade(LINE, [change], m, 8, NY) is not None
        }
        assert previewed == billed, at
        at += timedelta(hours=7)


# -- B7: the late lines of earlier months ---------------------------------------------------

LATE = [
    # (changes, the usage invoice's month, first month of the contract, months with late lines)
    ([], "2026-03", "2025-06", ["2026-01", "2026-02"]),
    ([], "2026-03", "2026-02", ["2026-02"]),  # not before the contract
    ([upgrade("2026-02-05T10:00")], "2026-03", "2025-06", []),  # January and February waived
    ([upgrade("2026-02-10T10:00")], "2026-03", "2025-06", ["2026-01"]),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "month", "first", "months"), LATE)
def test_B7_B3_a_usage_invoice_bills_late_usage_of_the_open_months_not_waived(
    changes: list[Change], month: str, first: str, months: list[str]
) -> None:
    found = late_months(LINE, changes, Month.parse(month), Month.parse(first), 8, NY)
    assert [m.key for m in found] == months


# -- B4, C3: proration -------------------------------------------------------------------------

PRORATIONS = [
    # (case, currency, started on, months charged, interval, paid, new, day of the change,
    #  the paid period, days left, days in the period, the charge rounded)
    # stamp-card Monthly €29 per location from 1 January, raised 1 → 3 on 17 January:
    # 2 × €29 × 15/31 = €28.06
    ("C3 1 to 3 locations", "EUR", "2026-01-01", 1, 1, "29", "87", "2026-01-17",
     ("2026-01-01", "2026-02-01"), 15, 31, "28.06"),
    ("C3 on the first day", "EUR", "2026-01-01", 1, 1, "29", "87", "2026-01-01",
     ("2026-01-01", "2026-02-01"), 31, 31, "58.00"),
    ("C3 on the last day", "EUR", "2026-01-01", 1, 1, "29", "87", "2026-01-31",
     ("2026-01-01", "2026-02-01"), 1, 31, "1.87"),
    # Annual €290 per location from 18 January, 2 → 3 on 18 July: 184 of 365 days
    ("C3 annual", "EUR", "2026-01-18", 12, 12, "580", "870", "2026-07-18",
     ("2026-01-18", "2027-01-18"), 184, 365, "146.19"),
    ("C3 leap year", "EUR", "2026-03-01", 24, 12, "290", "580", "2027-09-01",
     ("2027-03-01", "2028-03-01"), 182, 366, "144.21"),
    # B4, seed 003: Loyalty Business $179 → Professional $479 with 23 of 31 days left
    ("B4 seed 003", "USD", "2026-05-12", 1, 1, "179", "479", "2026-05-20",
     ("2026-05-12", "2026-06-12"), 23, 31, "222.58"),
    ("B4 12 March", "USD", "2026-01-02", 3, 1, "179", "479", "2026-03-12",
     ("2026-03-02", "2026-04-02"), 21, 31, "203.23"),
    # started on the 31st: the period [28 February, 31 March) has 31 days
    ("B4 start on the 31st", "USD", "2026-01-31", 2, 1, "179", "479", "2026-03-20",
     ("2026-02-28", "2026-03-31"), 11, 31, "106.45"),
    ("no minor unit", "JPY", "2026-06-01", 1, 1, "1000", "3000", "2026-06-21",
     ("2026-06-01", "2026-07-01"), 10, 30, "667"),
    # a lower price waits for the renewal: never a refund
    ("lower price", "EUR", "2026-01-01", 2, 1, "87", "58", "2026-02-10",
     ("2026-02-01", "2026-03-01"), 19, 28, "0"),
    ("same price", "EUR", "2026-01-01", 2, 1, "29", "29", "2026-02-10",
     ("2026-02-01", "2026-03-01"), 19, 28, "0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "currency", "started", "billed", "months", "paid", "new", "on", "period", "left",
     "days", "rounded"),
    PRORATIONS,
    ids=[row[0] for row in PRORATIONS],
)  # fmt: skip
def test_B4_C3_a_change_pays_the_difference_for_the_days_left(
    case: str,
    currency: str,
    started: str,
    billed: int,
    months: int,
    paid: str,
    new: str,
    on: str,
    period: tuple[str, str],
    left: int,
    days: int,
    rounded: str,
) -> None:
    p = prorate_change(
        d(started),
        billed,
        months,
        paid=Money.of(paid, currency),
        new=Money.of(new, currency),
        on=d(on),
    )
    assert p is not None
    assert (p.period, p.days_left, p.days_in_period) == ((d(period[0]), d(period[1])), left, days)
    exact = max(Fraction(new) - Fraction(paid), Fraction(0)) * left / days
    # exact (to 34 digits) until the invoice rounds it
    assert abs(Fraction(p.charge.amount) - exact) < Fraction(1, 10**25)
    assert p.charge.currency == currency
    assert p.charge_rounded == Money.of(rounded, currency)


@pytest.mark.parametrize(
    ("started", "billed", "on"),
    [
        ("2026-01-17", 0, "2026-01-17"),  # nothing charged yet: nothing to prorate
        ("2026-01-01", 1, "2026-02-01"),  # the next period is due and not charged
    ],
)
def test_B4_C3_no_proration_without_a_paid_period(started: str, billed: int, on: str) -> None:
    found = prorate_change(
        d(started), billed, 1, paid=Money.of(29, "EUR"), new=Money.of(87, "EUR"), on=d(on)
    )
    assert found is None


def test_B4_the_day_of_the_change_counts_and_a_day_outside_the_period_is_refused() -> None:
    assert remaining_share(d("2026-06-01"), d("2026-07-01"), d("2026-06-01")) == (30, 30)
    assert remaining_share(d("2026-06-01"), d("2026-07-01"), d("2026-06-30")) == (1, 30)
    jan = (d("2026-01-01"), d("2026-02-01"))
    with pytest.raises(InvalidInput) as err:
        prorated_difference(
            Money.of(29, "EUR"), Money.of(58, "EUR"), period=jan, on=d("2026-02-01")
        )
    assert err.value.code == "outside_period"


def test_B4_prices_in_two_currencies_are_refused() -> None:
    jan = (d("2026-01-01"), d("2026-02-01"))
    with pytest.raises(InvalidInput) as err:
        prorated_difference(
            Money.of(29, "EUR"), Money.of(58, "USD"), period=jan, on=d("2026-01-05")
        )
    assert err.value.code == "currency_mismatch"
