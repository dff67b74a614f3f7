"""Statements run straight on the driver, inside the caller's SQLAlchemy transaction.

The consume hot path pays SQLAlchemy's per-statement machinery (cache-key
lookup, result wrapping: ~25 µs a statement here) several times per unit;
`Statement` skips it for the few statements that run on every unit. One
text serves both drivers: written with `:name` placeholders (sqlite3) and
translated once to `%(name)s` (psycopg). Keep `%` and `::` out of the text.

Values must already be what the column stores: `instant()` turns a UTC
datetime into what `UTCDateTime` stores on each backend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

_PLACEHOLDER = re.compile(r"(?<![:\w]):(\w+)")


class Statement:
    __slots__ = ("postgresql", "sqlite")

    def __init__(self, text: str) -> None:
        if "%" in text or "::" in text:
            raise ValueError("keep '%' and '::' out of a raw statement")
        self.sqlite = text
        self.postgresql = _PLACEHOLDER.sub(r"%(\1)s", text)

    def _driver(self, conn: Connection) -> tuple[Any, str]:
        dbapi = conn.connection.driver_connection
        if conn.dialect.name == "sqlite":
            return dbapi, self.sqlite
        return dbapi, self.postgresql

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Execute and return the driver's cursor (fetchone / fetchall / rowcount)."""
        dbapi, text = self._driver(conn)
        return dbapi.execute(text, params)

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        dbapi, text = self._driver(conn)
        if conn.dialect.name == "sqlite":
            dbapi.executemany(text, rows)
        else:
            with dbapi.cursor() as cur:
                cur.executemany(text, rows)


def instant(conn: Connection, at: datetime) -> Any:
    """An aware datetime as `UTCDateTime` stores it: naive UTC text on SQLite, as is elsewhere."""
    if at.tzinfo is None:
        raise ValueError("naive datetime refused")
    if conn.dialect.name == "sqlite":
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return at
