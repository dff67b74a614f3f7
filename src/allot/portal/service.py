"""Portal links and sessions (W1): how a business reaches its billing page without an API key.

The platform asks for a link for one account (`open_link`), as Stripe's billing-portal
sessions work: a secret in a URL, valid once and for `LINK_LIFETIME`. Opening it starts a
browser session (`start_session`): another secret, in an HttpOnly, SameSite cookie, valid for
`SESSION_LIFETIME`, with a CSRF token that every form sends back (`check_csrf`). Only the
secrets' hashes are stored, so a copy of the database opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from allot.account import repository as account_repo
from allot.account.service import get_account
from allot.core.errors import Forbidden, Unauthenticated
from allot.kit import validate
from allot.kit.acting import Actor, ActorKind, identify
from allot.kit.clock import Clock
from allot.notify import repository as mail_repo
from allot.notify.letters import compose
from allot.notify.models import EmailKind
from allot.notify.service import queue_email
from allot.portal import repository as repo

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
SIGN_IN_PER_HOUR = 5  # sign-in e-mails to one address an hour, whatever the accounts
SIGN_IN_ACCOUNTS = 5  # accounts billed at one address that one ask reaches


@dataclass(frozen=True, slots=True)
class Link:
    token: str  # the secret of the URL, shown once
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    secret: str  # the cookie's value
    account_id: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session as a request finds it (the cookie's secret is not kept)."""

    account_id: str
    csrf_token: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_link(conn: Connection, clock: Clock, *, account_id: str) -> Link:
    """A single-use link to the account's billing page, valid for `LINK_LIFETIME`."""
    get_account(conn, account_id)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + LINK_LIFETIME
    repo.insert_link(
        conn, token_hash=_hash(token), account_id=account_id, at=now, expires_at=expires
    )
    return Link(token, expires)


def email_sign_in(
    conn: Connection, clock: Clock, *, address: str, url_of: Callable[[str], str]
) -> int:
    """W1: a business that lost its link asks for one by e-mail, at its billing address.

    Every account billed at `address` gets a link, e-mailed there in its language; the caller
    answers the same whatever happened, so the form tells no one which addresses are on file.
    At most `SIGN_IN_PER_HOUR` e-mails an hour go to one address, however many accounts it
    bills and however often it is asked (more asks queue nothing)."""
    checked = validate.email(address, field="email").lower()
    since = clock.now() - timedelta(hours=1)
    sent = mail_repo.count_to(conn, checked, kind=EmailKind.SIGN_IN_LINK, since=since)
    room = min(SIGN_IN_PER_HOUR - sent, SIGN_IN_ACCOUNTS)
    if room <= 0:
        return 0
    queued = 0
    for account in account_repo.by_billing_email(conn, checked, limit=room):
        link = open_link(conn, clock, account_id=account.id)
        letter = compose(
            "sign_in_link", account.locale, name=account.name, url=url_of(link.token),
            minutes=int(LINK_LIFETIME.total_seconds() // 60),
        )  # fmt: skip
        queue_email(
            conn, clock, kind=EmailKind.SIGN_IN_LINK, to=checked, letter=letter,
            account_id=account.id,
        )  # fmt: skip
        queued += 1
    return queued


def start_session(conn: Connection, clock: Clock, *, token: str) -> Session:
    """Use a link (once) and open its account's session."""
    now = clock.now()
    account_id = repo.use_link(conn, _hash(token), now) if len(token) <= 128 else None
    if account_id is None:
        raise Forbidden(
            "portal_link_invalid",
            "this link has expired or was used already: ask for a new one where you found it",
        )
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    repo.insert_session(
        conn, id_hash=_hash(secret), account_id=account_id, csrf_token=csrf, at=now,
        expires_at=expires,
    )  # fmt: skip
    return Session(secret, account_id, csrf, expires)


def session_of(conn: Connection, clock: Clock, *, secret: str | None) -> LiveSession:
    """The live session a cookie names; Unauthenticated if none (ended, expired, unknown)."""
    found = None
    if secret and len(secret) <= 128:
        found = repo.live_session(conn, _hash(secret), clock.now())
    if found is None:
        raise Unauthenticated(
            "portal_session_required",
            "your session has ended: open the billing page again from your account",
        )
    identify(conn, Actor(ActorKind.PORTAL, found.account_id, "account", found.account_id))
    return LiveSession(found.account_id, found.csrf_token, found.expires_at)


def check_csrf(session: LiveSession, presented: str | None) -> None:
    """A form's CSRF token must be its session's (compared in constant time)."""
    if not presented or not hmac.compare_digest(presented, session.csrf_token):
        raise Forbidden("csrf_token_invalid", "the form's CSRF token is missing or wrong")


def end_session(conn: Connection, clock: Clock, *, secret: str | None) -> None:
    if secret:
        repo.end_session(conn, _hash(secret), clock.now())
