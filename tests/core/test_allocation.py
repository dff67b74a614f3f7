"""The consumption waterfall: codes first, then the plan, then the plan's rule (U2, U3, U4, U6)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.allocation import (
    FREE_OVERAGE_PROMPT,
    PLAN_PRIORITY,
    POLICY_SOURCES,
    Decision,
    Draw,
    Outcome,
    Source,
    SourceKind,
    allocate,
    grant_priority,
)
from allot.core.catalog import OveragePolicy
from allot.core.errors import InvalidInput

PROPERTY = settings(max_examples=300, deadline=None)

DAY = 86_400_000_000  # microseconds


def code(
    grant_id: int,
    remaining: int,
    *,
    expires_at: int | None = None,
    claimed_at: int = 0,
) -> Source:
    return Source(
        f"grant:{grant_id}",
        SourceKind.GRANT,
        remaining,
        grant_priority(expires_at, claimed_at, grant_id),
    )


def plan(remaining: int) -> Source:
    return Source("plan:s1", SourceKind.PLAN, remaining, PLAN_PRIORITY)


def split(decision: Decision) -> list[tuple[str, int]]:
    return [(d.source, d.quantity) for d in decision.draws]


# -- U2: order of consumption -------------------------------------------------------------


def test_U2_code_is_drawn_before_the_plan() -> None:
    decision = allocate(1, [plan(100), code(1, 5)], OveragePolicy.BILL)
    assert decision.outcome is Outcome.ALLOWED
    assert decision.reason == "within_allowance"
    assert decision.draws == (Draw("grant:1", SourceKind.GRANT, 1),)
    assert decision.prompt == ()


def test_U2_lifetime_code_is_still_drawn_before_the_plan() -> None:
    lifetime = code(1, 5, expires_at=None)
    assert split(allocate(3, [plan(100), lifetime], OveragePolicy.BILL)) == [("grant:1", 3)]


def test_U2_action_split_across_code_and_plan_2_units_1_from_code_1_from_plan() -> None:
    decision = allocate(2, [plan(10), code(1, 1)], OveragePolicy.BILL)
    assert decision.outcome is Outcome.ALLOWED
    assert decision.draws == (
        Draw("grant:1", SourceKind.GRANT, 1),
        Draw("plan:s1", SourceKind.PLAN, 1),
    )
    assert decision.quantity == 2


def test_U2_plan_pays_when_there_is_no_code() -> None:
    assert split(allocate(4, [plan(10)], OveragePolicy.BILL)) == [("plan:s1", 4)]


def test_U2_CHOICE_the_code_expiring_first_is_drawn_first() -> None:
    lifetime_claimed_long_ago = code(1, 5, expires_at=None, claimed_at=0)
    expires_late = code(2, 5, expires_at=90 * DAY, claimed_at=1 * DAY)
    expires_soon = code(3, 5, expires_at=30 * DAY, claimed_at=2 * DAY)
    sources = [plan(100), lifetime_claimed_long_ago, expires_late, expires_soon]
    decision = allocate(12, sources, OveragePolicy.BILL)
    assert split(decision) == [("grant:3", 5), ("grant:2", 5), ("grant:1", 2)]


def test_U2_CHOICE_with_the_same_expiry_the_oldest_claimed_is_drawn_first() -> None:
    newer = code(1, 2, expires_at=30 * DAY, claimed_at=5 * DAY)
    older = code(2, 2, expires_at=30 * DAY, claimed_at=1 * DAY)
    assert split(allocate(3, [newer, older], OveragePolicy.BILL)) == [
        ("grant:2", 2),
        ("grant:1", 1),
    ]


def test_U2_CHOICE_two_lifetime_codes_oldest_claimed_first_then_oldest_issued() -> None:
    assert split(allocate(1, [code(2, 1, claimed_at=3), code(1, 1, claimed_at=7)], None)) == [
        ("grant:2", 1)
    ]
    assert split(allocate(1, [code(9, 1, claimed_at=3), code(4, 1, claimed_at=3)], None)) == [
        ("grant:4", 1)
    ]


def test_U2_grant_priority_sorts_fixed_term_before_lifetime_and_codes_before_the_plan() -> None:
    fixed = grant_priority(10**18, 0, 1)  # far future, still before any lifetime code
    lifetime = grant_priority(None, 0, 1)
    assert fixed < lifetime < PLAN_PRIORITY


def test_U2_an_empty_code_is_skipped_and_not_tagged() -> None:
    decision = allocate(2, [code(1, 0), plan(10)], OveragePolicy.BILL)
    assert split(decision) == [("plan:s1", 2)]


def test_U2_negative_remaining_is_treated_as_zero() -> None:
    overdrawn_code = code(1, -3)
    assert split(allocate(2, [overdrawn_code, plan(5)], OveragePolicy.BILL)) == [("plan:s1", 2)]
    decision = allocate(2, [plan(-4)], OveragePolicy.BILL)
    assert decision.outcome is Outcome.OVERAGE
    assert split(decision) == [("overage", 2)]


def test_U2_sources_may_be_any_iterable() -> None:
    decision = allocate(2, iter([plan(10), code(1, 1)]), OveragePolicy.BILL)
    assert split(decision) == [("grant:1", 1), ("plan:s1", 1)]


# -- U4: past codes and allowance ---------------------------------------------------------


def test_U4_bill_draws_the_rest_as_overage() -> None:
    decision = allocate(5, [code(1, 1), plan(2)], OveragePolicy.BILL)
    assert decision.outcome is Outcome.OVERAGE
    assert decision.allowed
    assert decision.reason == "over_allowance_billed"
    assert decision.draws == (
        Draw("grant:1", SourceKind.GRANT, 1),
        Draw("plan:s1", SourceKind.PLAN, 2),
        Draw("overage", SourceKind.OVERAGE, 2),
    )
    assert decision.prompt == ()


def test_U4_record_and_prompt_records_free_overage_and_asks_what_to_do() -> None:
    decision = allocate(3, [plan(1)], OveragePolicy.RECORD_AND_PROMPT)
    assert decision.outcome is Outcome.FREE_OVERAGE
    assert decision.allowed
    assert decision.reason == "over_free_allowance"
    assert decision.draws == (
        Draw("plan:s1", SourceKind.PLAN, 1),
        Draw("free_overage", SourceKind.FREE_OVERAGE, 2),
    )
    assert decision.prompt == ("activate_code", "upgrade_plan", "reduce_usage")
    assert decision.prompt == FREE_OVERAGE_PROMPT


def test_U4_no_prompt_while_within_the_free_allowance() -> None:
    decision = allocate(1, [plan(100)], OveragePolicy.RECORD_AND_PROMPT)
    assert decision.outcome is Outcome.ALLOWED
    assert decision.prompt == ()


def test_U4_block_refuses_the_whole_action_and_draws_nothing() -> None:
    decision = allocate(2, [code(1, 1)], OveragePolicy.BLOCK)
    assert decision.outcome is Outcome.BLOCKED
    assert not decision.allowed
    assert decision.reason == "allowance_exhausted"
    assert decision.draws == ()
    assert decision.quantity == 0


def test_U4_block_allows_what_fits() -> None:
    decision = allocate(2, [code(1, 1), plan(1)], OveragePolicy.BLOCK)
    assert decision.outcome is Outcome.ALLOWED
    assert decision.quantity == 2


def test_U4_R3_top_up_then_backlog_puts_the_rest_in_the_backlog() -> None:
    decision = allocate(3, [plan(1)], OveragePolicy.TOP_UP_THEN_BACKLOG)
    assert decision.outcome is Outcome.BACKLOG
    assert decision.allowed
    assert decision.reason == "over_limit_backlog"
    assert decision.draws == (
        Draw("plan:s1", SourceKind.PLAN, 1),
        Draw("backlog", SourceKind.BACKLOG, 2),
    )


def test_U3_R2_december_on_business_past_the_limit_is_top_up_then_backlog() -> None:
    """Seed 003: 3,000 orders on Business (1,500), a $150 top-up buying 1,071 of them."""
    decision = allocate(3000, [plan(1500)], OveragePolicy.TOP_UP_THEN_BACKLOG, top_up=1071)
    assert decision.draws == (
        Draw("plan:s1", SourceKind.PLAN, 1500),
        Draw("top_up", SourceKind.TOP_UP, 1071),
        Draw("backlog", SourceKind.BACKLOG, 429),
    )
    assert (decision.outcome, decision.reason) == (Outcome.BACKLOG, "over_limit_backlog")


def test_U3_R2_orders_all_paid_by_the_top_up_are_a_top_up_not_a_backlog() -> None:
    decision = allocate(2571, [plan(1500)], OveragePolicy.TOP_UP_THEN_BACKLOG, top_up=1071)
    assert [(d.kind, d.quantity) for d in decision.draws] == [
        (SourceKind.PLAN, 1500),
        (SourceKind.TOP_UP, 1071),
    ]
    assert (decision.outcome, decision.reason) == (Outcome.TOP_UP, "over_limit_top_up")
    assert decision.allowed
    # within the limit a top-up pays nothing: it is only for units past every allowance
    within = allocate(10, [plan(1500)], OveragePolicy.TOP_UP_THEN_BACKLOG, top_up=10)
    assert within.draws == (Draw("plan:s1", SourceKind.PLAN, 10),)


@pytest.mark.parametrize("policy", [OveragePolicy.BILL, OveragePolicy.BLOCK, None])
def test_U3_only_a_top_up_then_backlog_rule_is_paid_by_a_top_up(
    policy: OveragePolicy | None,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        allocate(3, [plan(1)], policy, top_up=2)
    assert (refused.value.code, refused.value.field) == ("top_up_not_offered", "top_up")


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_U3_a_top_up_count_is_an_integer_of_zero_or_more(bad: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        allocate(3, [plan(1)], OveragePolicy.TOP_UP_THEN_BACKLOG, top_up=bad)  # type: ignore[arg-type]
    assert refused.value.field == "top_up"


def test_U4_no_plan_for_the_metric_codes_still_pay() -> None:
    decision = allocate(2, [code(1, 5)], None)
    assert decision.outcome is Outcome.ALLOWED
    assert split(decision) == [("grant:1", 2)]


def test_U4_no_plan_for_the_metric_is_blocked_when_codes_do_not_cover_it() -> None:
    decision = allocate(2, [code(1, 1)], None)
    assert decision.outcome is Outcome.BLOCKED
    assert decision.reason == "no_plan_for_metric"
    assert decision.draws == ()


def test_U4_no_sources_at_all() -> None:
    assert allocate(1, [], None).reason == "no_plan_for_metric"
    assert split(allocate(1, [], OveragePolicy.BILL)) == [("overage", 1)]


@pytest.mark.parametrize("quantity", [0, -1, -100])
def test_U1_invalid_quantity_is_refused(quantity: int) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        allocate(quantity, [plan(10)], OveragePolicy.BILL)
    assert (excinfo.value.code, excinfo.value.field) == ("invalid_quantity", "quantity")


def test_U1_fractional_quantity_is_refused() -> None:
    with pytest.raises(InvalidInput):
        allocate(1.5, [plan(10)], OveragePolicy.BILL)  # type: ignore[arg-type]


# -- U6: taking a seat goes down the same waterfall ---------------------------------------


def test_U6_a_seat_on_a_paid_plan_past_codes_and_included_seats_is_an_extra_seat() -> None:
    decision = allocate(1, [code(1, 0), plan(0)], OveragePolicy.BILL)
    assert decision.outcome is Outcome.OVERAGE
    assert split(decision) == [("overage", 1)]


def test_U6_a_seat_on_the_free_plan_past_its_one_seat_is_recorded_with_the_prompt() -> None:
    decision = allocate(1, [plan(0)], OveragePolicy.RECORD_AND_PROMPT)
    assert decision.outcome is Outcome.FREE_OVERAGE
    assert decision.prompt == FREE_OVERAGE_PROMPT


def test_U6_a_seat_from_a_code_with_36_seats() -> None:
    assert split(allocate(1, [plan(1), code(1, 36)], OveragePolicy.BILL)) == [("grant:1", 1)]


# -- U3: every source kind is named; only codes and allowance are limited -----------------


def test_U3_source_kinds_and_limits() -> None:
    assert {k.value for k in SourceKind} == {
        "grant",
        "plan",
        "overage",
        "free_overage",
        "top_up",
        "backlog",
    }
    assert {k for k in SourceKind if k.limited} == {SourceKind.GRANT, SourceKind.PLAN}
    assert set(POLICY_SOURCES) == set(OveragePolicy) - {OveragePolicy.BLOCK}
    assert not any(k.limited for k in POLICY_SOURCES.values())


# -- properties ---------------------------------------------------------------------------


@st.composite
def limited_sources(draw: st.DrawFn) -> list[Source]:
    sources = [
        code(
            grant_id,
            draw(st.integers(-3, 10)),
            expires_at=draw(st.none() | st.integers(0, 1000)),
            claimed_at=draw(st.integers(0, 1000)),
        )
        for grant_id in range(1, draw(st.integers(0, 5)) + 1)
    ]
    if draw(st.booleans()):
        sources.append(plan(draw(st.integers(-3, 20))))
    return draw(st.permutations(sources))


policies = st.sampled_from([*OveragePolicy, None])


def check_waterfall(
    quantity: int, sources: Sequence[Source], policy: OveragePolicy | None, decision: Decision
) -> None:
    by_id = {s.source: s for s in sources}
    capacity = sum(max(s.remaining, 0) for s in sources)
    drawn: dict[str, int] = {}
    for d in decision.draws:
        assert d.quantity > 0, "no empty draws"
        assert d.source not in drawn, "each source is drawn at most once"
        drawn[d.source] = d.quantity
    limited = [d for d in decision.draws if d.kind.limited]
    unlimited = [d for d in decision.draws if not d.kind.limited]

    # no limited source is drawn beyond what it has left
    for d in limited:
        assert by_id[d.source].kind is d.kind
        assert d.quantity <= by_id[d.source].remaining

    # priority: a source is drawn only when every better one is exhausted
    assert [by_id[d.source].priority for d in limited] == sorted(
        by_id[d.source].priority for d in limited
    )
    for d in limited:
        for better in sources:
            if better.priority < by_id[d.source].priority:
                assert drawn.get(better.source, 0) == max(better.remaining, 0)

    # the policy's own source comes last, only when all limited ones are exhausted
    assert len(unlimited) <= 1
    if unlimited:
        assert policy is not None
        assert decision.draws[-1] == unlimited[0]
        assert unlimited[0].kind is POLICY_SOURCES[policy]
        assert all(drawn.get(s.source, 0) == max(s.remaining, 0) for s in sources)

    if decision.allowed:
        assert decision.quantity == quantity
    else:
        assert decision.draws == ()
        assert policy in (None, OveragePolicy.BLOCK)
        assert capacity < quantity
    assert (decision.outcome is Outcome.ALLOWED) == (capacity >= quantity)
    assert (decision.prompt != ()) == (decision.outcome is Outcome.FREE_OVERAGE)


@PROPERTY
@given(quantity=st.integers(1, 40), sources=limited_sources(), policy=policies)
def test_U2_U4_waterfall_properties(
    quantity: int, sources: list[Source], policy: OveragePolicy | None
) -> None:
    decision = allocate(quantity, sources, policy)
    check_waterfall(quantity, sources, policy, decision)


@PROPERTY
@given(quantity=st.integers(1, 40), sources=limited_sources(), policy=policies)
def test_U2_the_order_sources_are_given_in_does_not_matter(
    quantity: int, sources: list[Source], policy: OveragePolicy | None
) -> None:
    assert allocate(quantity, sources, policy) == allocate(quantity, sources[::-1], policy)
