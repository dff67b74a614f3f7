"""Signing in to the admin and the partner portal (W3): passwords, TOTP, links, lockouts.

A password is kept as an argon2id hash (`argon2-cffi`, its recommended parameters) and
re-hashed when those parameters change. With TOTP on (RFC 6238, `pyotp`), a sign-in
also needs the authenticator's code, each good once. A partner user may instead ask for
a one-time link at its e-mail address. `MAX_FAILURES` failures in a row lock the user for
`LOCKOUT`; every refusal says the same thing, so the form tells no one which names exist
or which part was wrong. Sessions are as the business's (`allot.portal`): a cookie whose
secret is stored hashed, with a CSRF token for every form.

A failed attempt must be counted even though it is refused, so `sign_in` *returns* its
refusal (`None`) and the entry point commits before it answers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy.engine import Connection

from allot import audit
from allot.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from allot.kit import validate
from allot.kit.acting import Actor, ActorKind, act_as, identify
from allot.kit.clock import Clock
from allot.kit.i18n import LANGUAGES
from allot.notify.letters import compose
from allot.notify.models import EmailKind
from allot.notify.service import queue_email
from allot.partner.service import get_partner
from allot.user import repository as repo
from allot.user.models import UserRole
from allot.user.repository import UserRow

ROLES = tuple(UserRole)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
LINK_LIFETIME = timedelta(minutes=15)
LINKS_PER_HOUR = 5
PASSWORD_MIN, PASSWORD_MAX = 12, 256
TOTP_STEP = 30
HIDDEN = ("password_hash", "totp_secret", "totp_last_step")  # never in the audit log


@cache
def _hasher():  # type: ignore[no-untyped-def]  # argon2 is imported on first use
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """What an unknown name is checked against, so it takes as long as a known one."""
    return str(_hasher().hash(secrets.token_urlsafe(16)))


@dataclass(frozen=True, slots=True)
class Session:
    secret: str  # the cookie's value, never stored
    user_id: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LiveUser:
    """A signed-in user as a request finds it."""

    id: str
    role: str
    partner_id: str | None
    csrf_token: str
    locale: str  # the language of its pages unless the browser chose another

    @property
    def may_change(self) -> bool:
        """operator-support reads everything and changes nothing."""
        return self.role != UserRole.OPERATOR_SUPPORT

    @property
    def operator(self) -> bool:
        return self.role in (UserRole.OPERATOR_ADMIN, UserRole.OPERATOR_SUPPORT)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _actor(user: UserRow) -> Actor:
    return Actor(ActorKind.USER, user.id, user.role, user.partner_id)


def _log(conn: Connection, clock: Clock, change: str, was: UserRow | None, now: UserRow) -> None:
    audit.record(
        conn, clock, change=change, subject_kind="user", subject_id=now.id,
        partner_id=now.partner_id, before=was, after=now, hide=HIDDEN,
    )  # fmt: skip


def get_user(conn: Connection, user_id: str, *, lock: bool = False) -> UserRow:
    found = repo.get(conn, user_id, lock=lock)
    if found is None:
        raise NotFound("user_not_found", f"no user {user_id!r}", field="user")
    return found


def _check_password(password: str) -> str:
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(
            "weak_password",
            f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters",
            field="password",
        )
    if len(set(password)) < 4:
        raise InvalidInput(
            "weak_password", "a password needs more than a few letters repeated", field="password"
        )
    return password


def _locale(lang: str) -> str:
    if lang not in LANGUAGES:
        raise InvalidInput("invalid_language", f"one of {', '.join(LANGUAGES)}", field="locale")
    return lang


def create_user(
    conn: Connection,
    clock: Clock,
    *,
    user_id: str,
    role: str,
    partner_id: str | None = None,
    email: str | None = None,
    password: str | None = None,
    locale: str = "en",
) -> UserRow:
    """An operator user (a password is required) or a partner's user (a password, or an
    e-mail address to receive sign-in links, or both)."""
    validate.identifier(user_id, field="user")
    if role not in ROLES:
        raise InvalidInput("invalid_role", f"role must be one of {', '.join(ROLES)}", field="role")
    if role == UserRole.PARTNER:
        if partner_id is None:
            raise InvalidInput(
                "partner_required", "a partner user needs --partner", field="partner"
            )
        get_partner(conn, partner_id)
    elif partner_id is not None:
        raise InvalidInput(
            "partner_not_allowed", "an operator user acts for no partner", field="partner"
        )
    address = None if email is None else validate.email(email, field="email").lower()
    if password is None and (role != UserRole.PARTNER or address is None):
        raise InvalidInput(
            "password_required",
            "a password is required (a partner's user may sign in by e-mail link instead)",
            field="password",
        )
    if repo.get(conn, user_id) is not None:
        raise Conflict("user_exists", f"user {user_id!r} already exists", field="user")
    row = UserRow(
        id=user_id, role=role, partner_id=partner_id, email=address, locale=_locale(locale),
        password_hash=None if password is None else _hasher().hash(_check_password(password)),
        totp_secret=None, totp_last_step=None, failed_attempts=0, locked_until=None,
        created_at=clock.now(), disabled_at=None,
    )  # fmt: skip
    repo.insert(conn, row)
    _log(conn, clock, "user.created", None, row)
    return row


def _change(conn: Connection, clock: Clock, user_id: str, change: str, **values: object) -> UserRow:
    was = get_user(conn, user_id, lock=True)
    repo.update(conn, user_id, **values)
    now = get_user(conn, user_id)
    _log(conn, clock, change, was, now)
    return now


def set_password(conn: Connection, clock: Clock, *, user_id: str, password: str) -> UserRow:
    """A new password; every open session of the user ends."""
    hashed = _hasher().hash(_check_password(password))
    done = _change(conn, clock, user_id, "user.password_set", password_hash=hashed)
    repo.end_sessions_of(conn, user_id, clock.now())
    return done


def enable_totp(conn: Connection, clock: Clock, *, user_id: str) -> tuple[UserRow, str, str]:
    """TOTP on: the secret and its otpauth:// URI, shown once, for the authenticator app."""
    import pyotp

    secret = pyotp.random_base32()
    done = _change(
        conn, clock, user_id, "user.totp_enabled", totp_secret=secret, totp_last_step=None
    )
    uri = pyotp.TOTP(secret).provisioning_uri(name=user_id, issuer_name="allot")
    return done, secret, uri


def disable_totp(conn: Connection, clock: Clock, *, user_id: str) -> UserRow:
    return _change(
        conn, clock, user_id, "user.totp_disabled", totp_secret=None, totp_last_step=None
    )


def disable_user(conn: Connection, clock: Clock, *, user_id: str) -> UserRow:
    """The user signs in no more; its sessions end now."""
    done = _change(conn, clock, user_id, "user.disabled", disabled_at=clock.now())
    repo.end_sessions_of(conn, user_id, clock.now())
    return done


def unlock_user(conn: Connection, clock: Clock, *, user_id: str) -> UserRow:
    return _change(conn, clock, user_id, "user.unlocked", failed_attempts=0, locked_until=None)


def _totp_step(user: UserRow, code: str | None, at: datetime) -> int | None:
    """The time step a fresh, valid code belongs to (one step of drift either way)."""
    import pyotp

    if user.totp_secret is None or not code or not code.isdigit() or len(code) != 6:
        return None
    totp, now_step = pyotp.TOTP(user.totp_secret), int(at.timestamp()) // TOTP_STEP
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code) and step > (
            user.totp_last_step or -1
        ):
            return step
    return None


def sign_in(
    conn: Connection, clock: Clock, *, user_id: str, password: str, code: str | None = None
) -> Session | None:
    """A session, or None — and the failure counted (commit it): a wrong name, password or
    code, a locked or disabled user all look the same."""
    now = clock.now()
    user = (
        repo.get(conn, user_id, lock=True)
        if isinstance(user_id, str) and len(user_id) <= 64
        else None
    )
    stored = None if user is None else user.password_hash
    good = _verify(stored, password)
    if user is None or user.disabled_at is not None:
        return None
    act_as(conn, _actor(user))
    if user.locked_until is not None and user.locked_until > now:
        return None
    step = None
    if good and user.totp_secret is not None:
        step = _totp_step(user, code, now)
        good = step is not None
    if not good:
        _failed(conn, clock, user)
        return None
    if stored is not None and _hasher().check_needs_rehash(stored):
        repo.update(conn, user.id, password_hash=_hasher().hash(password))
    repo.update(
        conn,
        user.id,
        failed_attempts=0,
        locked_until=None,
        totp_last_step=step if step is not None else user.totp_last_step,
    )
    return _open(conn, clock, user)


def _verify(stored: str | None, password: object) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not isinstance(password, str) or not 0 < len(password) <= PASSWORD_MAX:
        return False
    try:
        return bool(_hasher().verify(stored or _dummy_hash(), password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _failed(conn: Connection, clock: Clock, user: UserRow) -> None:
    failures = user.failed_attempts + 1
    if failures < MAX_FAILURES:
        repo.update(conn, user.id, failed_attempts=failures)
        return
    _change(
        conn, clock, user.id, "user.locked", failed_attempts=0, locked_until=clock.now() + LOCKOUT
    )


def _open(conn: Connection, clock: Clock, user: UserRow) -> Session:
    now = clock.now()
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    repo.insert_session(
        conn, id_hash=_hash(secret), user_id=user.id, csrf_token=csrf, at=now, expires_at=expires
    )
    audit.record(
        conn, clock, change="user.signed_in", subject_kind="user", subject_id=user.id,
        partner_id=user.partner_id, after={"expires_at": expires},
    )  # fmt: skip
    return Session(secret, user.id, csrf, expires)


def email_link(
    conn: Connection, clock: Clock, *, address: str, url_of: Callable[[str], str]
) -> int:
    """A partner's user asks for a sign-in link at its address: each active user there gets
    one, at most `LINKS_PER_HOUR` an hour each; the answer is the same whatever happened."""
    checked = validate.email(address, field="email").lower()
    since = clock.now() - timedelta(hours=1)
    queued = 0
    for user in repo.by_email(conn, checked, role=UserRole.PARTNER, limit=5):
        if repo.links_since(conn, user.id, since) >= LINKS_PER_HOUR:
            continue
        token = secrets.token_urlsafe(32)
        now = clock.now()
        repo.insert_link(
            conn, token_hash=_hash(token), user_id=user.id, at=now, expires_at=now + LINK_LIFETIME
        )
        assert user.partner_id is not None
        partner = get_partner(conn, user.partner_id)
        letter = compose(
            "partner_sign_in_link", user.locale, name=partner.name, url=url_of(token),
            minutes=int(LINK_LIFETIME.total_seconds() // 60),
        )  # fmt: skip
        queue_email(
            conn, clock, kind=EmailKind.PARTNER_SIGN_IN_LINK, to=checked, letter=letter,
            partner_id=user.partner_id,
        )  # fmt: skip
        queued += 1
    return queued


def sign_in_by_link(conn: Connection, clock: Clock, *, token: str) -> Session:
    """Spend a link (once, within `LINK_LIFETIME`) and open its user's session."""
    user_id = repo.use_link(conn, _hash(token), clock.now()) if len(token) <= 128 else None
    user = None if user_id is None else repo.get(conn, user_id)
    if user is None or user.disabled_at is not None:
        raise Forbidden(
            "sign_in_link_invalid", "this link has expired or was used already: ask for a new one"
        )
    act_as(conn, _actor(user))
    return _open(conn, clock, user)


def session_of(conn: Connection, clock: Clock, *, secret: str | None) -> LiveUser:
    """The signed-in user a cookie names (Unauthenticated if none), now the request's actor."""
    found = (
        repo.live_session(conn, _hash(secret), clock.now())
        if secret and len(secret) <= 128
        else None
    )
    user = None if found is None else repo.get(conn, found.user_id)
    if found is None or user is None or user.disabled_at is not None:
        raise Unauthenticated("user_session_required", "sign in to continue")
    identify(conn, _actor(user))
    return LiveUser(user.id, user.role, user.partner_id, found.csrf_token, user.locale)


def check_csrf(user: LiveUser, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(presented, user.csrf_token):
        raise Forbidden("csrf_token_invalid", "the form's CSRF token is missing or wrong")


def end_session(conn: Connection, clock: Clock, *, secret: str | None) -> None:
    if secret and len(secret) <= 128:
        repo.end_session(conn, _hash(secret), clock.now())


def list_users(conn: Connection) -> list[UserRow]:
    return repo.listing(conn)
