"""The Reviews gate (R1–R5): which review requests go now, which wait, which are archived.

Past the plan's order limit a Reviews account does not pay overage: it buys
orders with its *top-up limit* (a money cap for the month, or Unlimited), and
past that its review requests wait in a *backlog* until the month has room
again. Every order placed in a month takes the next place in that month's
count, whether or not the store excludes it from reviews (U5: exclusions reduce
requests, not orders), so an order's fate depends only on its place:

    places 1 .. limit             WITHIN    its request is released (R1)
    the next floor(cap / price)   TOP_UP    released, charged the top-up price (R2)
    past both                     WAITING   its request joins the backlog, if it has room (R3)
                                  ARCHIVED  the backlog is full: never sent (R3)
                                  COUNTED   an excluded order: counted, it has no request

A cap buys floor(cap / top-up price) orders, so the month's top-up spend never
passes it: the seed's $150 at $0.14 buys 1,071 orders (1,071 × 0.14 =
$149.94), 2,571 in all on Business. The backlog holds `backlog_limit` requests
(the plan's order limit by default: Business queues orders 1,501–3,000 and
archives from 3,001). By default the newest request is the one archived; with
`archive_oldest` the oldest waiting request makes room for it instead.

When a month has room again (a new month, a raised cap, an upgrade), `release`
says how many waiting requests go, within the limit first, then paid by the
top-up; they take their places in that month's count. *Which* ones go is the
caller's choice (R4: oldest first at a month's start, newest first after a
top-up or an upgrade). Release before admitting new orders, or new orders would
take the room ahead of the backlog.

The database keeps the counters (`MonthCount`, the number waiting) and the ids;
this module only counts, so the same calls serve one order or a batch of them,
and admitting a batch in one call or in pieces gives the same fates (a request
that a later call pushes out of the backlog is in that call's `evicted_oldest`).

    >>> business = Gate.of(1500, Decimal("0.14"), TopUpLimit.defined(Decimal("150")))
    >>> top_up_orders(business)
    1071
    >>> december = admit(business, MonthCount(), 0, [False] * 3000)
    >>> [december.count(o) for o in (Outcome.WITHIN, Outcome.TOP_UP, Outcome.WAITING)]
    [1500, 1071, 429]
    >>> top_up_charge(business, december.month)
    Decimal('149.94')
    >>> january = release(business, MonthCount(), december.waiting)  # oldest first
    >>> january.within, january.top_up, january.waiting
    (429, 0, 0)

Without a top-up the same December queues orders 1,501–3,000 and archives the rest:

    >>> no_top_up = Gate.of(1500, Decimal("0.14"))
    >>> d = admit(no_top_up, MonthCount(), 0, [False] * 3200)
    >>> [d.outcomes[place - 1].value for place in (1500, 1501, 3000, 3001)]
    ['within', 'waiting', 'waiting', 'archived']
    >>> d.waiting, d.count(Outcome.ARCHIVED)
    (1500, 200)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from allot.core.errors import InvalidInput, Refused

__all__ = [
    "NO_TOP_UP",
    "UNLIMITED",
    "Admission",
    "Gate",
    "MonthCount",
    "Outcome",
    "Release",
    "TopUpLimit",
    "admit",
    "check_top_up",
    "release",
    "room",
    "top_up_charge",
    "top_up_orders",
    "top_up_room",
]


class Outcome(StrEnum):
    """The fate of one order at the gate (R5: what the platform is told)."""

    WITHIN = "within"  # within the plan's order limit; its request (if any) is released
    TOP_UP = "top_up"  # past the limit, paid by the top-up; its request (if any) is released
    WAITING = "waiting"  # past limit and top-up: its request waits in the backlog
    ARCHIVED = "archived"  # past limit and top-up, the backlog full: never sent
    COUNTED = "counted"  # an excluded order past limit and top-up: counted, no request

    @property
    def released(self) -> bool:
        """The order's request, if it has one, is sent now."""
        return self in (Outcome.WITHIN, Outcome.TOP_UP)


def _check_count(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"invalid_{field}", f"{field} must be an integer >= 0", field=field)
    return value


@dataclass(frozen=True, slots=True)
class TopUpLimit:
    """The merchant's top-up limit for a month (R2): a money cap, or None for Unlimited."""

    cap: Decimal | None

    def __post_init__(self) -> None:
        if self.cap is None:
            return
        if not isinstance(self.cap, Decimal) or not self.cap.is_finite() or self.cap < 0:
            raise InvalidInput(
                "invalid_top_up_limit",
                "a top-up limit is a finite Decimal amount >= 0, or Unlimited",
                field="top_up_limit",
            )

    @classmethod
    def defined(cls, cap: Decimal) -> TopUpLimit:
        return cls(cap)

    @property
    def unlimited(self) -> bool:
        return self.cap is None

    @property
    def buys_nothing(self) -> bool:
        return self.cap is not None and self.cap == 0


NO_TOP_UP = TopUpLimit(Decimal(0))  # a free plan, or a merchant who set none
UNLIMITED = TopUpLimit(None)


def check_top_up(
    top_up: TopUpLimit, *, top_up_price: Decimal | None, free_plan: bool = False
) -> TopUpLimit:
    """Refuse a top-up limit the plan does not sell (R2); return it otherwise.

    No top-up (a zero cap) is always accepted. Free plans sell none, and neither
    does a plan without a top-up price (Loyalty, Full Suite: they bill overage).

        >>> try:
        ...     check_top_up(UNLIMITED, top_up_price=Decimal("0.16"), free_plan=True)
        ... except Refused as err:
        ...     print(err.code)
        top_up_not_on_free_plan
    """
    if top_up.buys_nothing:
        return top_up
    if free_plan:
        raise Refused(
            "top_up_not_on_free_plan",
            "top-ups are not available on a free plan; upgrade to a paid plan",
            field="top_up_limit",
        )
    if top_up_price is None:
        raise Refused(
            "top_up_not_offered",
            "this plan has no top-up price: it sells no top-up",
            field="top_up_limit",
        )
    return top_up


@dataclass(frozen=True, slots=True)
class Gate:
    """A Reviews plan's terms for a month, as the gate applies them.

    `top_up_price` may be set while `top_up` buys nothing (the free Reviews plan
    has a price in the catalog but sells no top-up: the caller passes NO_TOP_UP).
    """

    limit: int  # the plan's order limit for the month (R1)
    top_up_price: Decimal | None  # per order bought past the limit (R2)
    top_up: TopUpLimit  # the merchant's cap for the month
    backlog_limit: int  # requests the backlog holds (R3; the order limit by default)
    archive_oldest: bool = False  # R3 CHOICE: archive the oldest waiting instead of the newest

    def __post_init__(self) -> None:
        _check_count(self.limit, "limit")
        _check_count(self.backlog_limit, "backlog_limit")
        price = self.top_up_price
        if price is not None and (
            not isinstance(price, Decimal) or not price.is_finite() or price <= 0
        ):
            raise InvalidInput(
                "invalid_top_up_price",
                "a top-up price is a finite Decimal amount > 0",
                field="top_up_price",
            )
        check_top_up(self.top_up, top_up_price=price)

    @classmethod
    def of(
        cls,
        limit: int,
        top_up_price: Decimal | None = None,
        top_up: TopUpLimit = NO_TOP_UP,
        *,
        backlog_limit: int | None = None,
        archive_oldest: bool = False,
    ) -> Gate:
        """A gate whose backlog holds as many requests as the order limit, unless told."""
        return cls(
            limit,
            top_up_price,
            top_up,
            limit if backlog_limit is None else backlog_limit,
            archive_oldest,
        )


@dataclass(frozen=True, slots=True)
class MonthCount:
    """What a month has let through so far: places used within the limit and by the top-up.

    Released backlog requests take places too; orders past both are not in it.
    """

    within: int = 0
    topped_up: int = 0

    def __post_init__(self) -> None:
        _check_count(self.within, "within")
        _check_count(self.topped_up, "topped_up")


def top_up_orders(gate: Gate) -> int | None:
    """How many orders the month's cap buys in all: floor(cap / price); None if unlimited.

    $150 at $0.14 buys 1,071 orders ($149.94); $0.13 at $0.14 buys none.
    """
    if gate.top_up.cap is None:
        return None
    if gate.top_up_price is None:
        return 0
    return math.floor(Fraction(gate.top_up.cap) / Fraction(gate.top_up_price))


def top_up_room(gate: Gate, month: MonthCount) -> int | None:
    """Further orders the top-up can still buy this month (None: unlimited).

    A cap lowered below what the month already used leaves no room; what was
    used stays used (and charged).
    """
    bought = top_up_orders(gate)
    return None if bought is None else max(0, bought - month.topped_up)


def room(gate: Gate, month: MonthCount) -> int | None:
    """Places the month still has: left within the limit plus top-up room (None: unlimited)."""
    top = top_up_room(gate, month)
    return None if top is None else max(0, gate.limit - month.within) + top


def top_up_charge(gate: Gate, month: MonthCount) -> Decimal:
    """The month's top-up charge, exact: topped_up × price (rounded on the invoice, B5).

    >>> top_up_charge(Gate.of(1500, Decimal("0.14"), UNLIMITED), MonthCount(1500, 1071))
    Decimal('149.94')
    """
    if month.topped_up == 0:
        return Decimal(0)
    if gate.top_up_price is None:
        raise InvalidInput(
            "top_up_not_offered",
            "orders were topped up on a plan without a top-up price",
            field="top_up_price",
        )
    return month.topped_up * gate.top_up_price


@dataclass(frozen=True, slots=True)
class Admission:
    """What `admit` decided for a run of orders, in the order given."""

    outcomes: tuple[Outcome, ...]  # one per order; final for this call
    month: MonthCount  # the month's count after these orders
    waiting: int  # requests in the backlog afterwards
    # Requests that were already waiting before this call and are now archived,
    # oldest first (archive_oldest only). Requests of this call that were pushed
    # out again within the call are ARCHIVED in `outcomes` instead.
    evicted_oldest: int
    released: int  # requests to send now: non-excluded WITHIN and TOP_UP orders
    requests: int  # non-excluded orders in this call

    def count(self, outcome: Outcome) -> int:
        return self.outcomes.count(outcome)


def admit(gate: Gate, month: MonthCount, waiting: int, excluded: Sequence[bool]) -> Admission:
    """Place a run of orders of one month, in the order they were placed.

    `waiting` is how many requests the account's backlog holds now; `excluded`
    says, per order, whether the store excludes it from review requests. A
    backlog already past `backlog_limit` (after a downgrade) is not trimmed
    here: new requests are archived, or with `archive_oldest` enough of the
    oldest go to make room for each.
    """
    _check_count(waiting, "waiting")
    within, topped_up = month.within, month.topped_up
    top_room = top_up_room(gate, month)
    outcomes: list[Outcome] = []
    queued: list[int] = []  # indices in `outcomes` of this call's WAITING requests, oldest first
    head = 0  # queued[:head] were pushed out again
    before = waiting  # of the requests waiting before this call, how many still wait
    released = requests = 0
    for skip in excluded:
        if not skip:
            requests += 1
        if within < gate.limit:
            within += 1
            outcomes.append(Outcome.WITHIN)
        elif top_room is None or top_room > 0:
            topped_up += 1
            if top_room is not None:
                top_room -= 1
            outcomes.append(Outcome.TOP_UP)
        elif skip:
            outcomes.append(Outcome.COUNTED)
            continue
        else:
            held = before + len(queued) - head
            if held >= gate.backlog_limit:
                if not gate.archive_oldest or gate.backlog_limit == 0:
                    outcomes.append(Outcome.ARCHIVED)
                    continue
                out = held - gate.backlog_limit + 1
                from_before = min(out, before)
                before -= from_before
                for _ in range(out - from_before):
                    outcomes[queued[head]] = Outcome.ARCHIVED
                    head += 1
            queued.append(len(outcomes))
            outcomes.append(Outcome.WAITING)
            continue
        if not skip:
            released += 1
    return Admission(
        outcomes=tuple(outcomes),
        month=MonthCount(within, topped_up),
        waiting=before + len(queued) - head,
        evicted_oldest=waiting - before,
        released=released,
        requests=requests,
    )


@dataclass(frozen=True, slots=True)
class Release:
    """How many waiting requests a month with room lets go (R4)."""

    within: int  # released within the order limit
    top_up: int  # released paid by the top-up
    waiting: int  # still waiting afterwards
    month: MonthCount  # the month's count after the release

    @property
    def released(self) -> int:
        return self.within + self.top_up


def release(gate: Gate, month: MonthCount, waiting: int) -> Release:
    """Release as many of `waiting` requests as the month has room for.

    They fill the places left within the limit first, then what the top-up can
    still buy. Which requests go (oldest or newest first, R4) is the caller's.
    """
    _check_count(waiting, "waiting")
    within = min(waiting, max(0, gate.limit - month.within))
    top_room = top_up_room(gate, month)
    rest = waiting - within
    top_up = rest if top_room is None else min(rest, top_room)
    return Release(
        within=within,
        top_up=top_up,
        waiting=rest - top_up,
        month=MonthCount(month.within + within, month.topped_up + top_up),
    )
