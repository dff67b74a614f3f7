"""Issuing and revoking API keys (apikey, account, partner), each into the audit log.

`allot.apikey` lies below the audit log (every request's key check runs through it), so
its two changes are recorded here, where the CLI makes them."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from allot import audit
from allot.account.service import get_account
from allot.apikey.repository import KeyRow
from allot.apikey.service import check_subject, create_key, get_key, revoke_key
from allot.kit.clock import Clock
from allot.partner.service import get_partner


def issue_key(
    conn: Connection, clock: Clock, *, role: str, subject: str | None, label: str = ""
) -> tuple[KeyRow, str]:
    """A new key for the operator, or for an existing account or partner; its secret once."""
    check_subject(role, subject)
    if role == "account" and subject is not None:
        get_account(conn, subject)
    elif role == "partner" and subject is not None:
        get_partner(conn, subject)
    row, secret = create_key(conn, clock, role=role, subject=subject, label=label)
    _log(conn, clock, "api_key.created", None, row)
    return row, secret


def revoke(conn: Connection, clock: Clock, *, key_id: int) -> KeyRow:
    """Revoke a key at once (its secret stops working in every process)."""
    was = get_key(conn, key_id)
    row = revoke_key(conn, clock, key_id=key_id)
    _log(conn, clock, "api_key.revoked", was, row)
    return row


def _log(conn: Connection, clock: Clock, change: str, was: KeyRow | None, now: KeyRow) -> None:
    audit.record(
        conn, clock, change=change, subject_kind="api_key", subject_id=now.id,
        account_id=now.subject if now.role == "account" else None,
        partner_id=now.subject if now.role == "partner" else None,
        before=was, after=now,
    )  # fmt: skip
