"""The Reviews gate: order limit, top-up limit, backlog and archive (U5, R1–R5)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.backlog import (
    NO_TOP_UP,
    UNLIMITED,
    Gate,
    MonthCount,
    Outcome,
    TopUpLimit,
    admit,
    check_top_up,
    release,
    room,
    top_up_charge,
    top_up_orders,
    top_up_room,
)
from allot.core.errors import InvalidInput, Refused

PROPERTY = settings(max_examples=300, deadline=None)

PRICE = Decimal("0.14")  # Reviews Business, top-up per order
CAP = TopUpLimit.defined(Decimal("150"))


def business(top_up: TopUpLimit = NO_TOP_UP, *, archive_oldest: bool = False) -> Gate:
    return Gate.of(1500, PRICE, top_up, archive_oldest=archive_oldest)


def orders(n: int) -> list[bool]:
    return [False] * n


def places(outcomes: Sequence[Outcome], outcome: Outcome) -> list[int]:
    """The 1-based places of the orders with `outcome`, as the seed counts them."""
    return [i + 1 for i, o in enumerate(outcomes) if o is outcome]


def span(first: int, last: int) -> list[int]:
    return list(range(first, last + 1))


# --- the seed's figures ---------------------------------------------------------


def test_r1_orders_within_the_limit_are_released() -> None:
    a = admit(business(), MonthCount(), 0, orders(1500))
    assert a.outcomes == (Outcome.WITHIN,) * 1500
    assert a.month == MonthCount(within=1500, topped_up=0)
    assert (a.released, a.requests, a.waiting) == (1500, 1500, 0)
    assert room(business(), a.month) == 0


def test_r2_a_150_dollar_cap_buys_1071_orders_2571_in_all() -> None:
    gate = business(CAP)
    assert top_up_orders(gate) == 1071
    a = admit(gate, MonthCount(), 0, orders(3000))
    assert places(a.outcomes, Outcome.WITHIN) == span(1, 1500)
    assert places(a.outcomes, Outcome.TOP_UP) == span(1501, 2571)
    assert places(a.outcomes, Outcome.WAITING) == span(2572, 3000)
    assert a.released == 2571
    assert a.month == MonthCount(1500, 1071)
    charge = top_up_charge(gate, a.month)
    assert charge == Decimal("149.94")
    assert str(charge) == "149.94"  # exact, not a float, not rounded away
    assert charge <= gate.top_up.cap  # type: ignore[operator]
    assert top_up_room(gate, a.month) == 0


def test_r2_only_what_is_used_is_charged() -> None:
    a = admit(business(CAP), MonthCount(), 0, orders(1600))
    assert a.month == MonthCount(1500, 100)
    assert top_up_charge(business(CAP), a.month) == Decimal("14.00")
    assert top_up_room(business(CAP), a.month) == 971
    assert top_up_charge(business(CAP), MonthCount(1500, 0)) == 0


def test_r2_a_cap_below_one_order_buys_nothing() -> None:
    gate = business(TopUpLimit.defined(Decimal("0.13")))
    assert top_up_orders(gate) == 0
    assert admit(gate, MonthCount(1500), 0, orders(1)).outcomes == (Outcome.WAITING,)


def test_r3_without_a_top_up_orders_1501_to_3000_wait_then_are_archived() -> None:
    a = admit(business(), MonthCount(), 0, orders(3500))
    assert places(a.outcomes, Outcome.WITHIN) == span(1, 1500)
    assert places(a.outcomes, Outcome.WAITING) == span(1501, 3000)
    assert places(a.outcomes, Outcome.ARCHIVED) == span(3001, 3500)
    assert (a.waiting, a.evicted_oldest) == (1500, 0)
    assert a.month == MonthCount(1500, 0)
    assert top_up_charge(business(), a.month) == 0


def test_r3_archive_oldest_makes_room_for_the_newest() -> None:
    gate = business(archive_oldest=True)
    whole = admit(gate, MonthCount(), 0, orders(3500))
    assert places(whole.outcomes, Outcome.WAITING) == span(2001, 3500)
    assert places(whole.outcomes, Outcome.ARCHIVED) == span(1501, 2000)
    assert (whole.waiting, whole.evicted_oldest) == (1500, 0)
    # the same month reported in two runs: the second run archives 500 that were waiting
    first = admit(gate, MonthCount(), 0, orders(3000))
    second = admit(gate, first.month, first.waiting, orders(500))
    assert second.outcomes == (Outcome.WAITING,) * 500
    assert (second.waiting, second.evicted_oldest) == (1500, 500)


def test_r3_the_backlog_limit_is_the_order_limit_unless_told() -> None:
    assert business().backlog_limit == 1500
    small = Gate.of(1500, PRICE, backlog_limit=10)
    a = admit(small, MonthCount(), 0, orders(1520))
    assert (a.waiting, a.count(Outcome.ARCHIVED)) == (10, 10)
    nothing_waits = Gate.of(0, None, backlog_limit=0, archive_oldest=True)
    assert admit(nothing_waits, MonthCount(), 0, orders(3)).outcomes == (Outcome.ARCHIVED,) * 3


def test_u5_exclusions_reduce_requests_not_the_order_count() -> None:
    # the seed's 2,000 orders, 1,000 of them excluded (here every other one)
    excluded = [i % 2 == 1 for i in range(2000)]
    a = admit(business(), MonthCount(), 0, excluded)
    assert len(a.outcomes) == 2000  # every order counted
    assert a.requests == 1000
    assert places(a.outcomes, Outcome.WITHIN) == span(1, 1500)  # excluded ones take places too
    assert a.released == 750  # the requests among orders 1-1500
    assert places(a.outcomes, Outcome.WAITING) == list(range(1501, 2001, 2))
    assert places(a.outcomes, Outcome.COUNTED) == list(range(1502, 2001, 2))
    assert a.waiting == 250
    assert a.month == MonthCount(1500, 0)


def test_u5_excluded_orders_past_the_limit_use_the_top_up() -> None:
    a = admit(business(CAP), MonthCount(1500), 0, [True] * 1071 + [False])
    assert a.outcomes == (Outcome.TOP_UP,) * 1071 + (Outcome.WAITING,)
    assert (a.released, a.requests) == (0, 1)
    assert top_up_charge(business(CAP), a.month) == Decimal("149.94")


def test_r4_next_month_releases_within_the_new_limit() -> None:
    december = admit(business(), MonthCount(), 0, orders(3500))
    january = release(business(), MonthCount(), december.waiting)
    assert (january.within, january.top_up, january.waiting) == (1500, 0, 0)
    assert january.month == MonthCount(1500, 0)  # the backlog counts against January
    # January's own orders then find the month full: they queue
    assert admit(business(), january.month, 0, orders(1)).outcomes == (Outcome.WAITING,)


def test_r4_what_does_not_fit_the_new_month_keeps_waiting() -> None:
    december = admit(business(), MonthCount(), 0, orders(3000))
    premium = Gate.of(500, Decimal("0.16"))  # downgraded for January
    january = release(premium, MonthCount(), december.waiting)
    assert (january.within, january.top_up, january.waiting) == (500, 0, 1000)
    # orders that January already let through before the release ran leave less room
    late = release(business(), MonthCount(1200), december.waiting)
    assert (late.within, late.waiting) == (300, 1200)
    # a downgraded backlog over its limit is not trimmed: new requests are archived
    over = admit(premium, january.month, january.waiting, orders(2))
    assert over.outcomes == (Outcome.ARCHIVED,) * 2
    assert over.waiting == 1000
    oldest = Gate.of(500, Decimal("0.16"), archive_oldest=True)
    trimmed = admit(oldest, january.month, january.waiting, orders(2))
    assert trimmed.outcomes == (Outcome.WAITING,) * 2
    assert (trimmed.waiting, trimmed.evicted_oldest) == (500, 502)


def test_r4_a_cap_raised_mid_month_releases_what_it_buys() -> None:
    month = admit(business(), MonthCount(), 0, orders(3000))
    assert month.waiting == 1500
    raised = release(business(CAP), month.month, month.waiting)  # newest first, caller's order
    assert (raised.within, raised.top_up, raised.waiting) == (0, 1071, 429)
    assert top_up_charge(business(CAP), raised.month) == Decimal("149.94")
    # raised again to $300: 1,071 more, the last 429 go and 642 are left
    double = business(TopUpLimit.defined(Decimal("300")))
    again = release(double, raised.month, raised.waiting)
    assert (again.top_up, again.waiting) == (429, 0)
    assert top_up_room(double, again.month) == 642
    assert top_up_charge(double, again.month) == Decimal("210.00")


def test_r4_an_upgrade_mid_month_releases_within_the_new_limit() -> None:
    month = admit(business(), MonthCount(), 0, orders(3000))
    professional = Gate.of(3500, Decimal("0.13"))
    up = release(professional, month.month, month.waiting)
    assert (up.within, up.top_up, up.waiting) == (1500, 0, 0)
    assert up.month == MonthCount(3000, 0)
    assert room(professional, up.month) == 500


def test_r4_a_lowered_cap_leaves_no_room_but_keeps_what_was_used() -> None:
    used = MonthCount(1500, 1071)
    lower = business(TopUpLimit.defined(Decimal("50")))
    assert top_up_room(lower, used) == 0
    assert release(lower, used, 10).released == 0
    assert top_up_charge(lower, used) == Decimal("149.94")


def test_r2_unlimited_top_up_never_queues() -> None:
    gate = business(UNLIMITED)
    assert top_up_orders(gate) is None
    assert top_up_room(gate, MonthCount(1500, 10**6)) is None
    assert room(gate, MonthCount()) is None
    a = admit(gate, MonthCount(), 0, orders(10_000))
    assert a.count(Outcome.WITHIN) == 1500
    assert a.count(Outcome.TOP_UP) == 8500
    assert a.waiting == 0
    assert top_up_charge(gate, a.month) == Decimal("1190.00")
    # and it releases a whole backlog at once
    assert release(gate, a.month, 1500).top_up == 1500


def test_r2_r3_the_free_plan_queues_then_archives() -> None:
    free = Gate.of(50, Decimal("0.16"))  # the preset's free plan: a price in the catalog, no top-up
    a = admit(free, MonthCount(), 0, orders(120))
    assert places(a.outcomes, Outcome.WITHIN) == span(1, 50)
    assert places(a.outcomes, Outcome.WAITING) == span(51, 100)
    assert places(a.outcomes, Outcome.ARCHIVED) == span(101, 120)
    assert top_up_charge(free, a.month) == 0


# --- refusals --------------------------------------------------------------------


def test_r2_top_ups_are_refused_on_a_free_plan_and_without_a_price() -> None:
    with pytest.raises(Refused) as err:
        check_top_up(CAP, top_up_price=Decimal("0.16"), free_plan=True)
    assert (err.value.code, err.value.field) == ("top_up_not_on_free_plan", "top_up_limit")
    with pytest.raises(Refused) as err:
        check_top_up(UNLIMITED, top_up_price=None)  # Loyalty, Full Suite: overage instead
    assert err.value.code == "top_up_not_offered"
    with pytest.raises(Refused):
        Gate.of(1500, None, CAP)
    assert check_top_up(NO_TOP_UP, top_up_price=None, free_plan=True) == NO_TOP_UP
    assert check_top_up(CAP, top_up_price=PRICE) == CAP
    assert TopUpLimit.defined(Decimal("0.00")) == NO_TOP_UP


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: TopUpLimit.defined(Decimal("-1")), "invalid_top_up_limit"),
        (lambda: TopUpLimit.defined(Decimal("NaN")), "invalid_top_up_limit"),
        (lambda: TopUpLimit.defined(150.0), "invalid_top_up_limit"),  # type: ignore[arg-type]
        (lambda: Gate.of(-1, PRICE), "invalid_limit"),
        (lambda: Gate.of(10, PRICE, backlog_limit=-1), "invalid_backlog_limit"),
        (lambda: Gate.of(10, Decimal(0)), "invalid_top_up_price"),
        (lambda: Gate.of(10, Decimal("Infinity")), "invalid_top_up_price"),
        (lambda: MonthCount(-1), "invalid_within"),
        (lambda: MonthCount(0, -1), "invalid_topped_up"),
        (lambda: admit(business(), MonthCount(), -1, []), "invalid_waiting"),
        (lambda: release(business(), MonthCount(), -1), "invalid_waiting"),
        (lambda: top_up_charge(Gate.of(10, None), MonthCount(10, 1)), "top_up_not_offered"),
    ],
)
def test_invalid_values_are_refused_with_a_code(make: object, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        make()  # type: ignore[operator]
    assert err.value.code == code


# --- properties ------------------------------------------------------------------

PRICES = st.sampled_from([Decimal("0.14"), Decimal("0.16"), Decimal("0.05"), Decimal("1")])
TOP_UPS = st.one_of(
    st.just(NO_TOP_UP),
    st.just(UNLIMITED),
    st.decimals(min_value=0, max_value=3, places=2).map(TopUpLimit.defined),
)


@st.composite
def gates(draw: st.DrawFn) -> Gate:
    return Gate(
        limit=draw(st.integers(0, 12)),
        top_up_price=draw(PRICES),
        top_up=draw(TOP_UPS),
        backlog_limit=draw(st.integers(0, 12)),
        archive_oldest=draw(st.booleans()),
    )


@st.composite
def starts(draw: st.DrawFn, gate: Gate) -> tuple[MonthCount, int]:
    """A reachable state: within ≤ limit, spend ≤ cap, waiting ≤ backlog_limit."""
    bought = top_up_orders(gate)
    month = MonthCount(
        draw(st.integers(0, gate.limit)), draw(st.integers(0, 20 if bought is None else bought))
    )
    return month, draw(st.integers(0, gate.backlog_limit))


Fates = dict[tuple[str, int], Outcome]


def run(
    gate: Gate, month: MonthCount, waiting: int, chunks: Sequence[Sequence[bool]]
) -> tuple[Fates, MonthCount, int]:
    """Admit `chunks` in turn; follow every request through a modelled backlog queue.

    Returns each order's final fate (a WAITING request archived by a later call
    ends ARCHIVED), keyed ("order", n), and the requests that were waiting before
    the first call, keyed ("before", n); then the month and the number waiting.
    """
    queue: deque[tuple[str, int]] = deque(("before", i) for i in range(waiting))
    fates: Fates = dict.fromkeys(queue, Outcome.WAITING)
    n = 0
    for chunk in chunks:
        a = admit(gate, month, waiting, chunk)
        assert len(a.outcomes) == len(chunk)
        assert 0 <= a.evicted_oldest <= waiting
        for _ in range(a.evicted_oldest):
            fates[queue.popleft()] = Outcome.ARCHIVED
        for outcome in a.outcomes:
            fates["order", n] = outcome
            if outcome is Outcome.WAITING:
                queue.append(("order", n))
            n += 1
        assert len(queue) == a.waiting
        month, waiting = a.month, a.waiting
    return fates, month, waiting


@PROPERTY
@given(st.data())
def test_r1_r3_one_call_equals_any_split_into_consecutive_calls(data: st.DataObject) -> None:
    gate = data.draw(gates())
    month, waiting = data.draw(starts(gate))
    excluded = data.draw(st.lists(st.booleans(), max_size=60))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(excluded)), max_size=6)))
    bounds = [0, *cuts, len(excluded)]
    chunks = [excluded[a:b] for a, b in pairwise(bounds)]
    assert run(gate, month, waiting, [excluded]) == run(gate, month, waiting, chunks)


@PROPERTY
@given(st.data())
def test_r1_r5_limits_hold_and_every_request_is_accounted_for(data: st.DataObject) -> None:
    gate = data.draw(gates())
    start, waiting = data.draw(starts(gate))
    excluded = data.draw(st.lists(st.booleans(), max_size=60))
    a = admit(gate, start, waiting, excluded)
    # every order gets exactly one outcome; an excluded one never waits nor is archived
    assert len(a.outcomes) == len(excluded)
    for skip, outcome in zip(excluded, a.outcomes, strict=True):
        past = {Outcome.COUNTED} if skip else {Outcome.WAITING, Outcome.ARCHIVED}
        assert outcome in {Outcome.WITHIN, Outcome.TOP_UP, *past}
    # the month's count moves by what went through; limits hold
    assert a.month.within - start.within == a.count(Outcome.WITHIN)
    assert a.month.topped_up - start.topped_up == a.count(Outcome.TOP_UP)
    assert a.month.within <= gate.limit
    if gate.top_up.cap is not None:
        assert top_up_charge(gate, a.month) <= gate.top_up.cap
    assert a.waiting <= gate.backlog_limit
    # orders take places in turn: nothing passes the gate after one that did not
    let_through = [o.released for o in a.outcomes]
    assert let_through == sorted(let_through, reverse=True)
    # released + waiting + archived = requests (those waiting before included)
    archived = a.count(Outcome.ARCHIVED) + a.evicted_oldest
    assert a.requests == excluded.count(False)
    assert a.released == sum(
        o.released for skip, o in zip(excluded, a.outcomes, strict=True) if not skip
    )
    assert a.released + a.waiting + archived == a.requests + waiting
    # the next month (or a raised cap) releases what it has room for, no more
    nxt = data.draw(gates())
    fresh = data.draw(starts(nxt))[0]
    r = release(nxt, fresh, a.waiting)
    assert r.released + r.waiting == a.waiting
    assert r.month == MonthCount(fresh.within + r.within, fresh.topped_up + r.top_up)
    assert r.month.within <= nxt.limit
    if nxt.top_up.cap is not None:
        assert top_up_charge(nxt, r.month) <= nxt.top_up.cap
    space = room(nxt, fresh)
    assert r.released == (a.waiting if space is None else min(a.waiting, space))
