"""Issuing an API key for an account or a partner that exists (apikey, account, partner)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.apikey.repository import KeyRow
from allot.apikey.service import check_subject, create_key
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
    return create_key(conn, clock, role=role, subject=subject, label=label)
