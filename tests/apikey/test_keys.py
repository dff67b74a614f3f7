"""API keys: created with their secret shown once and stored only as a hash, scoped to a role and
a tenant, revoked at once; issued only for an account or partner that exists (W4: no key reaches
another tenant's data). Every refusal by code and field, writing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.apikey import repository as repo
from allot.apikey.repository import KeyRow
from allot.apikey.service import (
    Principal,
    authenticate,
    check_subject,
    create_key,
    list_keys,
    revoke_key,
)
from allot.billing.keys import issue_key
from allot.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.kit.security import hash_key
from tests.domains import (
    add_account,
    add_partner,
    read,
    refusal,
    refused_before_writing,
    run,
    snapshot,
)
from tests.factories import load


@pytest.fixture
def tenants(db: Database, clock: FixedClock) -> Database:
    load(db, clock)
    add_account(db, clock, "cafe")
    add_account(db, clock, "bakery")
    add_partner(db, clock, "brew")
    return db


def key(
    db: Database, clock: FixedClock, role: str, subject: str | None = None, label: str = ""
) -> tuple[KeyRow, str]:
    return run(db, lambda conn: issue_key(conn, clock, role=role, subject=subject, label=label))


def who(db: Database, secret: str | None) -> Principal:
    return read(db, lambda conn: authenticate(conn, secret))


def test_a_key_is_shown_once_and_stored_only_as_its_hash(
    tenants: Database, clock: FixedClock
) -> None:
    row, secret = key(tenants, clock, "account", "cafe", "till")
    assert secret.startswith("allot_ac_")
    assert len(secret) > 40
    assert (row.role, row.subject, row.label, row.created_at, row.revoked_at) == (
        "account",
        "cafe",
        "till",
        clock.now(),
        None,
    )
    assert row.prefix == secret[:12]
    stored = snapshot(tenants)
    everything = "".join(r for rows in stored.values() for r in rows)
    assert secret not in everything
    assert secret[12:] not in everything  # not even the part after the shown prefix
    assert hash_key(secret) in everything


@pytest.mark.parametrize(
    ("role", "subject", "prefix", "label"),
    [
        ("operator", None, "allot_op_", "operator key"),
        ("partner", "brew", "allot_pa_", "partner key"),
        ("account", "bakery", "allot_ac_", "account key"),
    ],
)
def test_w4_each_role_authenticates_as_itself(
    tenants: Database, clock: FixedClock, role: str, subject: str | None, prefix: str, label: str
) -> None:
    row, secret = key(tenants, clock, role, subject)
    assert secret.startswith(prefix)
    assert row.label == label
    assert who(tenants, secret) == Principal(row.id, role, subject)


def test_two_keys_never_share_a_secret(tenants: Database, clock: FixedClock) -> None:
    secrets = {key(tenants, clock, "account", "cafe")[1] for _ in range(20)}
    assert len(secrets) == 20


@pytest.mark.parametrize(
    ("secret", "code"),
    [(None, "missing_api_key"), ("", "missing_api_key"), ("allot_op_guess", "invalid_api_key")],
)
def test_w4_no_key_or_an_unknown_one_is_unauthenticated(
    tenants: Database, clock: FixedClock, secret: str | None, code: str
) -> None:
    key(tenants, clock, "operator")
    with pytest.raises(Unauthenticated) as caught:
        who(tenants, secret)
    assert (caught.value.code, caught.value.field) == (code, None)


def test_w4_a_revoked_key_stops_at_once_and_revoking_again_changes_nothing(
    tenants: Database, clock: FixedClock
) -> None:
    row, secret = key(tenants, clock, "account", "cafe")
    clock.advance(timedelta(minutes=1))
    revoked = run(tenants, lambda conn: revoke_key(conn, clock, key_id=row.id))
    assert revoked.revoked_at == clock.now()
    with pytest.raises(Unauthenticated) as caught:
        who(tenants, secret)
    assert caught.value.code == "invalid_api_key"
    clock.advance(timedelta(days=1))
    assert run(tenants, lambda conn: revoke_key(conn, clock, key_id=row.id)) == revoked


def test_an_unknown_key_cannot_be_revoked(tenants: Database, clock: FixedClock) -> None:
    error = refused_before_writing(tenants, lambda conn: revoke_key(conn, clock, key_id=404))
    assert refusal(error) == (NotFound, "key_not_found", "key_id")


def test_keys_are_listed_oldest_first_revoked_ones_too(
    tenants: Database, clock: FixedClock
) -> None:
    first, _ = key(tenants, clock, "operator")
    second, _ = key(tenants, clock, "partner", "brew")
    run(tenants, lambda conn: revoke_key(conn, clock, key_id=first.id))
    listed = read(tenants, list_keys)
    assert [(k.id, k.revoked_at is not None) for k in listed] == [
        (first.id, True),
        (second.id, False),
    ]


@pytest.mark.parametrize(
    ("role", "subject", "expected"),
    [
        ("admin", None, (InvalidInput, "invalid_role", "role")),
        ("operator", "cafe", (InvalidInput, "subject_not_allowed", "for")),
        ("account", None, (InvalidInput, "subject_required", "for")),
        ("partner", None, (InvalidInput, "subject_required", "for")),
        ("account", "no spaces", (InvalidInput, "invalid_identifier", "for")),
        ("account", "ghost", (NotFound, "account_not_found", "account_id")),
        ("partner", "ghost", (NotFound, "partner_not_found", "partner_id")),
        ("partner", "cafe", (NotFound, "partner_not_found", "partner_id")),  # an account
        ("account", "brew", (NotFound, "account_not_found", "account_id")),  # a partner
    ],
)
def test_w4_a_key_is_issued_only_for_a_role_and_a_tenant_that_exist(
    tenants: Database,
    clock: FixedClock,
    role: str,
    subject: str | None,
    expected: tuple[object, ...],
) -> None:
    def call(conn: Connection) -> object:
        return issue_key(conn, clock, role=role, subject=subject)

    assert refusal(refused_before_writing(tenants, call)) == expected


def test_create_key_checks_the_role_whatever_the_caller(tenants: Database) -> None:
    for role, subject in (("root", None), ("operator", "cafe"), ("account", None)):
        with pytest.raises(InvalidInput):
            check_subject(role, subject)
    check_subject("operator", None)
    check_subject("account", "not-yet-created")  # that it exists is issue_key's to check


@pytest.mark.parametrize("label", ["x" * 201, "a\x00b"])
def test_a_label_that_cannot_be_stored_is_refused_by_name(
    tenants: Database, clock: FixedClock, label: str
) -> None:
    def call(conn: Connection) -> object:
        return create_key(conn, clock, role="operator", subject=None, label=label)

    error = refused_before_writing(tenants, call)
    assert (type(error), error.field) == (InvalidInput, "label")


# --- what a principal may see -----------------------------------------------------------------


def test_w4_an_account_key_sees_its_own_account_only_and_others_look_missing(
    tenants: Database, clock: FixedClock
) -> None:
    _, secret = key(tenants, clock, "account", "cafe")
    cafe = who(tenants, secret)
    assert cafe.may_see_account("cafe")
    assert not cafe.may_see_account("bakery")
    cafe.require_account("cafe")
    with pytest.raises(NotFound) as other:
        cafe.require_account("bakery")
    with pytest.raises(NotFound) as missing:
        cafe.require_account("ghost")
    assert (other.value.code, other.value.field) == ("account_not_found", "account_id")
    assert other.value.code == missing.value.code
    with pytest.raises(NotFound) as partner:
        cafe.require_partner("brew")
    assert (partner.value.code, partner.value.field) == ("partner_not_found", "partner_id")
    with pytest.raises(Forbidden) as operator:
        cafe.require_operator()
    assert (operator.value.code, operator.value.field) == ("operator_only", None)


def test_w4_a_partner_key_sees_its_partner_and_no_account(
    tenants: Database, clock: FixedClock
) -> None:
    _, secret = key(tenants, clock, "partner", "brew")
    brew = who(tenants, secret)
    brew.require_partner("brew")
    assert not brew.may_see_account("cafe")
    with pytest.raises(NotFound):
        brew.require_partner("other")
    with pytest.raises(NotFound):
        brew.require_account("cafe")


def test_w4_an_operator_key_sees_everyone(tenants: Database, clock: FixedClock) -> None:
    _, secret = key(tenants, clock, "operator")
    operator = who(tenants, secret)
    operator.require_operator()
    operator.require_partner("brew")
    operator.require_account("ghost")  # whether it exists is the route's to say
    assert operator.may_see_account("bakery")


def test_s3_a_tenants_keys_share_one_idempotency_space_and_operators_each_have_one(
    tenants: Database, clock: FixedClock
) -> None:
    till = who(tenants, key(tenants, clock, "account", "cafe")[1])
    office = who(tenants, key(tenants, clock, "account", "cafe")[1])
    first = who(tenants, key(tenants, clock, "operator")[1])
    second = who(tenants, key(tenants, clock, "operator")[1])
    assert till.scope == office.scope == "account:cafe"
    assert first.scope != second.scope
    assert first.scope == f"operator:{first.key_id}"


def test_the_database_refuses_an_operator_key_for_a_tenant(
    tenants: Database, clock: FixedClock
) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        run(
            tenants,
            lambda conn: repo.insert(
                conn,
                key_hash="h",
                prefix="p",
                role="operator",
                subject="cafe",
                label="l",
                at=clock.now(),
            ),
        )
    assert read(tenants, list_keys) == []
