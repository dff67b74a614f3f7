"""Consume over HTTP on loopback: 1, 8 and 32 concurrent clients, SQLite and PostgreSQL.

The API runs as its own uvicorn processes — two on PostgreSQL (one per core),
one on SQLite (a single writer: more processes would only queue on its file
lock, and a busy SQLite sleeps) — with the default 3 route threads each; the
load comes from wrk (C, epoll), so the load generator takes as
little of the machine as possible. Every request is a real consume with its
own Idempotency-Key, spread over 32 accounts with a key each. Rate limits are
off: the figure is the engine's, not the limiter's. Beside each database, the
same consume in-process (no HTTP) is measured in the same run.

Bar (issue 3) on a 2-core machine: >= 1,000 requests/s with 32 clients, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    databases,
    fixed_clock,
    machine_note,
    make_accounts,
    monotonic,
    print_table,
)
from allot.apikey.service import create_key
from allot.kit.db import Database
from allot.usage.service import consume

ACCOUNTS = 32
LUA = """
local pairs_ = {%s}
local counter = 0
local tag = tostring(math.random(1, 2^30))
wrk.method = "POST"
wrk.body = '{"metric": "card_operations", "quantity": 1}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local pair = pairs_[(counter %% #pairs_) + 1]
  wrk.headers["Authorization"] = "Bearer " .. pair[2]
  wrk.headers["Idempotency-Key"] = tag .. "-" .. counter
  return wrk.format(nil, "/v1/accounts/" .. pair[1] .. "/consume")
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(db: Database) -> list[tuple[str, str]]:
    clock = fixed_clock()
    ids = [f"http-{i}" for i in range(ACCOUNTS)]
    make_accounts(db, clock, ids)
    pairs = []
    with db.transaction() as conn:
        for account_id in ids:
            pairs.append(
                (account_id, create_key(conn, clock, role="account", subject=account_id)[1])
            )
    return pairs


def start_server(db: Database, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "ALLOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "ALLOT_RATE_LIMIT": "off",
        "ALLOT_SQLITE_SYNCHRONOUS": "FULL",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "allot.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = monotonic() + 30
    while monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    time.sleep(0.5 * workers)  # every worker up
    return proc, url


def wrk(url: str, script: Path, clients: int, seconds: float) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(clients, 2)}",
            f"-c{clients}",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)

    def latency(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "bad": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def in_process(db: Database, account_id: str, seconds: float) -> float:
    clock = fixed_clock()
    done = 0
    stop = monotonic() + seconds
    while monotonic() < stop:
        with db.transaction() as conn:
            consume(
                conn,
                clock,
                account_id=account_id,
                metric="card_operations",
                quantity=1,
                idempotency_key=f"inproc-{done}",
            )
        done += 1
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, help="API processes (default: 1 SQLite, 2 PG)")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    print(f"http consume bench: {args.seconds:g} s per run")
    print(machine_note(), flush=True)
    rows = []
    for db in databases(args.only):
        pairs = setup(db)
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(LUA % ", ".join(f'{{"{a}", "{k}"}}' for a, k in pairs))
        workers = args.workers or (1 if db.is_sqlite else 2)
        print(f"  {db.dialect}: {workers} API process(es)", flush=True)
        proc, url = start_server(db, workers)
        try:
            for clients in (int(c) for c in args.clients.split(",")):
                r = wrk(url, script, clients, args.seconds)
                rows.append([db.dialect, clients, r["rps"], r["p50"], r["p99"], int(r["bad"])])
                print(
                    f"  {db.dialect:<10} {clients:>2} clients: {r['rps']:,.0f} req/s "
                    f"p99 {r['p99']:.1f} ms",
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(10)
            script.unlink()
        rate = in_process(db, pairs[0][0], min(args.seconds, 3))
        rows.append([db.dialect, "in-process", rate, None, None, 0])
    print_table(
        ["database", "clients", "req/s", "p50 ms", "p99 ms", "non-2xx"],
        rows,
        title="consume over HTTP (wrk on loopback) and in-process",
    )
    print()
    print("bar (issue): >= 1,000 requests/s with 32 clients, p99 <= 50 ms")
    for row in rows:
        if row[1] == 32:
            ok = row[2] >= 1000 and row[4] <= 50 and row[5] == 0
            print(
                f"  {row[0]:<10} {row[2]:,.0f} req/s, p99 {row[4]:.1f} ms  "
                f"{'PASS' if ok else 'FAIL'}"
            )


if __name__ == "__main__":
    main()
