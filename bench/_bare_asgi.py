"""A bare ASGI consume endpoint: the restated baseline's statements behind uvicorn.

`POST /v1/accounts/{id}/consume` with allot's body and headers: it reads the
body and parses its JSON, takes the Idempotency-Key, runs the baseline's two
statements in one transaction (`_baseline.py`) on the same thread pool size as
allot's routes (`ALLOT_API_THREADS`, SQLite writers serialized by a lock as
allot does) and answers a small JSON body. No framework, no key check, no
validation: what the same server stack costs around the least a database must
do. `bench/http_consume.py` runs it as `uvicorn _bare_asgi:app` with
BARE_DATABASE (a SQLite file path or a libpq URL).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any

import anyio
import anyio.to_thread
import psycopg

from _baseline import postgresql_unit, sqlite_unit

TARGET = os.environ["BARE_DATABASE"]
THREADS = int(os.environ["ALLOT_API_THREADS"])  # allot's, set by http_consume.py
_local = threading.local()
_write_lock = threading.Lock()


def _unit(key: str, idempotency_key: str) -> None:
    if TARGET.startswith("postgresql"):
        conn = getattr(_local, "conn", None)
        if conn is None:
            conn = _local.conn = psycopg.connect(TARGET)
        postgresql_unit(conn, key, idempotency_key)
        return
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(TARGET, check_same_thread=False, timeout=60)
        conn.isolation_level = None
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=60000"):
            conn.execute(f"PRAGMA {pragma}")
    with _write_lock:
        sqlite_unit(conn, key, idempotency_key)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    request = json.loads(body)
    account = scope["path"].split("/")[3]
    headers = dict(scope["headers"])
    await anyio.to_thread.run_sync(_unit, account, headers[b"idempotency-key"].decode())
    answer = json.dumps(
        {"allowed": True, "source": "grant:1", "quantity": request["quantity"]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": answer})
