"""Every query of the API key domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.apikey.models import api_keys, idempotency_requests
from allot.kit import rawsql
from allot.kit.db import insert_for


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    prefix: str
    role: str
    subject: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


_COLUMNS = (
    api_keys.c.id,
    api_keys.c.prefix,
    api_keys.c.role,
    api_keys.c.subject,
    api_keys.c.label,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
)
# Every API request authenticates: straight on the driver (allot.kit.rawsql).
_LIVE_BY_HASH = rawsql.Statement(
    "SELECT id, role, subject FROM api_keys WHERE key_hash = :key_hash AND revoked_at IS NULL"
)


def live_by_hash(conn: Connection, key_hash: str) -> tuple[int, str, str | None] | None:
    """The id, role and subject of the unrevoked key with this hash."""
    row = _LIVE_BY_HASH.run(conn, {"key_hash": key_hash}).fetchone()
    return None if row is None else (int(row[0]), row[1], row[2])


def insert(
    conn: Connection,
    *,
    key_hash: str,
    prefix: str,
    role: str,
    subject: str | None,
    label: str,
    at: datetime,
) -> int:
    return int(
        conn.execute(
            sa.insert(api_keys)
            .values(
                key_hash=key_hash,
                prefix=prefix,
                role=role,
                subject=subject,
                label=label,
                created_at=at,
            )
            .returning(api_keys.c.id)
        ).scalar_one()
    )


def get(conn: Connection, key_id: int) -> KeyRow | None:
    row = conn.execute(sa.select(*_COLUMNS).where(api_keys.c.id == key_id)).one_or_none()
    return None if row is None else KeyRow(*row)


def list_all(conn: Connection) -> list[KeyRow]:
    return [KeyRow(*r) for r in conn.execute(sa.select(*_COLUMNS).order_by(api_keys.c.id))]


def revoke(conn: Connection, key_id: int, at: datetime) -> None:
    conn.execute(sa.update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=at))


def find_request(conn: Connection, scope: str, key: str) -> tuple[str, int, Any] | None:
    row = conn.execute(
        sa.select(
            idempotency_requests.c.request_hash,
            idempotency_requests.c.status,
            idempotency_requests.c.response,
        ).where(idempotency_requests.c.scope == scope, idempotency_requests.c.key == key)
    ).one_or_none()
    return None if row is None else (row.request_hash, int(row.status), row.response)


def claim_request(
    conn: Connection, *, scope: str, key: str, request_hash: str, at: datetime
) -> bool:
    """Claim a key for this transaction; False if another request holds or held it.

    A concurrent holder makes this wait (the unique key) until it commits or
    rolls back, so the caller then sees its response or gets the claim.
    """
    stmt = insert_for(conn, idempotency_requests).values(
        scope=scope,
        key=key,
        request_hash=request_hash,
        status=0,
        response={},
        created_at=at,
    )
    claimed = stmt.on_conflict_do_nothing().returning(idempotency_requests.c.key)
    return conn.execute(claimed).first() is not None


def complete_request(conn: Connection, *, scope: str, key: str, status: int, response: Any) -> None:
    conn.execute(
        sa.update(idempotency_requests)
        .where(idempotency_requests.c.scope == scope, idempotency_requests.c.key == key)
        .values(status=status, response=response)
    )
