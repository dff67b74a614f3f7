"""Every query of the e-mail outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.notify.models import emails

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class EmailRow:
    id: int
    kind: str
    partner_id: str | None
    account_id: str | None
    grant_id: int | None
    to_address: str
    reply_to: str | None
    subject: str
    body: str
    html: str | None
    message_key: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    lease_until: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


def _rows(result: Any) -> list[EmailRow]:
    return [EmailRow(**r._mapping) for r in result]


def insert(conn: Connection, **values: Any) -> int:
    return int(
        conn.execute(
            sa.insert(emails).values(state=PENDING, attempts=0, **values).returning(emails.c.id)
        ).scalar_one()
    )


def get(conn: Connection, email_id: int) -> EmailRow | None:
    found = _rows(conn.execute(sa.select(emails).where(emails.c.id == email_id)))
    return found[0] if found else None


def of_grant(conn: Connection, grant_id: int) -> list[EmailRow]:
    return _rows(
        conn.execute(sa.select(emails).where(emails.c.grant_id == grant_id).order_by(emails.c.id))
    )


def count_of_grant(conn: Connection, grant_id: int) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(emails).where(emails.c.grant_id == grant_id)
        ).scalar_one()
    )


def lease_due(conn: Connection, *, now: datetime, until: datetime, limit: int) -> list[EmailRow]:
    """Lease up to `limit` due messages, oldest first (SKIP LOCKED on PostgreSQL, as webhooks)."""
    e = emails.c
    ids = [
        int(i)
        for i in conn.execute(
            sa.select(e.id)
            .where(
                e.state == PENDING,
                e.next_attempt_at <= now,
                sa.or_(e.lease_until.is_(None), e.lease_until <= now),
            )
            .order_by(e.next_attempt_at, e.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    ]
    if not ids:
        return []
    conn.execute(sa.update(emails).where(e.id.in_(ids)).values(lease_until=until))
    return _rows(conn.execute(sa.select(emails).where(e.id.in_(ids)).order_by(e.id)))


def settle(conn: Connection, *, email_id: int, attempts_before: int, **values: Any) -> bool:
    """Record an attempt, unless another worker settled this message meanwhile."""
    e = emails.c
    result = conn.execute(
        sa.update(emails)
        .where(e.id == email_id, e.state == PENDING, e.attempts == attempts_before)
        .values(lease_until=None, **values)
    )
    return result.rowcount == 1


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(emails.c.state, sa.func.count()).group_by(emails.c.state))
    return {str(state): int(n) for state, n in rows}


def recent(conn: Connection, *, state: str | None, limit: int) -> Sequence[EmailRow]:
    stmt = sa.select(emails).order_by(emails.c.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(emails.c.state == state)
    return _rows(conn.execute(stmt))


def count_to(conn: Connection, address: str, *, kind: str, since: datetime) -> int:
    """How many e-mails of `kind` were queued to `address` since then."""
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(emails)
            .where(
                emails.c.to_address == address,
                emails.c.kind == kind,
                emails.c.created_at >= since,
            )
        ).scalar_one()
    )
