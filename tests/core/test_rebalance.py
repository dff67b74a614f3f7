"""Held seats move up the waterfall when a better source gets room (U6)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.allocation import (
    PLAN_PRIORITY,
    POLICY_PRIORITY,
    Hold,
    Move,
    Source,
    SourceKind,
    grant_priority,
    rebalance,
)

PROPERTY = settings(max_examples=300, deadline=None)


def code(grant_id: int, room: int, *, expires_at: int | None = None, claimed_at: int = 0) -> Source:
    return Source(
        f"grant:{grant_id}",
        SourceKind.GRANT,
        room,
        grant_priority(expires_at, claimed_at, grant_id),
    )


def plan(room: int) -> Source:
    return Source("plan:s1", SourceKind.PLAN, room, PLAN_PRIORITY)


def on(source: Source, hold_id: int, recency: int) -> Hold:
    return Hold(hold_id, source.source, source.priority, recency)


def extra_seat(hold_id: int, recency: int) -> Hold:
    return Hold(hold_id, "overage", POLICY_PRIORITY, recency)


def moves_of(moves: Sequence[Move]) -> list[tuple[int, str, str]]:
    return [(m.hold_id, m.from_source, m.to.source) for m in moves]


# -- table tests --------------------------------------------------------------------------


def test_U6_a_seat_billed_as_extra_moves_onto_a_code_with_room() -> None:
    new_code = code(1, 1)
    moves = rebalance([extra_seat(7, recency=2)], [new_code, plan(0)])
    assert moves_of(moves) == [(7, "overage", "grant:1")]
    assert moves[0].to == new_code


def test_U6_a_seat_recorded_past_the_free_plan_moves_onto_the_plan_when_a_seat_is_released() -> (
    None
):
    free_overage = Hold(3, "free_overage", POLICY_PRIORITY, recency=5)
    assert moves_of(rebalance([free_overage], [plan(1)])) == [(3, "free_overage", "plan:s1")]


def test_U6_the_most_recent_extra_seat_moves_first() -> None:
    holds = [extra_seat(1, recency=10), extra_seat(2, recency=30), extra_seat(3, recency=20)]
    assert moves_of(rebalance(holds, [code(1, 1)])) == [(2, "overage", "grant:1")]
    assert moves_of(rebalance(holds, [code(1, 2)])) == [
        (2, "overage", "grant:1"),
        (3, "overage", "grant:1"),
    ]


def test_U6_the_worst_placed_seat_moves_before_a_better_placed_one() -> None:
    the_plan = plan(0)
    holds = [on(the_plan, 1, recency=99), extra_seat(2, recency=1)]
    assert moves_of(rebalance(holds, [code(1, 1), the_plan])) == [(2, "overage", "grant:1")]


def test_U6_a_seat_moves_to_the_best_source_with_room() -> None:
    sources = [plan(5), code(1, 1, expires_at=None), code(2, 1, expires_at=100)]
    assert moves_of(rebalance([extra_seat(1, recency=1)], sources)) == [(1, "overage", "grant:2")]


def test_U6_a_seat_on_the_plan_moves_onto_a_new_code() -> None:
    the_plan = plan(0)
    moves = rebalance([on(the_plan, 4, recency=1)], [the_plan, code(1, 3)])
    assert moves_of(moves) == [(4, "plan:s1", "grant:1")]


def test_U6_a_seat_on_a_later_expiring_code_moves_to_the_one_expiring_first() -> None:
    late, soon = code(1, 0, expires_at=500), code(2, 1, expires_at=100)
    assert moves_of(rebalance([on(late, 1, recency=1)], [late, soon])) == [
        (1, "grant:1", "grant:2")
    ]


def test_U6_every_extra_seat_moves_while_there_is_room() -> None:
    holds = [extra_seat(i, recency=i) for i in range(1, 6)]
    moves = rebalance(holds, [code(1, 2), plan(2)])
    assert moves_of(moves) == [
        (5, "overage", "grant:1"),
        (4, "overage", "grant:1"),
        (3, "overage", "plan:s1"),
        (2, "overage", "plan:s1"),
    ]


@pytest.mark.parametrize(
    ("holds", "sources"),
    [
        # no code, plan full
        ([extra_seat(1, recency=1)], [plan(0)]),
        # the plan has room, but a code's seat never moves down to it
        ([on(code(1, 0), 1, recency=1)], [code(1, 0), plan(5)]),
        # a seat already on the plan does not move "sideways" onto the plan
        ([on(plan(3), 1, recency=1)], [plan(3)]),
        # a better code with negative room (overdrawn) has no room
        ([extra_seat(1, recency=1)], [code(1, -2), plan(0)]),
        # nothing held
        ([], [code(1, 5), plan(5)]),
        # no sources at all
        ([extra_seat(1, recency=1)], []),
    ],
)
def test_U6_nothing_moves_when_no_better_source_has_room(
    holds: list[Hold], sources: list[Source]
) -> None:
    assert rebalance(holds, sources) == []


def test_U6_sources_may_be_any_iterable() -> None:
    moves = rebalance(iter([extra_seat(7, recency=2)]), (s for s in [code(1, 1)]))
    assert moves_of(moves) == [(7, "overage", "grant:1")]


def test_U6_holds_may_be_any_iterable() -> None:
    moves = rebalance((h for h in [extra_seat(7, recency=2)]), [code(1, 1)])
    assert moves_of(moves) == [(7, "overage", "grant:1")]


# -- properties ---------------------------------------------------------------------------


@st.composite
def seat_situations(draw: st.DrawFn) -> tuple[list[Hold], list[Source]]:
    sources = [
        code(
            grant_id,
            draw(st.integers(0, 3)),
            expires_at=draw(st.none() | st.integers(0, 100)),
            claimed_at=draw(st.integers(0, 100)),
        )
        for grant_id in range(1, draw(st.integers(0, 4)) + 1)
    ]
    if draw(st.booleans()):
        sources.append(plan(draw(st.integers(0, 3))))
    places = [(s.source, s.priority) for s in sources] + [("overage", POLICY_PRIORITY)]
    count = draw(st.integers(0, 10))
    recencies = draw(st.permutations(range(count)))
    holds = [
        Hold(hold_id, *draw(st.sampled_from(places)), recency=recencies[hold_id])
        for hold_id in range(count)
    ]
    return draw(st.permutations(holds)), draw(st.permutations(sources))


@PROPERTY
@given(situation=seat_situations())
def test_U6_after_rebalancing_no_source_is_over_its_room_and_no_seat_could_do_better(
    situation: tuple[list[Hold], list[Source]],
) -> None:
    holds, sources = situation
    moves = rebalance(holds, sources)

    position = {h.hold_id: (h.source, h.priority) for h in holds}
    room = {s.source: s.remaining for s in sources}
    moved: set[int] = set()
    for move in moves:
        assert move.hold_id not in moved, "a seat moves at most once"
        moved.add(move.hold_id)
        from_source, from_priority = position[move.hold_id]
        assert move.from_source == from_source
        assert move.to in sources
        assert move.to.priority < from_priority, "seats only move up the waterfall"
        room[move.to.source] -= 1
        assert room[move.to.source] >= 0, "no source is ever filled beyond its room"
        if from_source in room:
            room[from_source] += 1
        position[move.hold_id] = (move.to.source, move.to.priority)

    for source, priority in position.values():
        better_with_room = [s for s in sources if s.priority < priority and room[s.source] > 0]
        assert better_with_room == [], f"a seat on {source} could still move up"

    # the worst-placed, most recently taken seats are the ones that moved
    for stayed in (h for h in holds if h.hold_id not in moved):
        for went in (h for h in holds if h.hold_id in moved):
            assert (went.priority, went.recency) > (stayed.priority, stayed.recency)


@PROPERTY
@given(situation=seat_situations())
def test_U6_rebalancing_twice_moves_nothing_the_second_time(
    situation: tuple[list[Hold], list[Source]],
) -> None:
    holds, sources = situation
    moves = rebalance(holds, sources)
    by_id = {h.hold_id: h for h in holds}
    room = {s.source: s.remaining for s in sources}
    for move in moves:
        room[move.to.source] -= 1
        if move.from_source in room:
            room[move.from_source] += 1
        by_id[move.hold_id] = Hold(
            move.hold_id, move.to.source, move.to.priority, by_id[move.hold_id].recency
        )
    after = [Source(s.source, s.kind, room[s.source], s.priority) for s in sources]
    assert rebalance(list(by_id.values()), after) == []
