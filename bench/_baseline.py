"""The raw consume baseline, one definition for the in-process and the HTTP benches.

What U1 and U3 require of a ledger row, and no more: one transaction with one
conditional UPDATE of a counter row and one INSERT of a ledger row carrying
the account, the idempotency key (under a unique index) and the paying source,
through the bare DB-API driver — sqlite3 with allot's pragmas and
`BEGIN IMMEDIATE`, psycopg 3 for PostgreSQL — on tables of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

UPDATE = "UPDATE bench_counters SET used = used + 1 WHERE key = {p} AND used + 1 <= granted"
INSERT = (
    "INSERT INTO bench_ledger (account_id, idempotency_key, source, quantity, occurred_at)"
    " VALUES ({p}, {p}, 'grant:1', 1, {p})"
)
COUNTERS = (
    "CREATE TABLE bench_counters (key TEXT PRIMARY KEY, used BIGINT NOT NULL,"
    " granted BIGINT NOT NULL, CHECK (used <= granted))"
)
# U1: the key is unique per account; U3: the row names who paid
LEDGER = (
    "CREATE TABLE bench_ledger (seq {seq} PRIMARY KEY, account_id TEXT NOT NULL,"
    " idempotency_key TEXT NOT NULL, source TEXT NOT NULL, quantity INTEGER NOT NULL,"
    " occurred_at {at} NOT NULL, UNIQUE (account_id, idempotency_key))"
)
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_SQLITE_AT = AT.replace(tzinfo=None).isoformat(sep=" ")
_SQLITE_UPDATE, _SQLITE_INSERT = UPDATE.format(p="?"), INSERT.format(p="?")
_PG_UPDATE, _PG_INSERT = UPDATE.format(p="%s"), INSERT.format(p="%s")


def create_sqlite(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(COUNTERS)
    conn.execute(LEDGER.format(seq="INTEGER", at="TEXT"))
    conn.executemany(
        "INSERT INTO bench_counters (key, used, granted) VALUES (?, 0, ?)",
        [(k, 10**12) for k in keys],
    )
    conn.execute("COMMIT")


def create_postgresql(conninfo: str, keys: Sequence[str]) -> None:
    with psycopg.connect(conninfo) as conn:
        conn.execute(COUNTERS)
        conn.execute(LEDGER.format(seq="bigserial", at="timestamptz"))
        conn.cursor().executemany(
            "INSERT INTO bench_counters (key, used, granted) VALUES (%s, 0, %s)",
            [(k, 10**12) for k in keys],
        )


def sqlite_unit(conn: sqlite3.Connection, key: str, idempotency_key: str) -> None:
    """One unit on a bare sqlite3 connection in autocommit mode (isolation_level None)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute(_SQLITE_UPDATE, (key,)).rowcount != 1:
            raise AssertionError("counter full")
        conn.execute(_SQLITE_INSERT, (key, idempotency_key, _SQLITE_AT))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def postgresql_unit(conn: psycopg.Connection[Any], key: str, idempotency_key: str) -> None:
    """One unit on a bare psycopg connection (its implicit transaction)."""
    try:
        with conn.cursor() as cur:
            cur.execute(_PG_UPDATE, (key,))
            if cur.rowcount != 1:
                raise AssertionError("counter full")
            cur.execute(_PG_INSERT, (key, idempotency_key, AT))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
