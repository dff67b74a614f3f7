"""The referral tables' own guarantees (A4): nobody refers itself, a reward is never credited
past what was earned, a code belongs to one program — enforced by the database itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.referral import repository as repo
from tests.domains import add_account, read, run


@pytest.fixture
def accounts(db: Database, clock: FixedClock) -> Database:
    for account in ("cafe", "bakery"):
        add_account(db, clock, account)
    return db


def test_a4_the_database_refuses_a_self_referral(accounts: Database, clock: FixedClock) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        run(
            accounts,
            lambda conn: repo.insert_referral(
                conn, referred="cafe", referrer="cafe", code="X", currency="EUR", at=clock.now()
            ),
        )
    assert read(accounts, lambda conn: repo.referral_of(conn, "cafe")) is None


def test_a4_the_database_refuses_to_credit_more_than_was_earned(
    accounts: Database, clock: FixedClock
) -> None:
    run(
        accounts,
        lambda conn: repo.insert_referral(
            conn, referred="bakery", referrer="cafe", code="X", currency="EUR", at=clock.now()
        ),
    )
    with pytest.raises(sa.exc.IntegrityError):  # nothing earned yet
        run(accounts, lambda conn: repo.apply(conn, "bakery", 1))
    assert run(
        accounts,
        lambda conn: repo.earn(conn, "bakery", reward_minor=2900, invoice_id=1, at=clock.now()),
    )
    assert not run(
        accounts,
        lambda conn: repo.earn(conn, "bakery", reward_minor=5000, invoice_id=2, at=clock.now()),
    )
    run(accounts, lambda conn: repo.apply(conn, "bakery", 2900))
    with pytest.raises(sa.exc.IntegrityError):
        run(accounts, lambda conn: repo.apply(conn, "bakery", 1))
    found = read(accounts, lambda conn: repo.referral_of(conn, "bakery"))
    assert found is not None
    assert (found.reward_minor, found.applied_minor, found.earned_invoice_id) == (2900, 2900, 1)


def test_a4_two_programs_cannot_share_a_code(accounts: Database, clock: FixedClock) -> None:
    run(
        accounts,
        lambda conn: repo.insert_program(conn, account_id="cafe", code="C", at=clock.now()),
    )
    with pytest.raises(sa.exc.IntegrityError):
        run(
            accounts,
            lambda conn: repo.insert_program(conn, account_id="bakery", code="C", at=clock.now()),
        )
    found = read(accounts, lambda conn: repo.program_by_code(conn, "C"))
    assert found is not None
    assert found.account_id == "cafe"
