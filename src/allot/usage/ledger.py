"""Reading the ledger: an account's entries in sequence order, filtered and paged."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.core.errors import InvalidInput
from allot.core.periods import Month
from allot.usage.repository import ledger as ledger_repo


def entries(
    conn: Connection,
    *,
    account_id: str,
    month: str | None = None,
    metric: str | None = None,
    source: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> list[Any]:
    get_account(conn, account_id)
    if not 1 <= limit <= 1000:
        raise InvalidInput("invalid_limit", "limit must be 1-1000", field="limit")
    period = None if month is None else Month.from_input(month).key
    return ledger_repo.entries_page(
        conn, account_id, period=period, metric=metric, source=source, after=after, limit=limit
    )
