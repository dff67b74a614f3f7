"""Billing periods on the contract date (B1) and proration days (B4)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.errors import InvalidInput
from allot.core.periods import (
    billing_period,
    local_midnight,
    period_index,
    remaining_share,
    zone,
)

ZONES = [
    "UTC",
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Pago_Pago",  # UTC-11
    "Europe/Kyiv",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Kathmandu",  # +05:45
]


def test_b1_start_on_the_21st_is_billed_every_21st() -> None:
    starts = [billing_period(date(2026, 5, 21), n)[0] for n in range(14)]
    assert {d.day for d in starts} == {21}
    assert starts[-1] == date(2027, 6, 21)  # the 14th charge


def test_b1_start_on_31_january_bills_end_of_shorter_months() -> None:
    starts = [billing_period(date(2028, 1, 31), n)[0] for n in range(5)]
    assert starts == [
        date(2028, 1, 31),
        date(2028, 2, 29),  # leap year
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
    ]
    assert billing_period(date(2027, 1, 31), 1)[0] == date(2027, 2, 28)


def test_b1_annual_on_the_anniversary() -> None:
    assert billing_period(date(2026, 1, 18), 0, months=12) == (date(2026, 1, 18), date(2027, 1, 18))
    assert billing_period(date(2028, 2, 29), 1, months=12) == (date(2029, 2, 28), date(2030, 2, 28))
    assert billing_period(date(2028, 2, 29), 4, months=12)[0] == date(2032, 2, 29)


def test_period_index_finds_the_period_of_a_day() -> None:
    anchor = date(2026, 1, 31)
    assert period_index(anchor, date(2026, 1, 31)) == 0
    assert period_index(anchor, date(2026, 2, 27)) == 0
    assert period_index(anchor, date(2026, 2, 28)) == 1
    assert period_index(anchor, date(2026, 3, 30)) == 1
    assert period_index(anchor, date(2026, 3, 31)) == 2
    with pytest.raises(InvalidInput) as err:
        period_index(anchor, date(2026, 1, 1))
    assert err.value.field == "day"


def test_b4_remaining_share_counts_the_day_of_change() -> None:
    assert remaining_share(date(2026, 6, 1), date(2026, 7, 1), date(2026, 6, 1)) == (30, 30)
    assert remaining_share(date(2026, 6, 1), date(2026, 7, 1), date(2026, 6, 30)) == (1, 30)
    with pytest.raises(InvalidInput):
        remaining_share(date(2026, 6, 1), date(2026, 7, 1), date(2026, 7, 1))


@settings(max_examples=400, deadline=None)
@given(
    day=st.integers(1, 31),
    month=st.integers(1, 12),
    year=st.integers(2024, 2032),
    tz=st.sampled_from(ZONES),
    months=st.sampled_from([1, 12]),
)
def test_b1_periods_tile_without_gap_or_overlap(
    day: int, month: int, year: int, tz: str, months: int
) -> None:
    """Anchor days 1-31 x 2024-2032 x seven zones: consecutive, non-empty, on the right day."""
    anchor = date(year, month, min(day, calendar.monthrange(year, month)[1]))
    zi = zone(tz)
    count = 30 if months == 1 else 6
    periods = [billing_period(anchor, n, months=months) for n in range(count)]
    assert periods[0][0] == anchor
    for (_, end), (start, _) in pairwise(periods):
        assert end == start  # no gap, no overlap, as dates ...
        assert local_midnight(end, zi) == local_midnight(start, zi)  # ... and as instants
    for start, end in periods:
        assert local_midnight(start, zi) < local_midnight(end, zi)
        lo, hi = (28, 31) if months == 1 else (365, 366)
        assert lo <= (end - start).days <= hi
        assert start.day == anchor.day or (
            start.day < anchor.day and ((start + timedelta(days=1)).day == 1)
        )
        # every day of a period maps back to it
        for probe in (start, end - timedelta(days=1)):
            n = period_index(anchor, probe, months=months)
            assert billing_period(anchor, n, months=months) == (start, end)
