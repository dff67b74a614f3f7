"""Every query of users, their sessions and links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.kit.db import for_update
from allot.user.models import user_links, user_sessions, users


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    role: str
    partner_id: str | None
    email: str | None
    locale: str
    password_hash: str | None
    totp_secret: str | None
    totp_last_step: int | None
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRow:
    user_id: str
    csrf_token: str
    expires_at: datetime


def insert(conn: Connection, row: UserRow) -> None:
    conn.execute(sa.insert(users).values(**{f: getattr(row, f) for f in UserRow.__slots__}))


def get(conn: Connection, user_id: str, *, lock: bool = False) -> UserRow | None:
    stmt = sa.select(users).where(users.c.id == user_id)
    found = conn.execute(for_update(conn, stmt) if lock else stmt).one_or_none()
    return None if found is None else UserRow(**found._mapping)


def by_email(conn: Connection, email: str, *, role: str, limit: int) -> list[UserRow]:
    rows = conn.execute(
        sa.select(users)
        .where(users.c.email == email, users.c.role == role, users.c.disabled_at.is_(None))
        .order_by(users.c.id)
        .limit(limit)
    )
    return [UserRow(**r._mapping) for r in rows]


def listing(conn: Connection) -> list[UserRow]:
    return [UserRow(**r._mapping) for r in conn.execute(sa.select(users).order_by(users.c.id))]


def update(conn: Connection, user_id: str, **values: Any) -> None:
    conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))


def insert_session(
    conn: Connection, *, id_hash: str, user_id: str, csrf_token: str, at: datetime,
    expires_at: datetime,
) -> None:  # fmt: skip
    conn.execute(
        sa.insert(user_sessions).values(
            id_hash=id_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=at,
            expires_at=expires_at,
        )
    )


def live_session(conn: Connection, id_hash: str, at: datetime) -> SessionRow | None:
    s = user_sessions
    row = conn.execute(
        sa.select(s.c.user_id, s.c.csrf_token, s.c.expires_at).where(
            s.c.id_hash == id_hash, s.c.ended_at.is_(None), s.c.expires_at > at
        )
    ).one_or_none()
    return None if row is None else SessionRow(*row)


def end_session(conn: Connection, id_hash: str, at: datetime) -> None:
    s = user_sessions
    conn.execute(
        sa.update(s).where(s.c.id_hash == id_hash, s.c.ended_at.is_(None)).values(ended_at=at)
    )


def end_sessions_of(conn: Connection, user_id: str, at: datetime) -> None:
    """Every open session of the user (a new password, a disabled user)."""
    s = user_sessions
    conn.execute(
        sa.update(s).where(s.c.user_id == user_id, s.c.ended_at.is_(None)).values(ended_at=at)
    )


def insert_link(
    conn: Connection, *, token_hash: str, user_id: str, at: datetime, expires_at: datetime
) -> None:
    conn.execute(
        sa.insert(user_links).values(
            token_hash=token_hash, user_id=user_id, created_at=at, expires_at=expires_at
        )
    )


def use_link(conn: Connection, token_hash: str, at: datetime) -> str | None:
    """Spend an unused, unexpired link in one statement; its user, or None."""
    link = user_links
    return conn.execute(
        sa.update(link)
        .where(link.c.token_hash == token_hash, link.c.used_at.is_(None), link.c.expires_at > at)
        .values(used_at=at)
        .returning(link.c.user_id)
    ).scalar_one_or_none()


def links_since(conn: Connection, user_id: str, since: datetime) -> int:
    link = user_links
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(link)
            .where(link.c.user_id == user_id, link.c.created_at > since)
        ).scalar_one()
    )
