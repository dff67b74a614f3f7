"""The grant tables' own guarantees (K2, K3): a code is claimed once, numbers and texts are
unique, terms run forwards, allowances are positive — enforced by the database itself, so two
requests that both passed a service's checks cannot both commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from allot.grant import repository as repo
from allot.grant.repository import GrantRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from tests.domains import add_account, add_partner, read, run
from tests.factories import load

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def setup(db: Database, clock: FixedClock) -> Database:
    load(db, clock)
    add_account(db, clock, "cafe")
    add_account(db, clock, "bakery")
    add_partner(db, clock, "brew")
    add_partner(db, clock, "pos")
    return db


def insert(
    db: Database,
    *,
    account_id: str | None = None,
    partner_id: str | None = "brew",
    number: int | None = None,
    code: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    allowances: Mapping[str, int] | None = None,
) -> int:
    return run(
        db,
        lambda conn: repo.insert(
            conn,
            account_id=account_id,
            label="Code",
            issuer="Brew",
            starts_at=starts_at,
            ends_at=ends_at,
            issued_at=T0,
            claimed_at=None if account_id is None else T0,
            allowances=allowances or {"card_operations": 18},
            partner_id=partner_id,
            number=number,
            code=code,
        ),
    )


def get(db: Database, grant_id: int) -> GrantRow:
    found = read(db, lambda conn: repo.get(conn, grant_id))
    assert found is not None
    return found


def test_k2_a_code_is_claimed_once_and_the_second_claimant_is_told_no(setup: Database) -> None:
    code = insert(setup, number=1, code="AAAA")
    at = T0 + timedelta(days=1)
    assert run(setup, lambda conn: repo.claim(conn, code, "cafe", at)) is True
    assert run(setup, lambda conn: repo.claim(conn, code, "bakery", at)) is False
    assert run(setup, lambda conn: repo.claim(conn, code, "cafe", at)) is False
    claimed = get(setup, code)
    assert (claimed.account_id, claimed.claimed_at) == ("cafe", at)
    assert [g.id for g in read(setup, lambda conn: repo.for_account(conn, "bakery"))] == []


def test_k5_a_revoked_code_cannot_be_claimed(setup: Database) -> None:
    code = insert(setup, number=1, code="AAAA")
    run(setup, lambda conn: repo.revoke(conn, code, T0))
    assert run(setup, lambda conn: repo.claim(conn, code, "cafe", T0)) is False
    assert get(setup, code).account_id is None
    assert get(setup, code).revoked_at == T0
    assert not get(setup, code).active_at(T0 + timedelta(days=1))


def test_k2_numbers_run_per_partner_from_1(setup: Database) -> None:
    def following(partner: str) -> int:
        return read(setup, lambda conn: repo.next_number(conn, partner))

    assert (following("brew"), following("pos")) == (1, 1)
    insert(setup, number=1, code="A1")
    insert(setup, number=2, code="A2")
    insert(setup, partner_id="pos", number=1, code="B1")
    assert (following("brew"), following("pos")) == (3, 2)
    found = read(setup, lambda conn: repo.by_number(conn, "pos", 1))
    assert found is not None
    assert (found.partner_id, found.code) == ("pos", "B1")
    assert read(setup, lambda conn: repo.by_number(conn, "pos", 2)) is None
    assert [g.code for g in read(setup, lambda conn: repo.of_partner(conn, "brew"))] == [
        "A1",
        "A2",
    ]


def test_k2_a_partner_cannot_hold_two_codes_of_one_number(setup: Database) -> None:
    insert(setup, number=1, code="A1")
    with pytest.raises(sa.exc.IntegrityError):
        insert(setup, number=1, code="A2")
    assert [g.code for g in read(setup, lambda conn: repo.of_partner(conn, "brew"))] == ["A1"]


def test_k2_two_codes_cannot_share_a_text(setup: Database) -> None:
    insert(setup, number=1, code="SAME")
    with pytest.raises(sa.exc.IntegrityError):
        insert(setup, partner_id="pos", number=1, code="SAME")
    found = read(setup, lambda conn: repo.by_code(conn, "SAME"))
    assert found is not None
    assert found.partner_id == "brew"


def test_k3_the_database_refuses_a_term_that_ends_before_it_starts(setup: Database) -> None:
    at = datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(sa.exc.IntegrityError):
        insert(setup, account_id="cafe", partner_id=None, starts_at=at, ends_at=at)
    assert read(setup, lambda conn: repo.for_account(conn, "cafe")) == []


def test_k1_the_database_refuses_an_allowance_of_zero(setup: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        insert(setup, account_id="cafe", partner_id=None, allowances={"card_operations": 0})
    assert read(setup, lambda conn: repo.count_for_account(conn, "cafe")) == 0


def test_k1_an_allowance_names_a_metric_of_the_catalog(setup: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        insert(setup, account_id="cafe", partner_id=None, allowances={"sms": 3})
    assert read(setup, lambda conn: repo.count_for_account(conn, "cafe")) == 0


def test_k6_a_grant_reads_back_every_allowance_and_only_its_own(setup: Database) -> None:
    first = insert(
        setup,
        account_id="cafe",
        partner_id=None,
        allowances={"card_operations": 18, "staff_seats": 36},
    )
    second = insert(setup, account_id="cafe", partner_id=None, allowances={"orders": 7})
    insert(setup, account_id="bakery", partner_id=None)
    found = read(setup, lambda conn: repo.for_account(conn, "cafe"))
    assert [(g.id, dict(g.allowances)) for g in found] == [
        (first, {"card_operations": 18, "staff_seats": 36}),
        (second, {"orders": 7}),
    ]
    assert read(setup, lambda conn: repo.count_for_account(conn, "cafe")) == 2
    assert read(setup, lambda conn: repo.get(conn, 999)) is None
