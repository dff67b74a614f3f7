"""W3 sign-in: argon2 passwords, TOTP codes good once, a lockout after five failures in a
row that is committed although the attempt is refused, e-mailed one-time links for a
partner's users, sessions that end — and none of it in the audit log but the fact."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from allot.audit.service import Search, search
from allot.core.errors import Conflict, DomainError, Forbidden, InvalidInput, Unauthenticated
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.notify.models import emails
from allot.partner.service import enroll_partner
from allot.user import service as users
from allot.user.models import user_links

PASSWORD = "correct horse battery"


@pytest.fixture
def world(db: Database, clock: FixedClock) -> Database:
    with db.transaction() as conn:
        enroll_partner(
            conn, clock, partner_id="agency-1", name="Agency One", kind="agency",
            contact="hello@agency.example", currency="EUR", wholesale_discount="0.3", prices={},
        )  # fmt: skip
        users.create_user(conn, clock, user_id="ana", role="operator-admin", password=PASSWORD)
        users.create_user(
            conn, clock, user_id="pat", role="partner", partner_id="agency-1",
            email="Pat@Agency.example", password=PASSWORD,
        )  # fmt: skip
    return db


def sign_in(db: Database, clock: FixedClock, password: str = PASSWORD, **kw: str) -> object:
    with db.transaction() as conn:  # committed, refused or not
        return users.sign_in(conn, clock, user_id=kw.pop("user", "ana"), password=password, **kw)


def test_w3_a_user_signs_in_with_its_password_and_its_session_names_it(
    world: Database, clock: FixedClock
) -> None:
    session = sign_in(world, clock)
    assert isinstance(session, users.Session)
    with world.read() as conn:
        live = users.session_of(conn, clock, secret=session.secret)
        stored = users.get_user(conn, "ana").password_hash
    assert (live.id, live.role, live.may_change, live.operator) == (
        "ana",
        "operator-admin",
        True,
        True,
    )
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_w3_every_refusal_looks_the_same(world: Database, clock: FixedClock) -> None:
    assert sign_in(world, clock, "wrong password!") is None
    assert sign_in(world, clock, user="nobody") is None
    assert sign_in(world, clock, user="x" * 500) is None
    assert sign_in(world, clock, "") is None


def test_w3_five_failures_in_a_row_lock_the_user_for_15_minutes(
    world: Database, clock: FixedClock
) -> None:
    for _ in range(4):
        assert sign_in(world, clock, "wrong password!") is None
    assert sign_in(world, clock) is not None  # a success before the fifth resets the count
    for _ in range(5):
        assert sign_in(world, clock, "wrong password!") is None
    assert sign_in(world, clock) is None  # locked: even the right password
    clock.advance(timedelta(minutes=14, seconds=59))
    assert sign_in(world, clock) is None
    clock.advance(timedelta(seconds=1))
    assert sign_in(world, clock) is not None
    with world.read() as conn:
        locked = search(conn, Search(change="user.locked"))
    assert len(locked) == 1
    assert locked[0].after is not None
    assert "password_hash" not in locked[0].after


def test_w3_the_operator_unlocks_a_locked_user(world: Database, clock: FixedClock) -> None:
    for _ in range(5):
        sign_in(world, clock, "wrong password!")
    with world.transaction() as conn:
        users.unlock_user(conn, clock, user_id="ana")
    assert sign_in(world, clock) is not None


def test_w3_with_totp_on_a_code_is_needed_and_is_good_once(
    world: Database, clock: FixedClock
) -> None:
    with world.transaction() as conn:
        _, secret, uri = users.enable_totp(conn, clock, user_id="ana")
    assert uri.startswith("otpauth://totp/allot:ana?secret=")
    code = pyotp.TOTP(secret).at(clock.now())
    assert sign_in(world, clock) is None  # the password alone
    assert sign_in(world, clock, code="000000" if code != "000000" else "111111") is None
    assert sign_in(world, clock, code=code) is not None
    assert sign_in(world, clock, code=code) is None  # replayed
    clock.advance(timedelta(seconds=30))
    assert sign_in(world, clock, code=pyotp.TOTP(secret).at(clock.now())) is not None
    with world.read() as conn:
        logged = json.dumps([e.after for e in search(conn, Search(subject_id="ana"))])
    assert secret not in logged


def test_w3_a_new_password_or_disabling_ends_the_users_sessions(
    world: Database, clock: FixedClock
) -> None:
    first = sign_in(world, clock)
    assert isinstance(first, users.Session)
    with world.transaction() as conn:
        users.set_password(conn, clock, user_id="ana", password="another long password")
    with world.read() as conn, pytest.raises(Unauthenticated):
        users.session_of(conn, clock, secret=first.secret)
    assert sign_in(world, clock, "another long password") is not None
    with world.transaction() as conn:
        users.disable_user(conn, clock, user_id="ana")
    assert sign_in(world, clock, "another long password") is None


def test_w3_a_session_ends_on_sign_out_and_after_8_hours(
    world: Database, clock: FixedClock
) -> None:
    one, two = sign_in(world, clock), sign_in(world, clock)
    assert isinstance(one, users.Session)
    assert isinstance(two, users.Session)
    with world.transaction() as conn:
        users.end_session(conn, clock, secret=one.secret)
    with world.read() as conn:
        with pytest.raises(Unauthenticated):
            users.session_of(conn, clock, secret=one.secret)
        users.session_of(conn, clock, secret=two.secret)
    clock.advance(timedelta(hours=8))
    with world.read() as conn, pytest.raises(Unauthenticated):
        users.session_of(conn, clock, secret=two.secret)


def test_w3_a_partners_user_signs_in_by_a_link_used_once(
    world: Database, clock: FixedClock
) -> None:
    with world.transaction() as conn:
        sent = users.email_link(
            conn, clock, address="pat@agency.EXAMPLE", url_of=lambda t: f"https://x/{t}"
        )
        assert users.email_link(conn, clock, address="nobody@agency.example", url_of=str) == 0
    assert sent == 1
    with world.read() as conn:
        body = conn.execute(sa.select(emails.c.body, emails.c.to_address)).one()
    assert body.to_address == "pat@agency.example"
    token = body.body.split("https://x/")[1].split()[0]
    with world.transaction() as conn:
        session = users.sign_in_by_link(conn, clock, token=token)
        assert users.session_of(conn, clock, secret=session.secret).partner_id == "agency-1"
    with world.transaction() as conn, pytest.raises(Forbidden):
        users.sign_in_by_link(conn, clock, token=token)


def test_w3_links_expire_and_are_rationed(world: Database, clock: FixedClock) -> None:
    with world.transaction() as conn:
        for _ in range(7):
            users.email_link(conn, clock, address="pat@agency.example", url_of=str)
        tokens = conn.execute(sa.select(sa.func.count()).select_from(user_links)).scalar_one()
    assert tokens == users.LINKS_PER_HOUR
    with world.transaction() as conn:
        users.email_link(conn, clock, address="pat@agency.example", url_of=lambda t: f"T{t}T")
    clock.advance(timedelta(hours=1))
    with world.transaction() as conn:
        assert (
            users.email_link(conn, clock, address="pat@agency.example", url_of=lambda t: f"T{t}T")
            == 1
        )
        body = conn.execute(
            sa.select(emails.c.body).order_by(emails.c.id.desc()).limit(1)
        ).scalar_one()
    clock.advance(users.LINK_LIFETIME)
    with world.transaction() as conn, pytest.raises(Forbidden):
        users.sign_in_by_link(conn, clock, token=body.split("T")[1])


@pytest.mark.parametrize(
    ("values", "error", "field"),
    [
        ({"user_id": "Bad Name"}, InvalidInput, "user"),
        ({"role": "root"}, InvalidInput, "role"),
        ({"password": "short"}, InvalidInput, "password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, InvalidInput, "password"),
        ({"partner_id": "agency-1"}, InvalidInput, "partner"),
        ({"role": "partner"}, InvalidInput, "partner"),
        ({"role": "partner", "partner_id": "nobody"}, DomainError, "partner_id"),
        ({"role": "partner", "partner_id": "agency-1", "password": None}, InvalidInput, "password"),
        ({"email": "not an address"}, InvalidInput, "email"),
        ({"locale": "fr"}, InvalidInput, "locale"),
        ({"user_id": "ana"}, Conflict, "user"),
    ],
)
def test_w3_a_bad_user_is_refused_naming_its_field(
    world: Database,
    clock: FixedClock,
    values: dict[str, object],
    error: type[DomainError],
    field: str,
) -> None:
    wanted: dict[str, object] = {
        "user_id": "new",
        "role": "operator-support",
        "password": PASSWORD,
        **values,
    }
    with world.transaction() as conn, pytest.raises(error) as caught:
        users.create_user(conn, clock, **wanted)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_w3_support_may_read_but_not_change(world: Database, clock: FixedClock) -> None:
    with world.transaction() as conn:
        users.create_user(conn, clock, user_id="sam", role="operator-support", password=PASSWORD)
    session = sign_in(world, clock, user="sam")
    assert isinstance(session, users.Session)
    with world.read() as conn:
        live = users.session_of(conn, clock, secret=session.secret)
    assert (live.operator, live.may_change) == (True, False)
