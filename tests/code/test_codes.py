"""Access Codes (K1-K8): issued by a partner, claimed once by one business (typed, or assigned),
paused and resumed, revoked while unused; every refusal by code and field, writing nothing;
and wrong guesses all answered alike, so claiming cannot probe for codes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from allot.code.service import (
    NO_SUCH_CODE,
    assign_code,
    claim_code,
    issue_code,
    list_codes,
    partner_code,
    pause_code,
    revoke_code,
)
from allot.core.codes import ALPHABET, display, is_well_formed
from allot.core.errors import Conflict, DomainError, InvalidInput, NotFound
from allot.grant import repository as grant_repo
from allot.grant.repository import GrantRow
from allot.invoice.run import bill_account
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription.service import subscribe
from allot.usage.repository import holds as usage_repo
from allot.usage.service import UsageResult, consume, release_seat, take_seat
from tests.domains import (
    add_account,
    add_partner,
    read,
    refusal,
    refused_before_writing,
    run,
)
from tests.factories import load
from tests.scenarios.world import local

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: FixedClock) -> Database:
    """The factories' catalog, partners Brew and POS, a café on the free plan and a shop on the
    paid one (1,000 operations included, then €0.02 each)."""
    load(db, clock)
    add_partner(db, clock, "brew")
    add_partner(db, clock, "pos")
    for account, plan in (("cafe", "free"), ("shop", "paid")):
        add_account(db, clock, account)

        def go(conn: Connection, a: str = account, p: str = plan) -> object:
            return subscribe(conn, clock, account_id=a, plan_code=p)

        run(db, go)
    return db


def issue(
    db: Database,
    clock: FixedClock,
    allowances: Mapping[str, int] | None = None,
    partner: str = "brew",
    **kw: datetime,
) -> GrantRow:
    return run(
        db,
        lambda conn: issue_code(
            conn,
            clock,
            partner_id=partner,
            allowances=allowances or {"card_operations": 18, "staff_seats": 36},
            **kw,
        ),
    )


def claim(db: Database, clock: FixedClock, account_id: str, text: str) -> GrantRow:
    return run(db, lambda conn: claim_code(conn, clock, account_id=account_id, code=text))


def typed(code: GrantRow) -> str:
    assert code.code is not None
    return display(code.code)


_keys = iter(range(1, 1_000_000))


def use(db: Database, clock: FixedClock, account_id: str, quantity: int = 1) -> UsageResult:
    return run(
        db,
        lambda conn: consume(
            conn,
            clock,
            account_id=account_id,
            metric="card_operations",
            quantity=quantity,
            idempotency_key=f"k{next(_keys)}",
        ),
    )


def seat(db: Database, clock: FixedClock, account_id: str, holder: str, *, take: bool) -> None:
    action = take_seat if take else release_seat
    run(
        db,
        lambda conn: action(
            conn,
            clock,
            account_id=account_id,
            metric="staff_seats",
            holder=holder,
            idempotency_key=f"k{next(_keys)}",
        ),
    )


# --- issue --------------------------------------------------------------------------------------


def test_k1_k2_an_issued_code_is_numbered_unclaimed_and_well_formed(
    world: Database, clock: FixedClock
) -> None:
    first = issue(world, clock)
    second = issue(world, clock, {"card_operations": 5})
    theirs = issue(world, clock, partner="pos")
    assert [(c.partner_id, c.number, c.label) for c in (first, second, theirs)] == [
        ("brew", 1, "Code #1"),
        ("brew", 2, "Code #2"),
        ("pos", 1, "Code #1"),
    ]
    assert (first.issuer, first.account_id, first.claimed_at, first.issued_at) == (
        "Brew Consultants",
        None,
        None,
        T0,
    )
    assert dict(first.allowances) == {"card_operations": 18, "staff_seats": 36}
    texts = {c.code for c in (first, second, theirs)}
    assert len(texts) == 3
    assert all(t is not None and len(t) == 17 and is_well_formed(t) for t in texts)
    assert not first.active_at(T0 + timedelta(days=1))  # it pays for nothing until claimed


def test_k3_a_fixed_term_code_keeps_its_term(world: Database, clock: FixedClock) -> None:
    starts, ends = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)
    code = issue(world, clock, starts_at=starts, ends_at=ends)
    assert (code.starts_at, code.ends_at) == (starts, ends)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"partner_id": "ghost"}, (NotFound, "partner_not_found", "partner_id")),
        ({"allowances": {}}, (InvalidInput, "empty_package", "allowances")),
        ({"allowances": {"sms": 1}}, (NotFound, "metric_not_found", "allowances.sms")),
        (
            {"allowances": {"staff_seats": 0}},
            (InvalidInput, "not_positive_integer", "allowances.staff_seats"),
        ),
        (
            {
                "starts_at": datetime(2026, 3, 1, tzinfo=UTC),
                "ends_at": datetime(2026, 2, 1, tzinfo=UTC),
            },
            (InvalidInput, "ends_before_start", "ends_at"),
        ),
        (
            {"ends_at": datetime(2026, 3, 1)},  # noqa: DTZ001 - the refusal under test
            (InvalidInput, "naive_datetime", "ends_at"),
        ),
    ],
)
def test_k1_issue_refusals_name_their_field_and_write_nothing(
    world: Database, clock: FixedClock, kw: dict[str, object], expected: tuple[object, ...]
) -> None:
    values: dict[str, object] = {"partner_id": "brew", "allowances": {"card_operations": 1}, **kw}

    def call(conn: Connection) -> object:
        return issue_code(conn, clock, **values)  # type: ignore[arg-type]

    assert refusal(refused_before_writing(world, call)) == expected


# --- claim ---------------------------------------------------------------------------------------


def test_k2_a_code_typed_carelessly_is_claimed_by_the_business(
    world: Database, clock: FixedClock
) -> None:
    """Lower case, spaces for dashes, O for 0 and l for 1: read as what was meant."""
    code = issue(world, clock)
    sloppy = typed(code).lower().replace("-", " ").replace("0", "o").replace("1", "l")
    clock.advance(timedelta(hours=2))
    claimed = claim(world, clock, "cafe", f"  {sloppy} ")
    assert (claimed.id, claimed.account_id, claimed.claimed_at) == (
        code.id,
        "cafe",
        T0 + timedelta(hours=2),
    )
    assert [g.id for g in read(world, lambda conn: grant_repo.for_account(conn, "cafe"))] == [
        code.id
    ]


def test_k2_a_code_is_claimed_once_by_one_business(world: Database, clock: FixedClock) -> None:
    code = issue(world, clock)
    claim(world, clock, "cafe", typed(code))
    for account in ("shop", "cafe"):

        def again(conn: Connection, a: str = account) -> object:
            return claim_code(conn, clock, account_id=a, code=typed(code))

        error = refused_before_writing(world, again)
        assert refusal(error) == (NotFound, "code_not_found", "code")
    found = read(world, lambda conn: grant_repo.get(conn, code.id))
    assert found is not None
    assert found.account_id == "cafe"


def test_k2_every_wrong_guess_gets_the_same_answer(world: Database, clock: FixedClock) -> None:
    claimed, revoked = issue(world, clock), issue(world, clock)
    claim(world, clock, "cafe", typed(claimed))
    run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=2))
    never = "000G-40R4-0M30-E209-B"  # well formed, never issued
    answers = set()
    for text in (typed(claimed), typed(revoked), never):

        def guess(conn: Connection, t: str = text) -> object:
            return claim_code(conn, clock, account_id="shop", code=t)

        error = refused_before_writing(world, guess)
        answers.add((*refusal(error), error.message))
    assert answers == {(NotFound, "code_not_found", "code", NO_SUCH_CODE)}


def test_k2_any_single_mistyped_symbol_is_caught_before_any_lookup(
    world: Database, clock: FixedClock
) -> None:
    code = issue(world, clock)
    text = code.code
    assert text is not None
    for place in (0, 7, 16):
        wrong = ALPHABET[(ALPHABET.index(text[place]) + 1) % 32]
        mistyped = text[:place] + wrong + text[place + 1 :]

        def typo(conn: Connection, m: str = mistyped) -> object:
            return claim_code(conn, clock, account_id="cafe", code=m)

        error = refused_before_writing(world, typo)
        assert refusal(error) == (InvalidInput, "invalid_code_format", "code")


@pytest.mark.parametrize("text", ["", "hello", "000G-40R4-0M30-E209", 12345, None])
def test_k2_what_is_not_a_code_is_refused_as_a_typo(
    world: Database, clock: FixedClock, text: object
) -> None:
    error = refused_before_writing(
        world,
        lambda conn: claim_code(conn, clock, account_id="cafe", code=text),  # type: ignore[arg-type]
    )
    assert refusal(error) == (InvalidInput, "invalid_code_format", "code")


def test_k2_a_claim_for_an_unknown_account_leaves_the_code_free(
    world: Database, clock: FixedClock
) -> None:
    code = issue(world, clock)
    error = refused_before_writing(
        world, lambda conn: claim_code(conn, clock, account_id="ghost", code=typed(code))
    )
    assert refusal(error) == (NotFound, "account_not_found", "account_id")
    assert claim(world, clock, "cafe", typed(code)).account_id == "cafe"


# --- assign --------------------------------------------------------------------------------------


def test_k2_the_partner_assigns_an_unclaimed_code_directly(
    world: Database, clock: FixedClock
) -> None:
    issue(world, clock)
    given = run(
        world,
        lambda conn: assign_code(conn, clock, partner_id="brew", number=1, account_id="shop"),
    )
    assert (given.account_id, given.claimed_at) == ("shop", T0)


def test_k2_assign_refusals(world: Database, clock: FixedClock) -> None:
    issue(world, clock)
    issue(world, clock)
    claim(world, clock, "cafe", typed(read(world, lambda c: partner_code(c, "brew", 1))))
    run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=2))

    def assign(partner: str, number: int, account: str) -> DomainError:
        return refused_before_writing(
            world,
            lambda conn: assign_code(
                conn, clock, partner_id=partner, number=number, account_id=account
            ),
        )

    assert refusal(assign("brew", 1, "shop")) == (Conflict, "code_not_available", "number")
    assert refusal(assign("brew", 2, "shop")) == (Conflict, "code_not_available", "number")
    assert refusal(assign("brew", 9, "shop")) == (NotFound, "code_not_found", "number")
    assert refusal(assign("pos", 1, "shop")) == (NotFound, "code_not_found", "number")
    issue(world, clock)
    assert refusal(assign("brew", 3, "ghost")) == (NotFound, "account_not_found", "account_id")


# --- what a claimed code pays for (U2, U6, K8) ---------------------------------------------------


def test_u2_k8_a_codes_units_come_first_and_never_reach_the_invoice(
    world: Database, clock: FixedClock
) -> None:
    """The shop's 1,015 operations: 10 from the code, 1,000 in the plan, 5 billed at €0.02."""
    claim(world, clock, "shop", typed(issue(world, clock, {"card_operations": 10})))
    drawn = use(world, clock, "shop", 1015)
    assert [(d.kind.value, d.quantity) for d in drawn.draws] == [
        ("grant", 10),
        ("plan", 1000),
        ("overage", 5),
    ]
    clock.set(local("Europe/Kyiv", 2026, 2, 8, 10))
    issued = run(world, lambda conn: bill_account(conn, clock, account_id="shop"))
    usage = [i for i in issued if i.kind == "usage"]
    assert len(usage) == 1
    assert [
        (f.charge.kind, f.charge.metric, f.charge.quantity, f.charge.unit_price)
        for f in usage[0].lines
    ] == [("overage", "card_operations", 5, Decimal("0.02"))]
    assert usage[0].subtotal_minor == 10  # €0.10


def test_u2_u6_a_claimed_code_takes_over_the_seats_held_on_the_free_plan(
    world: Database, clock: FixedClock
) -> None:
    """Codes pay first (U2): the plan's seat and the one recorded past it move onto the code."""
    for holder in ("ann", "bob"):
        seat(world, clock, "cafe", holder, take=True)
    before = read(world, lambda conn: usage_repo.open_holds(conn, "cafe", "staff_seats"))
    assert sorted(h.source_kind for h in before) == ["free_overage", "plan"]
    code = claim(world, clock, "cafe", typed(issue(world, clock, {"staff_seats": 3})))
    holds = read(world, lambda conn: usage_repo.open_holds(conn, "cafe", "staff_seats"))
    assert [h.source for h in holds] == [code.source, code.source]


# --- pause, resume (K5) --------------------------------------------------------------------------


def test_k5_the_partner_pauses_and_resumes_a_claimed_code(
    world: Database, clock: FixedClock
) -> None:
    code = claim(world, clock, "cafe", typed(issue(world, clock, {"card_operations": 5})))
    paused = run(world, lambda c: pause_code(c, clock, partner_id="brew", number=1, paused=True))
    assert paused.paused
    assert [d.kind.value for d in use(world, clock, "cafe").draws] == ["plan"]
    run(world, lambda c: pause_code(c, clock, partner_id="brew", number=1, paused=False))
    assert [d.source for d in use(world, clock, "cafe").draws] == [code.source]


def test_k5_a_code_can_be_paused_before_it_is_claimed_and_stays_paused(
    world: Database, clock: FixedClock
) -> None:
    code = issue(world, clock, {"card_operations": 5})
    run(world, lambda c: pause_code(c, clock, partner_id="brew", number=1, paused=True))
    claimed = claim(world, clock, "cafe", typed(code))
    assert claimed.paused
    assert [d.kind.value for d in use(world, clock, "cafe").draws] == ["plan"]


def test_k5_pause_refusals(world: Database, clock: FixedClock) -> None:
    issue(world, clock)
    run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1))

    def pause(partner: str, number: int) -> DomainError:
        return refused_before_writing(
            world,
            lambda c: pause_code(c, clock, partner_id=partner, number=number, paused=True),
        )

    assert refusal(pause("brew", 1)) == (Conflict, "code_revoked", "number")
    assert refusal(pause("brew", 2)) == (NotFound, "code_not_found", "number")
    assert refusal(pause("pos", 1)) == (NotFound, "code_not_found", "number")  # not theirs


# --- revoke (K5) ---------------------------------------------------------------------------------


def test_k5_an_unclaimed_code_is_revoked_once(world: Database, clock: FixedClock) -> None:
    issue(world, clock)
    first = run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1))
    clock.advance(timedelta(days=1))
    again = run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1))
    assert first.revoked_at == again.revoked_at == T0


def test_k5_a_claimed_code_never_used_can_be_revoked_and_stops_paying(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, "cafe", typed(issue(world, clock, {"card_operations": 5})))
    revoked = run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1))
    assert (revoked.account_id, revoked.revoked_at) == ("cafe", T0)
    assert [d.kind.value for d in use(world, clock, "cafe").draws] == ["plan"]


def test_k5_a_code_that_paid_for_one_operation_cannot_be_revoked(
    world: Database, clock: FixedClock
) -> None:
    claim(world, clock, "cafe", typed(issue(world, clock, {"card_operations": 5})))
    use(world, clock, "cafe")
    error = refused_before_writing(
        world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1)
    )
    assert refusal(error) == (Conflict, "code_in_use", "number")


def test_k5_a_seat_held_once_and_released_is_a_use(world: Database, clock: FixedClock) -> None:
    claim(world, clock, "shop", typed(issue(world, clock, {"staff_seats": 2})))
    seat(world, clock, "shop", "ann", take=True)
    seat(world, clock, "shop", "ann", take=False)
    error = refused_before_writing(
        world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=1)
    )
    assert refusal(error) == (Conflict, "code_in_use", "number")


def test_k5_revoke_of_another_partners_code_is_not_found(
    world: Database, clock: FixedClock
) -> None:
    issue(world, clock)
    error = refused_before_writing(
        world, lambda conn: revoke_code(conn, clock, partner_id="pos", number=1)
    )
    assert refusal(error) == (NotFound, "code_not_found", "number")


# --- listing (W3) --------------------------------------------------------------------------------


def test_w3_a_partner_lists_its_own_codes_only(world: Database, clock: FixedClock) -> None:
    issue(world, clock)
    issue(world, clock)
    issue(world, clock, partner="pos")
    assert [c.label for c in read(world, lambda conn: list_codes(conn, "brew"))] == [
        "Code #1",
        "Code #2",
    ]
    assert [c.partner_id for c in read(world, lambda conn: list_codes(conn, "pos"))] == ["pos"]
    error = refused_before_writing(world, lambda conn: list_codes(conn, "ghost"))
    assert refusal(error) == (NotFound, "partner_not_found", "partner_id")
