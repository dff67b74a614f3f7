"""Calendar months in the account's time zone (U5), seat-days (U6), the engine's years (U8)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.calendar import anniversary
from allot.core.errors import InvalidInput
from allot.core.periods import (
    ENGINE_YEARS,
    Month,
    days_touched,
    in_range,
    local_midnight,
    month_of,
    require_utc,
    zone,
)

PROPERTY = settings(max_examples=200, deadline=None)

KYIV = ZoneInfo("Europe/Kyiv")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11
UTC_ZONE = ZoneInfo("UTC")

# Zones with DST, half-hour DST (Lord Howe), 45-minute offsets, both ends of the
# date line, and one whose DST began at local midnight on the 1st (Asuncion, 2023-10).
ZONES = [
    "UTC",
    "Europe/Kyiv",
    "Europe/Berlin",
    "America/New_York",
    "America/Asuncion",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]

months = st.builds(Month, st.integers(2012, 2040), st.integers(1, 12))


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """A local wall-clock time in `tz`, as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


# -- require_utc and zones ----------------------------------------------------------------


def test_require_utc_refuses_naive_datetimes_and_names_the_field() -> None:
    naive = datetime(2026, 1, 31, 23, 30)  # noqa: DTZ001 - deliberately naive
    with pytest.raises(InvalidInput) as excinfo:
        require_utc(naive, field="placed_at")
    assert (excinfo.value.code, excinfo.value.field) == ("naive_datetime", "placed_at")


def test_require_utc_default_field_is_occurred_at() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        require_utc(datetime(2026, 1, 1))  # noqa: DTZ001 - deliberately naive
    assert excinfo.value.field == "occurred_at"


class _NoOffset(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_require_utc_refuses_a_tzinfo_without_an_offset() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        require_utc(datetime(2026, 1, 1, tzinfo=_NoOffset()))
    assert excinfo.value.code == "naive_datetime"


def test_require_utc_converts_an_offset_to_utc() -> None:
    kyiv_time = datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=2)))
    instant = require_utc(kyiv_time)
    assert instant == datetime(2026, 1, 31, 21, 30, tzinfo=UTC)
    assert instant.tzinfo is UTC


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd", "Europe/Kiev/"])
def test_A1_unknown_time_zone_is_refused_and_names_the_field(name: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        zone(name)
    assert (excinfo.value.code, excinfo.value.field) == ("unknown_time_zone", "timezone")


def test_A1_zone_returns_the_iana_zone() -> None:
    assert zone("Europe/Kyiv") == KYIV


# -- Month --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "following"),
    [
        (Month(2025, 12), Month(2026, 1)),
        (Month(2026, 1), Month(2026, 2)),
        (Month(2026, 11), Month(2026, 12)),
        (Month(1999, 12), Month(2000, 1)),
    ],
)
def test_month_next_and_previous_cross_years(month: Month, following: Month) -> None:
    assert month.next() == following
    assert following.previous() == month


@given(month=st.builds(Month, st.integers(1, 9998), st.integers(1, 12)))
@settings(max_examples=300, deadline=None)
def test_month_next_and_previous_are_inverse_and_ordered(month: Month) -> None:
    assert month.next().previous() == month
    assert month.previous().next() == month
    assert month.previous() < month < month.next()


@pytest.mark.parametrize(
    ("month", "days"),
    [
        (Month(2024, 2), 29),
        (Month(2026, 2), 28),
        (Month(2000, 2), 29),
        (Month(2100, 2), 28),
        (Month(2026, 4), 30),
        (Month(2026, 1), 31),
    ],
)
def test_month_days(month: Month, days: int) -> None:
    assert month.days == days


def test_month_key_and_parse_round_trip() -> None:
    assert Month(2026, 2).key == "2026-02"
    assert str(Month(2026, 2)) == "2026-02"
    assert Month.parse("2026-02") == Month(2026, 2)
    assert Month.parse(Month(987, 11).key) == Month(987, 11)


@pytest.mark.parametrize("text", ["2026/02", "2026", "2026-02-01", "feb", "2026-13", "2026-00"])
def test_month_parse_refuses_what_is_not_yyyy_mm(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Month.parse(text)
    assert (excinfo.value.code, excinfo.value.field) == ("invalid_month", "month")


@pytest.mark.parametrize("number", [0, 13, -1])
def test_month_refuses_a_month_number_outside_1_to_12(number: int) -> None:
    with pytest.raises(InvalidInput):
        Month(2026, number)


def test_month_first_day() -> None:
    assert Month(2026, 3).first_day() == date(2026, 3, 1)


# -- month_of: calendar month in the account's time zone (U5) -----------------------------


def test_U5_kyiv_order_at_2330_on_31_january_counts_in_january() -> None:
    placed = local(KYIV, 2026, 1, 31, 23, 30)
    assert placed == datetime(2026, 1, 31, 21, 30, tzinfo=UTC)
    assert month_of(placed, KYIV) == Month(2026, 1)


def test_U5_kyiv_0030_on_1_february_is_february_though_utc_says_january() -> None:
    placed = local(KYIV, 2026, 2, 1, 0, 30)
    assert placed == datetime(2026, 1, 31, 22, 30, tzinfo=UTC)
    assert month_of(placed, UTC_ZONE) == Month(2026, 1)
    assert month_of(placed, KYIV) == Month(2026, 2)


def test_U5_new_york_2330_on_31_january_is_january_though_utc_says_february() -> None:
    placed = local(NEW_YORK, 2026, 1, 31, 23, 30)
    assert placed == datetime(2026, 2, 1, 4, 30, tzinfo=UTC)
    assert month_of(placed, UTC_ZONE) == Month(2026, 2)
    assert month_of(placed, NEW_YORK) == Month(2026, 1)


def test_U5_the_month_depends_on_when_the_order_was_placed_not_how_it_is_written() -> None:
    placed = datetime(2026, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert month_of(placed, KYIV) == Month(2026, 2)
    assert month_of(placed, NEW_YORK) == Month(2026, 1)


@pytest.mark.parametrize(
    ("instant", "tz", "month"),
    [
        # Kiritimati is UTC+14: February begins at 10:00 UTC on 31 January.
        (datetime(2026, 1, 31, 9, 59, 59, tzinfo=UTC), KIRITIMATI, Month(2026, 1)),
        (datetime(2026, 1, 31, 10, 0, tzinfo=UTC), KIRITIMATI, Month(2026, 2)),
        # ... and the new year begins at 10:00 UTC on 31 December.
        (datetime(2025, 12, 31, 10, 0, tzinfo=UTC), KIRITIMATI, Month(2026, 1)),
        # Pago Pago is UTC-11: February begins at 11:00 UTC on 1 February.
        (datetime(2026, 2, 1, 10, 59, 59, tzinfo=UTC), PAGO_PAGO, Month(2026, 1)),
        (datetime(2026, 2, 1, 11, 0, tzinfo=UTC), PAGO_PAGO, Month(2026, 2)),
        (datetime(2027, 1, 1, 10, 59, tzinfo=UTC), PAGO_PAGO, Month(2026, 12)),
    ],
)
def test_U5_months_at_both_ends_of_the_date_line(
    instant: datetime, tz: ZoneInfo, month: Month
) -> None:
    assert month_of(instant, tz) == month


def test_U5_month_of_refuses_a_naive_datetime() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        month_of(datetime(2026, 1, 31, 23, 30), KYIV)  # noqa: DTZ001 - deliberately naive
    assert excinfo.value.field == "occurred_at"


# -- Month.start / end: half-open [start, end) in UTC -------------------------------------


@pytest.mark.parametrize(
    ("month", "tz", "start"),
    [
        (Month(2026, 2), KYIV, datetime(2026, 1, 31, 22, 0, tzinfo=UTC)),
        (Month(2026, 2), NEW_YORK, datetime(2026, 2, 1, 5, 0, tzinfo=UTC)),
        (Month(2026, 2), KIRITIMATI, datetime(2026, 1, 31, 10, 0, tzinfo=UTC)),
        (Month(2026, 2), PAGO_PAGO, datetime(2026, 2, 1, 11, 0, tzinfo=UTC)),
        (Month(2026, 7), KYIV, datetime(2026, 6, 30, 21, 0, tzinfo=UTC)),
    ],
)
def test_U5_month_start_is_local_midnight_on_the_first(
    month: Month, tz: ZoneInfo, start: datetime
) -> None:
    assert month.start(tz) == start
    assert month.start(tz).tzinfo is UTC
    assert local_midnight(month.first_day(), tz) == start


@pytest.mark.parametrize(
    ("name", "month", "hours"),
    [
        ("Europe/Berlin", Month(2026, 1), 744),
        ("Europe/Berlin", Month(2026, 3), 743),  # clocks go forward on 29 March
        ("Europe/Berlin", Month(2026, 10), 745),  # and back on 25 October
        ("America/New_York", Month(2026, 3), 743),
        ("America/New_York", Month(2026, 11), 721),  # DST ends on 1 November itself
        ("Australia/Lord_Howe", Month(2026, 4), 720.5),  # half-hour DST
        ("America/Asuncion", Month(2023, 9), 720),
        ("America/Asuncion", Month(2023, 10), 743),  # local midnight on 1 Oct did not exist
        ("Pacific/Apia", Month(2011, 12), 720),  # Samoa skipped 30 December 2011
        ("UTC", Month(2024, 2), 696),
    ],
)
def test_U5_month_length_in_hours_follows_the_zone(name: str, month: Month, hours: float) -> None:
    tz = ZoneInfo(name)
    assert month.end(tz) - month.start(tz) == timedelta(hours=hours)


def test_U5_month_that_begins_in_a_dst_gap_starts_at_the_first_real_instant() -> None:
    asuncion = ZoneInfo("America/Asuncion")
    october = Month(2023, 10)
    start = october.start(asuncion)
    assert start == datetime(2023, 10, 1, 4, 0, tzinfo=UTC)  # 01:00 local, -03
    assert month_of(start, asuncion) == october
    assert month_of(start - timedelta(microseconds=1), asuncion) == Month(2023, 9)


@given(month=months, name=st.sampled_from(ZONES), data=st.data())
@PROPERTY
def test_U5_months_tile_time_with_no_gap_or_overlap(
    month: Month, name: str, data: st.DataObject
) -> None:
    tz = ZoneInfo(name)
    start, end = month.start(tz), month.end(tz)
    assert end == month.next().start(tz)
    assert month.previous().end(tz) == start
    assert abs((end - start) - timedelta(days=month.days)) <= timedelta(hours=1)
    span = (end - start) // timedelta(microseconds=1)
    offset = data.draw(st.integers(0, span - 1) | st.sampled_from([0, span - 1]))
    assert month_of(start + timedelta(microseconds=offset), tz) == month
    assert month_of(start - timedelta(microseconds=1), tz) == month.previous()
    assert month_of(end, tz) == month.next()


# -- days_touched: seat-days (U6) ---------------------------------------------------------


MARCH = Month(2026, 3)


@pytest.mark.parametrize(
    ("taken", "released", "month", "days"),
    [
        # the docstring's seat: 17:00 on the 3rd to 09:00 on the 5th -> 3rd, 4th, 5th
        (local(KYIV, 2026, 3, 3, 17), local(KYIV, 2026, 3, 5, 9), MARCH, 3),
        # released exactly at local midnight: the 5th is not touched
        (local(KYIV, 2026, 3, 3, 17), local(KYIV, 2026, 3, 5), MARCH, 2),
        # released one microsecond after local midnight: it is
        (
            local(KYIV, 2026, 3, 3, 17),
            local(KYIV, 2026, 3, 5) + timedelta(microseconds=1),
            MARCH,
            3,
        ),
        # still held: counted to the end of the month
        (local(KYIV, 2026, 3, 10, 8), None, MARCH, 22),
        # taken before the month, still held: the whole month
        (local(KYIV, 2026, 1, 15), None, MARCH, 31),
        # taken and released within the same hour
        (local(KYIV, 2026, 3, 3, 10), local(KYIV, 2026, 3, 3, 10, 40), MARCH, 1),
        # taken and released at the same instant: never held
        (local(KYIV, 2026, 3, 3, 10), local(KYIV, 2026, 3, 3, 10), MARCH, 0),
        # held over the month boundary: counted in each month for its own days
        (local(KYIV, 2026, 1, 30, 12), local(KYIV, 2026, 2, 2, 9), Month(2026, 1), 2),
        (local(KYIV, 2026, 1, 30, 12), local(KYIV, 2026, 2, 2, 9), Month(2026, 2), 2),
        # released at the local midnight that ends the month: nothing in April
        (local(KYIV, 2026, 3, 30, 10), local(KYIV, 2026, 4, 1), MARCH, 2),
        (local(KYIV, 2026, 3, 30, 10), local(KYIV, 2026, 4, 1), Month(2026, 4), 0),
        # taken at the local midnight that starts the month: the 1st counts
        (local(KYIV, 2026, 3, 1), local(KYIV, 2026, 3, 1, 0, 1), MARCH, 1),
        # outside the month altogether
        (local(KYIV, 2026, 4, 2), None, MARCH, 0),
        (local(KYIV, 2026, 1, 2), local(KYIV, 2026, 2, 2), MARCH, 0),
        # held across the DST change (29 March): days, not hours
        (local(KYIV, 2026, 3, 28, 12), local(KYIV, 2026, 3, 30, 12), MARCH, 3),
    ],
)
def test_U6_days_touched_counts_local_calendar_days_held(
    taken: datetime, released: datetime | None, month: Month, days: int
) -> None:
    assert days_touched(taken, released, month, KYIV) == days


def test_U6_days_touched_uses_the_accounts_zone_not_utc() -> None:
    # 23:00 UTC on 31 March to 01:00 UTC on 1 April is 02:00-04:00 on 1 April in Kyiv.
    taken = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    released = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    assert days_touched(taken, released, MARCH, UTC_ZONE) == 1
    assert days_touched(taken, released, Month(2026, 4), UTC_ZONE) == 1
    assert days_touched(taken, released, MARCH, KYIV) == 0
    assert days_touched(taken, released, Month(2026, 4), KYIV) == 1


@pytest.mark.parametrize(("naive_end", "field"), [(False, "start"), (True, "end")])
def test_U6_days_touched_refuses_naive_datetimes_and_names_the_field(
    naive_end: bool, field: str
) -> None:
    aware = datetime(2026, 3, 3, tzinfo=UTC)
    naive = datetime(2026, 3, 5)  # noqa: DTZ001 - deliberately naive
    start, end = (aware, naive) if naive_end else (naive, aware)
    with pytest.raises(InvalidInput) as excinfo:
        days_touched(start, end, MARCH, KYIV)
    assert (excinfo.value.code, excinfo.value.field) == ("naive_datetime", field)


@given(
    name=st.sampled_from(ZONES),
    start_minutes=st.integers(0, 3 * 366 * 24 * 60),
    held_minutes=st.integers(1, 120 * 24 * 60),
)
@PROPERTY
def test_U6_seat_days_over_all_months_add_up_to_the_local_days_held(
    name: str, start_minutes: int, held_minutes: int
) -> None:
    tz = ZoneInfo(name)
    taken = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=start_minutes)
    released = taken + timedelta(minutes=held_minutes)
    first = month_of(taken, tz)
    last = month_of(released - timedelta(microseconds=1), tz)
    total, month = 0, first.previous()
    while month <= last.next():
        days = days_touched(taken, released, month, tz)
        assert 0 <= days <= month.days
        if month < first or month > last:
            assert days == 0
        total += days
        month = month.next()
    first_day = taken.astimezone(tz).date()
    last_day = (released - timedelta(microseconds=1)).astimezone(tz).date()
    assert total == (last_day - first_day).days + 1


# -- U8: the range of dates the engine computes with ------------------------------------------

PLUS_14 = timezone(timedelta(hours=14))
MINUS_5 = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        (date(1999, 12, 31), False),
        (date(2000, 1, 1), True),
        (date(2099, 12, 31), True),
        (date(2100, 1, 1), False),
        (date(1, 1, 1), False),
        (date(9999, 12, 31), False),
        (Month(1999, 12), False),
        (Month(2000, 1), True),
        (Month(2099, 12), True),
        (Month(2100, 1), False),
        (Month(1, 1), False),
        (Month(9999, 12), False),
        (datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), False),
        (datetime(2000, 1, 1, tzinfo=UTC), True),
        (datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), True),
        (datetime(2100, 1, 1, tzinfo=UTC), False),
        # an instant counts by its UTC year, whatever its offset says
        (datetime(2000, 1, 1, 13, tzinfo=PLUS_14), False),  # 1999-12-31T23:00Z
        (datetime(2100, 1, 1, 13, tzinfo=PLUS_14), True),  # 2099-12-31T23:00Z
        (datetime(1999, 12, 31, 20, tzinfo=MINUS_5), True),  # 2000-01-01T01:00Z
        (datetime(2099, 12, 31, 20, tzinfo=MINUS_5), False),  # 2100-01-01T01:00Z
        # too near datetime's limits to be seen in UTC at all
        (datetime(1, 1, 1, tzinfo=UTC), False),
        (datetime(1, 1, 1, tzinfo=PLUS_14), False),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), False),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_5), False),
        (datetime(2050, 6, 1), True),  # a naive one by its own year  # noqa: DTZ001
        (datetime(2100, 6, 1), False),  # noqa: DTZ001
    ],
)
def test_U8_the_engine_computes_with_the_years_2000_to_2099(
    value: Any,
    inside: bool,  # a date, a datetime or a Month: in_range takes each
) -> None:
    if inside:
        assert in_range(value, field="at") is value
        return
    with pytest.raises(InvalidInput) as excinfo:
        in_range(value, field="at")
    assert (excinfo.value.code, excinfo.value.field) == ("date_out_of_range", "at")
    assert "2000-2099" in excinfo.value.message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("0001-01", "date_out_of_range"),
        ("9999-12", "date_out_of_range"),
        ("1999-12", "date_out_of_range"),
        ("2100-01", "date_out_of_range"),
        ("0000-00", "invalid_month"),
        ("2026-13", "invalid_month"),
        ("feb", "invalid_month"),
    ],
)
def test_U8_a_month_from_a_caller_lies_in_the_engine_years(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Month.from_input(text, field="period")
    assert (excinfo.value.code, excinfo.value.field) == (code, "period")


def test_U8_the_first_and_last_months_of_the_range_are_accepted() -> None:
    assert (ENGINE_YEARS[0], ENGINE_YEARS[-1]) == (2000, 2099)
    assert Month.from_input("2000-01") == Month(2000, 1)
    assert Month.from_input("2099-12") == Month(2099, 12)
    # a stored key is read back whatever its year: derived months pass the ends by one
    assert Month.parse("2100-01") == Month(2100, 1)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2099, 12, 31, 23, 59, 59),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.sampled_from(ZONES),
)
@PROPERTY
def test_U8_every_instant_in_range_has_a_month_with_a_start_an_end_and_neighbours(
    instant: datetime, name: str
) -> None:
    tz = ZoneInfo(name)
    month = month_of(in_range(instant, field="at"), tz)
    assert month.start(tz) <= instant < month.end(tz)
    assert month.previous().start(tz) < month.start(tz) < month.next().end(tz)
    assert anniversary(month.first_day(), 12) == date(month.year + 1, month.month, 1)
