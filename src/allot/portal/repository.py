"""Every query of the portal's links and sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.portal.models import portal_links, portal_sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    account_id: str
    csrf_token: str
    expires_at: datetime


def insert_link(
    conn: Connection, *, token_hash: str, account_id: str, at: datetime, expires_at: datetime
) -> None:
    conn.execute(
        sa.insert(portal_links).values(
            token_hash=token_hash, account_id=account_id, created_at=at, expires_at=expires_at
        )
    )


def use_link(conn: Connection, token_hash: str, at: datetime) -> str | None:
    """Mark a link used and return its account, if it is unused and unexpired; else None.
    One statement: two browsers opening the same link cannot both succeed."""
    return conn.execute(
        sa.update(portal_links)
        .where(
            portal_links.c.token_hash == token_hash,
            portal_links.c.used_at.is_(None),
            portal_links.c.expires_at > at,
        )
        .values(used_at=at)
        .returning(portal_links.c.account_id)
    ).scalar_one_or_none()


def insert_session(
    conn: Connection,
    *,
    id_hash: str,
    account_id: str,
    csrf_token: str,
    at: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        sa.insert(portal_sessions).values(
            id_hash=id_hash,
            account_id=account_id,
            csrf_token=csrf_token,
            created_at=at,
            expires_at=expires_at,
        )
    )


def live_session(conn: Connection, id_hash: str, at: datetime) -> SessionRow | None:
    row = conn.execute(
        sa.select(
            portal_sessions.c.account_id,
            portal_sessions.c.csrf_token,
            portal_sessions.c.expires_at,
        ).where(
            portal_sessions.c.id_hash == id_hash,
            portal_sessions.c.ended_at.is_(None),
            portal_sessions.c.expires_at > at,
        )
    ).one_or_none()
    return None if row is None else SessionRow(*row)


def end_session(conn: Connection, id_hash: str, at: datetime) -> None:
    conn.execute(
        sa.update(portal_sessions)
        .where(portal_sessions.c.id_hash == id_hash, portal_sessions.c.ended_at.is_(None))
        .values(ended_at=at)
    )
