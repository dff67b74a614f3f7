"""The consumption waterfall (U2): who pays for each unit of an action.

For every billable action the sources are tried in priority order:

  1. active, unpaused grants (Access Codes) — the one that expires first,
     then the oldest claimed, then the oldest issued (CHOICE in SPEC U2);
  2. the base plan's included allowance;
  3. past both, the plan's policy for the metric (U4): *bill* as overage,
     *record and prompt* (free plans), *block*, or the reviews top-up/backlog.

How many units past the limit the Reviews top-up pays is the Reviews gate's
decision (`allot.core.backlog.admit`, from the merchant's money cap): the caller
passes that count as `top_up`, and the rest wait as backlog. This module never
prices a top-up, so the top-up rule lives in one place.

An action may be split across sources (2 units: 1 from a code, 1 from the
plan). The result is a `Decision` listing each draw; the caller persists it.
Priority is a sort key, as in batch allocation: nothing here knows about
databases, and the same function serves counters (card operations, orders)
and gauges (taking a staff seat).

    >>> code = Source("grant:1", SourceKind.GRANT, remaining=1, priority=grant_priority(None, 5, 1))
    >>> plan = Source("plan:s1", SourceKind.PLAN, remaining=10, priority=PLAN_PRIORITY)
    >>> [(d.source, d.quantity) for d in allocate(2, [plan, code], OveragePolicy.BILL).draws]
    [('grant:1', 1), ('plan:s1', 1)]

Seed 003's December on Reviews Business: 3,000 orders, a $150 top-up that the
gate says buys 1,071 of them, the rest waiting:

    >>> business = Source("plan:s1", SourceKind.PLAN, remaining=1500, priority=PLAN_PRIORITY)
    >>> december = allocate(3000, [business], OveragePolicy.TOP_UP_THEN_BACKLOG, top_up=1071)
    >>> [(d.kind.value, d.quantity) for d in december.draws], december.outcome.value
    ([('plan', 1500), ('top_up', 1071), ('backlog', 429)], 'backlog')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from allot.core.catalog import OveragePolicy
from allot.core.errors import InvalidInput


class SourceKind(StrEnum):
    """Where a unit was paid from (U3). The first two have limits; the rest do not.

    A top-up's limit is money (a cap per month, R2), kept and charged by the
    Reviews gate: in the ledger its units are unlimited, as overage's are.
    """

    GRANT = "grant"  # an Access Code or any prepaid grant; never reaches invoices (K8)
    PLAN = "plan"  # the base plan's included allowance
    OVERAGE = "overage"  # billed per unit (an extra seat for gauges)
    FREE_OVERAGE = "free_overage"  # recorded past a free plan, not billed, with a prompt
    TOP_UP = "top_up"  # reviews: past the limit, paid by the merchant's top-up limit (R2)
    BACKLOG = "backlog"  # reviews: past the limit and any top-up, waiting or archived (R3)

    @property
    def limited(self) -> bool:
        return self in (SourceKind.GRANT, SourceKind.PLAN)


# The policy's own (unlimited) source for units past every limited source and,
# on top_up_then_backlog, past the top-up the caller says the gate let through.
POLICY_SOURCES: dict[OveragePolicy, SourceKind] = {
    OveragePolicy.BILL: SourceKind.OVERAGE,
    OveragePolicy.RECORD_AND_PROMPT: SourceKind.FREE_OVERAGE,
    OveragePolicy.TOP_UP_THEN_BACKLOG: SourceKind.BACKLOG,
}

# The choices shown when a free plan runs past its limits (seed 002).
FREE_OVERAGE_PROMPT: tuple[str, ...] = ("activate_code", "upgrade_plan", "reduce_usage")

Priority = tuple[int, int, int, int]
PLAN_PRIORITY: Priority = (1, 0, 0, 0)
_NEVER = 2**62  # a lifetime grant sorts after every fixed-term one


def grant_priority(expires_at: int | None, claimed_at: int, grant_id: int) -> Priority:
    """Sort key of a grant: expiring first, then oldest claimed, then oldest issued.

    Times are integers (e.g. epoch microseconds) so the key stays pure and total.
    """
    return (0, _NEVER if expires_at is None else expires_at, claimed_at, grant_id)


@dataclass(frozen=True, slots=True)
class Source:
    source: str  # stable identity, e.g. "grant:12", "plan:sub_3"
    kind: SourceKind
    remaining: int  # units left in this period
    priority: Priority


@dataclass(frozen=True, slots=True)
class Draw:
    source: str
    kind: SourceKind
    quantity: int


class Outcome(StrEnum):
    ALLOWED = "allowed"  # fully within codes and allowance
    OVERAGE = "overage"  # allowed; part billed as overage
    FREE_OVERAGE = "free_overage"  # allowed; part recorded past the free plan, prompt shown
    TOP_UP = "top_up"  # allowed; part past the limit paid by the top-up (R2)
    BACKLOG = "backlog"  # recorded; part waits in the backlog
    BLOCKED = "blocked"  # refused; nothing recorded


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    draws: tuple[Draw, ...]
    reason: str  # stable snake_case reason code
    prompt: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.BLOCKED

    @property
    def quantity(self) -> int:
        return sum(d.quantity for d in self.draws)


_OUTCOMES = {
    SourceKind.OVERAGE: (Outcome.OVERAGE, "over_allowance_billed"),
    SourceKind.FREE_OVERAGE: (Outcome.FREE_OVERAGE, "over_free_allowance"),
    SourceKind.TOP_UP: (Outcome.TOP_UP, "over_limit_top_up"),
    SourceKind.BACKLOG: (Outcome.BACKLOG, "over_limit_backlog"),
}


@dataclass(frozen=True, slots=True)
class Overflow:
    """What a policy does with units past every limited source (None when it refuses)."""

    kind: SourceKind
    outcome: Outcome
    reason: str
    prompt: tuple[str, ...]


def overflow(policy: OveragePolicy | None) -> Overflow | None:
    if policy is None or policy is OveragePolicy.BLOCK:
        return None
    kind = POLICY_SOURCES[policy]
    outcome, reason = _OUTCOMES[kind]
    return Overflow(
        kind, outcome, reason, FREE_OVERAGE_PROMPT if kind is SourceKind.FREE_OVERAGE else ()
    )


def allocate(
    quantity: int, sources: Iterable[Source], policy: OveragePolicy | None, *, top_up: int = 0
) -> Decision:
    """Draw `quantity` units from `sources` in priority order, then apply `policy`.

    `policy=None` means no plan covers the metric: whatever the grants cannot
    cover is refused. A refusal is all-or-nothing: a blocked action draws nothing.
    `top_up` (top_up_then_backlog only): of the units past every limited source,
    how many the Reviews gate let through on the top-up; the rest are backlog.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput(
            "invalid_quantity", "quantity must be a positive integer", field="quantity"
        )
    if isinstance(top_up, bool) or not isinstance(top_up, int) or top_up < 0:
        raise InvalidInput("invalid_top_up", "top_up must be an integer >= 0", field="top_up")
    if top_up and policy is not OveragePolicy.TOP_UP_THEN_BACKLOG:
        raise InvalidInput(
            "top_up_not_offered",
            "only a top_up_then_backlog rule is paid by a top-up",
            field="top_up",
        )
    draws: list[Draw] = []
    left = quantity
    for src in sorted(sources, key=lambda s: s.priority):
        if left == 0:
            break
        take = min(left, max(src.remaining, 0))
        if take:
            draws.append(Draw(src.source, src.kind, take))
            left -= take
    if left == 0:
        return Decision(Outcome.ALLOWED, tuple(draws), "within_allowance")
    if top_up:
        take = min(top_up, left)
        draws.append(Draw(SourceKind.TOP_UP.value, SourceKind.TOP_UP, take))
        left -= take
        if left == 0:
            outcome, reason = _OUTCOMES[SourceKind.TOP_UP]
            return Decision(outcome, tuple(draws), reason)
    past = overflow(policy)
    if past is None:
        reason = "no_plan_for_metric" if policy is None else "allowance_exhausted"
        return Decision(Outcome.BLOCKED, (), reason)
    draws.append(Draw(past.kind.value, past.kind, left))
    return Decision(past.outcome, tuple(draws), past.reason, past.prompt)


def next_payer(
    sources: Iterable[Source], policy: OveragePolicy | None, after: Decision
) -> Decision | None:
    """Who pays the next unit once `after` is drawn: `allocate` of one unit, nothing else.

    The consume fast path follows this answer until something changes, so it
    is the waterfall's own rule, not a copy of it. None: the next unit would
    be refused (nothing to follow).

        >>> code = Source("grant:1", SourceKind.GRANT, 2, grant_priority(None, 0, 1))
        >>> plan = Source("plan:s1", SourceKind.PLAN, 100, PLAN_PRIORITY)
        >>> took = allocate(2, [code, plan], OveragePolicy.RECORD_AND_PROMPT)
        >>> next_payer([code, plan], OveragePolicy.RECORD_AND_PROMPT, took).draws
        (Draw(source='plan:s1', kind=<SourceKind.PLAN: 'plan'>, quantity=1),)
    """
    drawn: dict[str, int] = {}
    for d in after.draws:
        drawn[d.source] = drawn.get(d.source, 0) + d.quantity
    left = [replace(s, remaining=s.remaining - drawn.get(s.source, 0)) for s in sources]
    following = allocate(1, left, policy)
    return following if following.allowed else None


# Units past every limited source sort after them (used when rebalancing seats).
POLICY_PRIORITY: Priority = (2, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Hold:
    """A seat currently held, from `source`, ranked by how recently it was taken."""

    hold_id: int
    source: str
    priority: Priority
    recency: int  # larger: taken later


@dataclass(frozen=True, slots=True)
class Move:
    hold_id: int
    from_source: str
    to: Source


def rebalance(holds: Iterable[Hold], sources: Iterable[Source]) -> list[Move]:
    """Move held seats up the waterfall when better sources have room (U6).

    Releasing a code's seat, or claiming a new code, frees capacity; a seat
    still billed as an extra seat (or recorded past a free plan) moves onto it
    so nobody pays for a seat a code could cover. The worst-placed, most
    recently taken hold moves first, always to the best source with room.

        >>> code = Source("grant:1", SourceKind.GRANT, 1, grant_priority(None, 0, 1))
        >>> extra = Hold(7, "overage", POLICY_PRIORITY, recency=2)
        >>> [(m.hold_id, m.from_source, m.to.source) for m in rebalance([extra], [code])]
        [(7, 'overage', 'grant:1')]
    """
    sources = list(sources)
    room = {s.source: s.remaining for s in sources}
    ranked = sorted(sources, key=lambda s: s.priority)
    moves: list[Move] = []
    for hold in sorted(holds, key=lambda h: (h.priority, h.recency), reverse=True):
        target = next(
            (s for s in ranked if s.priority < hold.priority and room[s.source] > 0), None
        )
        if target is None:
            continue
        room[target.source] -= 1
        if hold.source in room:
            room[hold.source] += 1
        moves.append(Move(hold.hold_id, hold.source, target))
    return moves
