"""Grants (K1, K3-K6, U2, U6): a prepaid monthly package given to an account, drawn before its
plan, full again every calendar month of the account, paused and resumed; and every refusal of
`allot.code.grants`, named by code and field, writing nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Connection

from allot.account import repository as account_repo
from allot.code.grants import get_grant, grant, set_paused
from allot.core.errors import InvalidInput, NotFound
from allot.grant import repository as repo
from allot.grant.repository import GrantRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription.service import subscribe
from allot.usage.repository import holds as usage_repo
from allot.usage.service import UsageResult, consume, take_seat
from tests.domains import add_account, read, refusal, refused_before_writing, run
from tests.factories import load
from tests.scenarios.world import local

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def cafe(db: Database, clock: FixedClock) -> str:
    """A café on the factories' free plan: 100 card operations and 1 seat, then prompt."""
    load(db, clock)
    add_account(db, clock, "cafe")
    run(db, lambda conn: subscribe(conn, clock, account_id="cafe", plan_code="free"))
    return "cafe"


def give(db: Database, clock: FixedClock, allowances: Mapping[str, int], **kw: object) -> GrantRow:
    return run(
        db,
        lambda conn: grant(conn, clock, account_id="cafe", allowances=allowances, **kw),  # type: ignore[arg-type]
    )


def pause(db: Database, clock: FixedClock, grant_id: int, paused: bool) -> GrantRow:
    return run(db, lambda conn: set_paused(conn, clock, grant_id=grant_id, paused=paused))


class Keys:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"k{self.n}"


key = Keys()


def use(
    db: Database, clock: FixedClock, quantity: int = 1, at: datetime | None = None
) -> UsageResult:
    return run(
        db,
        lambda conn: consume(
            conn,
            clock,
            account_id="cafe",
            metric="card_operations",
            quantity=quantity,
            idempotency_key=key(),
            occurred_at=at,
        ),
    )


def seat(db: Database, clock: FixedClock, holder: str) -> UsageResult:
    return run(
        db,
        lambda conn: take_seat(
            conn,
            clock,
            account_id="cafe",
            metric="staff_seats",
            holder=holder,
            idempotency_key=key(),
        ),
    )


def paid_by(result: UsageResult) -> list[tuple[str, int]]:
    return [(d.source, d.quantity) for d in result.draws]


# --- K1: the package -------------------------------------------------------------------------


def test_k1_a_grant_holds_any_bundle_claimed_at_once_for_life(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    given = give(db, clock, {"staff_seats": 36, "card_operations": 18})
    assert dict(given.allowances) == {"card_operations": 18, "staff_seats": 36}
    assert (given.account_id, given.label, given.issuer, given.paused) == (
        cafe,
        "Grant #1",
        "operator",
        False,
    )
    assert given.issued_at == given.claimed_at == T0
    assert (given.starts_at, given.ends_at, given.revoked_at, given.partner_id) == (
        None,
        None,
        None,
        None,
    )
    assert given.source == f"grant:{given.id}"
    assert read(db, lambda conn: repo.get(conn, given.id)) == given


def test_k1_labels_count_the_accounts_own_grants(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    add_account(db, clock, "bakery")
    give(db, clock, {"card_operations": 1})
    second = give(db, clock, {"card_operations": 1})
    theirs = run(
        db, lambda conn: grant(conn, clock, account_id="bakery", allowances={"staff_seats": 1})
    )
    named = give(db, clock, {"card_operations": 1}, label="  Spring promo ", issuer=" Brew ")
    assert (second.label, theirs.label) == ("Grant #2", "Grant #1")
    assert (named.label, named.issuer) == ("Spring promo", "Brew")
    assert [g.label for g in read(db, lambda conn: repo.for_account(conn, cafe))] == [
        "Grant #1",
        "Grant #2",
        "Spring promo",
    ]


def test_k1_a_rolled_back_grant_leaves_no_row_and_no_gap_in_the_labels(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    class Abort(Exception):
        pass

    def give_then_fail() -> None:
        with db.transaction() as conn:
            grant(conn, clock, account_id=cafe, allowances={"card_operations": 5})
            raise Abort

    with pytest.raises(Abort):
        give_then_fail()
    assert read(db, lambda conn: repo.for_account(conn, cafe)) == []
    assert give(db, clock, {"card_operations": 5}).label == "Grant #1"


# --- K3: the term -------------------------------------------------------------------------------


def test_k3_a_fixed_term_is_kept_in_utc_whatever_offset_it_was_given_in(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    kyiv_winter = timezone(timedelta(hours=2))
    given = give(
        db,
        clock,
        {"card_operations": 10},
        starts_at=datetime(2026, 2, 1, 0, 0, tzinfo=kyiv_winter),
        ends_at=datetime(2026, 3, 1, 0, 0, tzinfo=kyiv_winter),
    )
    assert given.starts_at == datetime(2026, 1, 31, 22, 0, tzinfo=UTC)
    assert given.ends_at == datetime(2026, 2, 28, 22, 0, tzinfo=UTC)
    assert given.starts_at.utcoffset() == timedelta(0)


def test_k3_a_term_pays_from_its_start_inclusive_to_its_end_exclusive(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    starts, ends = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    given = give(db, clock, {"card_operations": 10}, starts_at=starts, ends_at=ends)
    tick = timedelta(microseconds=1)

    def paying(at: datetime) -> list[int]:
        found = read(db, lambda conn: repo.active_for_metric(conn, cafe, "card_operations", at))
        return [g.id for g, _ in found]

    assert paying(starts - tick) == []
    assert paying(starts) == [given.id]
    assert paying(ends - tick) == [given.id]
    assert paying(ends) == []
    assert given.bounds == (T0, starts, ends)


def test_u8_a_grant_pays_nothing_dated_before_it_was_claimed(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    clock.set(T0 + timedelta(hours=3))
    given = give(db, clock, {"card_operations": 10})
    assert not given.active_at(T0 + timedelta(hours=2))
    assert given.active_at(T0 + timedelta(hours=3))
    before = use(db, clock, at=T0 + timedelta(hours=2))
    after = use(db, clock)
    assert [d.kind.value for d in before.draws] == ["plan"]
    assert paid_by(after) == [(given.source, 1)]


# --- K4: every month full again, in the account's months ----------------------------------------


def test_k4_the_package_is_full_again_at_local_midnight_on_the_1st(
    db: Database, clock: FixedClock
) -> None:
    """In Tokyo the 1st begins at 15:00 UTC on the last day of the month before."""
    load(db, clock)
    add_account(db, clock, "cafe", tz="Asia/Tokyo")
    run(db, lambda conn: subscribe(conn, clock, account_id="cafe", plan_code="free"))
    given = give(db, clock, {"card_operations": 3})
    clock.set(local("Asia/Tokyo", 2026, 1, 31, 23, 0))
    january = use(db, clock, quantity=4)
    assert paid_by(january)[0] == (given.source, 3)
    clock.set(local("Asia/Tokyo", 2026, 2, 1, 0, 0))
    assert clock.now().day == 31  # still 31 January in UTC
    february = use(db, clock, quantity=4)
    assert paid_by(february)[0] == (given.source, 3)  # no shortfall carried, no rollover
    assert february.period == "2026-02"


def test_k4_unused_capacity_does_not_roll_over(db: Database, clock: FixedClock, cafe: str) -> None:
    given = give(db, clock, {"card_operations": 10})
    use(db, clock, quantity=2)  # 8 unused in January
    clock.set(local("Europe/Kyiv", 2026, 2, 3, 9))
    february = use(db, clock, quantity=12)
    assert [(d.source, d.kind.value, d.quantity) for d in february.draws] == [
        (given.source, "grant", 10),
        ("plan:1", "plan", 2),
    ]


# --- K5: pause and resume -----------------------------------------------------------------------


def test_k5_a_paused_grant_is_skipped_and_a_resumed_one_drawn_again(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    given = give(db, clock, {"card_operations": 10})
    assert paid_by(use(db, clock)) == [(given.source, 1)]  # the fast path learns this route
    paused = pause(db, clock, given.id, True)
    assert paused.paused
    assert [d.kind.value for d in use(db, clock).draws] == ["plan"]
    assert read(db, lambda conn: repo.unpaused_for_metric(conn, cafe, "card_operations")) == []
    resumed = pause(db, clock, given.id, False)
    assert not resumed.paused
    assert paid_by(use(db, clock)) == [(given.source, 1)]


def test_k5_pausing_twice_is_one_pause(db: Database, clock: FixedClock, cafe: str) -> None:
    given = give(db, clock, {"card_operations": 10})
    pause(db, clock, given.id, True)
    again = pause(db, clock, given.id, True)
    assert again == read(db, lambda conn: repo.get(conn, given.id))
    assert again.paused


def test_k5_u6_seats_stay_on_a_paused_grant_and_a_resume_takes_back_the_overflow(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    given = give(db, clock, {"staff_seats": 3})
    assert [d.kind.value for d in seat(db, clock, "ann").draws] == ["grant"]
    assert [d.kind.value for d in seat(db, clock, "bob").draws] == ["grant"]
    pause(db, clock, given.id, True)
    assert [d.kind.value for d in seat(db, clock, "cid").draws] == ["plan"]  # the 1 included
    assert [d.kind.value for d in seat(db, clock, "dan").draws] == ["free_overage"]
    pause(db, clock, given.id, False)
    holds = read(db, lambda conn: repo_holds(conn, cafe))
    assert holds == {"ann": "grant", "bob": "grant", "cid": "plan", "dan": "grant"}


def repo_holds(conn: Connection, account_id: str) -> dict[str, str]:
    """Who holds a seat now, and the kind of source paying for it."""
    return {h.holder: h.source_kind for h in usage_repo.open_holds(conn, account_id, "staff_seats")}


# --- K6, U2: several at once, in their order --------------------------------------------------


def test_k6_u2_grants_are_drawn_expiring_first_then_oldest_claimed(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    lifetime_old = give(db, clock, {"card_operations": 2})
    clock.advance(timedelta(hours=1))
    lifetime_new = give(db, clock, {"card_operations": 2})
    ends_late = give(db, clock, {"card_operations": 2}, ends_at=datetime(2026, 6, 1, tzinfo=UTC))
    ends_soon = give(db, clock, {"card_operations": 2}, ends_at=datetime(2026, 3, 1, tzinfo=UTC))
    found = read(db, lambda conn: repo.for_account(conn, cafe))
    order = [g.id for g in sorted(found, key=lambda g: g.priority)]
    assert order == [ends_soon.id, ends_late.id, lifetime_old.id, lifetime_new.id]
    drawn = use(db, clock, quantity=9)
    assert paid_by(drawn) == [
        (ends_soon.source, 2),
        (ends_late.source, 2),
        (lifetime_old.source, 2),
        (lifetime_new.source, 2),
        ("plan:1", 1),
    ]


def test_k6_each_metric_sees_only_the_grants_that_hold_it(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    both = give(db, clock, {"card_operations": 18, "staff_seats": 36})
    seats_only = give(db, clock, {"staff_seats": 2})
    with db.read() as conn:
        operations = repo.active_for_metric(conn, cafe, "card_operations", clock.now())
        seats = repo.active_for_metric(conn, cafe, "staff_seats", clock.now())
    assert [(g.id, q) for g, q in operations] == [(both.id, 18)]
    assert sorted((g.id, q) for g, q in seats) == [(both.id, 36), (seats_only.id, 2)]


# --- U6: a new grant takes the seats recorded past the plan --------------------------------------


def test_u6_a_grant_settles_seats_held_as_free_overage_onto_its_room(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    for holder in ("ann", "bob", "cid"):
        seat(db, clock, holder)
    assert read(db, lambda conn: repo_holds(conn, cafe)) == {
        "ann": "plan",
        "bob": "free_overage",
        "cid": "free_overage",
    }
    give(db, clock, {"staff_seats": 1})
    settled = read(db, lambda conn: repo_holds(conn, cafe))
    assert sorted(settled.values()) == ["free_overage", "grant", "plan"]


def test_k1_the_account_revision_moves_with_its_grants(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    """The fast path follows a learned route only under the revision it learned it in."""

    def revision() -> int:
        found = read(db, lambda conn: account_repo.get(conn, cafe))
        assert found is not None
        return found.revision

    seen = [revision()]
    given = give(db, clock, {"card_operations": 5})
    seen.append(revision())
    pause(db, clock, given.id, True)
    seen.append(revision())
    pause(db, clock, given.id, False)
    seen.append(revision())
    assert len(set(seen)) == 4


# --- refusals --------------------------------------------------------------------------------


def grant_refusal(
    db: Database, clock: FixedClock, account_id: str = "cafe", /, **kw: object
) -> tuple[type, str, str | None]:
    values: dict[str, object] = {"allowances": {"card_operations": 5}, **kw}

    def call(conn: Connection) -> object:
        return grant(conn, clock, account_id=account_id, **values)  # type: ignore[arg-type]

    return refusal(refused_before_writing(db, call))


def test_grant_to_an_unknown_account_is_refused(db: Database, clock: FixedClock, cafe: str) -> None:
    assert grant_refusal(db, clock, "ghost") == (NotFound, "account_not_found", "account_id")


def test_k1_an_empty_package_is_refused(db: Database, clock: FixedClock, cafe: str) -> None:
    assert grant_refusal(db, clock, allowances={}) == (
        InvalidInput,
        "empty_package",
        "allowances",
    )


def test_k1_a_package_of_an_unknown_metric_is_refused_by_name(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    assert grant_refusal(db, clock, allowances={"card_operations": 5, "sms": 3}) == (
        NotFound,
        "metric_not_found",
        "allowances.sms",
    )


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        (0, "not_positive_integer"),
        (-1, "not_positive_integer"),
        (True, "not_positive_integer"),
        (2.5, "not_positive_integer"),
        (1_000_000_001, "too_large"),
    ],
)
def test_k1_a_monthly_quantity_must_be_a_positive_count(
    db: Database, clock: FixedClock, cafe: str, quantity: object, code: str
) -> None:
    assert grant_refusal(db, clock, allowances={"staff_seats": quantity}) == (
        InvalidInput,
        code,
        "allowances.staff_seats",
    )


def test_k3_a_term_that_ends_at_or_before_its_start_is_refused(
    db: Database, clock: FixedClock, cafe: str
) -> None:
    at = datetime(2026, 2, 1, tzinfo=UTC)
    for ends in (at, at - timedelta(seconds=1)):
        assert grant_refusal(db, clock, starts_at=at, ends_at=ends) == (
            InvalidInput,
            "ends_before_start",
            "ends_at",
        )


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_k3_a_term_without_a_time_zone_is_refused(
    db: Database, clock: FixedClock, cafe: str, field: str
) -> None:
    naive = datetime(2026, 3, 1, 0, 0)  # noqa: DTZ001 - the refusal under test
    assert grant_refusal(db, clock, **{field: naive}) == (InvalidInput, "naive_datetime", field)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("label", "   ", "required"),
        ("label", "x" * 201, "too_long"),
        ("label", "a\x00b", "invalid_character"),
        ("issuer", "", "required"),
    ],
)
def test_k1_a_label_or_issuer_that_cannot_be_shown_is_refused(
    db: Database, clock: FixedClock, cafe: str, field: str, value: str, code: str
) -> None:
    assert grant_refusal(db, clock, **{field: value}) == (InvalidInput, code, field)


def test_k5_an_unknown_grant_is_not_found(db: Database, clock: FixedClock, cafe: str) -> None:
    error = refused_before_writing(
        db, lambda conn: set_paused(conn, clock, grant_id=999, paused=True)
    )
    assert refusal(error) == (NotFound, "grant_not_found", "grant_id")
    error = refused_before_writing(db, lambda conn: get_grant(conn, 999))
    assert refusal(error) == (NotFound, "grant_not_found", "grant_id")
