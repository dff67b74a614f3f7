"""Queue an e-mail in the caller's transaction; `allot.notify.smtp` sends it after commit."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Connection

from allot.core.errors import InvalidInput
from allot.kit import validate
from allot.kit.clock import Clock
from allot.kit.validate import LINE_BREAKS
from allot.notify import repository as repo
from allot.notify.letters import Letter
from allot.notify.models import EmailKind, EmailState
from allot.notify.repository import EmailRow

MAX_SUBJECT = 300


def is_address(value: str) -> bool:
    try:
        validate.email(value, field="address")
    except InvalidInput:
        return False
    return True


def queue_email(
    conn: Connection,
    clock: Clock,
    *,
    kind: EmailKind,
    to: str,
    letter: Letter,
    reply_to: str | None = None,
    partner_id: str | None = None,
    account_id: str | None = None,
    grant_id: int | None = None,
) -> EmailRow:
    """One message for the outbox, due now; the worker sends it once the transaction commits
    (its plain text, and its HTML beside it)."""
    if kind not in tuple(EmailKind):
        raise InvalidInput("invalid_email_kind", f"no e-mail of kind {kind!r}", field="kind")
    address = validate.email(to, field="to")
    subject = letter.subject
    if any(ch in subject for ch in LINE_BREAKS) or not 0 < len(subject) <= MAX_SUBJECT:
        raise InvalidInput(
            "invalid_subject", f"one line of 1-{MAX_SUBJECT} characters", field="subject"
        )
    now = clock.now()
    email_id = repo.insert(
        conn,
        kind=kind,
        partner_id=partner_id,
        account_id=account_id,
        grant_id=grant_id,
        to_address=address,
        reply_to=None if reply_to is None else validate.email(reply_to, field="reply_to"),
        subject=subject,
        body=letter.text,
        html=letter.html or None,
        message_key=secrets.token_hex(16),
        next_attempt_at=now,
        created_at=now,
    )
    found = repo.get(conn, email_id)
    assert found is not None
    return found


def outbox(conn: Connection, *, state: str | None = None, limit: int = 100) -> list[EmailRow]:
    """The e-mail outbox, newest first: pending, sent or failed (the admin's view)."""
    if state is not None and state not in set(EmailState):
        raise InvalidInput("invalid_state", "state is pending, sent or failed", field="state")
    return list(repo.recent(conn, state=state, limit=limit))
