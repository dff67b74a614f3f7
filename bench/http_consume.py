"""Consume over HTTP on loopback, beside a bare ASGI endpoint on the same server stack.

The API runs as its own uvicorn processes — two on PostgreSQL (one per core),
one on SQLite (a single writer: more processes would only queue on its file
lock, and a busy SQLite sleeps) — with allot's default route threads (1 on SQLite,
3 on PostgreSQL; `Settings.route_threads`), which the bare endpoint gets too; the
load comes from wrk (C, epoll), so the load generator takes as little of the
machine as possible. Every request is a real consume with its own
Idempotency-Key, spread over 32 accounts with a key each. Rate limits are off:
the figure is the engine's, not the limiter's.

Beside each figure, in the same run, the same requests against a bare ASGI
endpoint (`_bare_asgi.py`) under the same uvicorn, process count and thread
pool, running the restated raw baseline's statements (`_baseline.py`): the
ratio is allot's requests/s over the bare endpoint's. Rounds alternate between
the two so machine drift hits both alike. The same consume in-process (no
HTTP) is measured last.

    .venv/bin/python bench/http_consume.py [--seconds 8] [--rounds 2] [--only sqlite]

Bar: >= 0.5x the bare endpoint at 1 and at 32 clients on both databases, and a
p99 at 32 clients no worse than 2x the bare endpoint's.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _baseline import create_postgresql, create_sqlite
from _harness import (
    databases,
    fixed_clock,
    machine_note,
    make_accounts,
    monotonic,
    print_table,
    psycopg_conninfo,
    raw_sqlite,
)
from allot.apikey.service import create_key
from allot.config import Settings
from allot.kit.db import Database
from allot.usage.service import consume

ACCOUNTS = 32
_runs = itertools.count()
LUA = """
local pairs_ = {%s}
local counter = 0
local threads = 0
-- keys unique across wrk's threads and runs: the run's tag (from Python) and the thread
function setup(thread)
  threads = threads + 1
  thread:set("tag", os.getenv("WRK_TAG") .. "-" .. threads)
end
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


def start_server(
    db: Database, workers: int, app: str = "allot.asgi:app"
) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn serving `app` (allot, or the bare endpoint) on a free loopback port."""
    port = free_port()
    env: dict[str, str] = {
        **os.environ,
        "ALLOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "BARE_DATABASE": str(db.url.database) if db.is_sqlite else psycopg_conninfo(db),
        "ALLOT_RATE_LIMIT": "off",
        "ALLOT_SQLITE_SYNCHRONOUS": "FULL",
        # allot's thread count for this database, given to the bare endpoint too
        "ALLOT_API_THREADS": str(Settings.from_env().route_threads(sqlite=db.is_sqlite)),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--app-dir",
            str(Path(__file__).parent),
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
        env={**os.environ, "WRK_TAG": f"run{next(_runs)}"},
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


def bare_tables(db: Database, accounts: list[str]) -> None:
    if db.is_sqlite:
        conn = raw_sqlite(db)
        create_sqlite(conn, accounts)
        conn.close()
    else:
        create_postgresql(psycopg_conninfo(db), accounts)


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    """Rounds of one side: mean requests/s, the worst p50 and p99, every bad answer."""
    return {
        "rps": sum(r["rps"] for r in runs) / len(runs),
        "p50": max(r["p50"] for r in runs),
        "p99": max(r["p99"] for r in runs),
        "bad": sum(r["bad"] + r["socket_errors"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per side and client count")
    parser.add_argument("--rounds", type=int, default=2, help="alternating allot/bare rounds")
    parser.add_argument("--workers", type=int, help="API processes (default: 1 SQLite, 2 PG)")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    print(f"http consume bench: {args.seconds:g} s per side and client count")
    print(machine_note(), flush=True)
    rows = []
    verdicts = []
    for db in databases(args.only):
        pairs = setup(db)
        bare_tables(db, [a for a, _ in pairs])
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(LUA % ", ".join(f'{{"{a}", "{k}"}}' for a, k in pairs))
        workers = args.workers or (1 if db.is_sqlite else 2)
        print(f"  {db.dialect}: {workers} API process(es)", flush=True)
        allot, allot_url = start_server(db, workers)
        bare, bare_url = start_server(db, workers, "_bare_asgi:app")
        try:
            for clients in (int(c) for c in args.clients.split(",")):
                runs: tuple[list[dict[str, float]], list[dict[str, float]]] = ([], [])
                for _ in range(args.rounds):  # alternate: drift hits both alike
                    runs[0].append(wrk(allot_url, script, clients, args.seconds / args.rounds))
                    runs[1].append(wrk(bare_url, script, clients, args.seconds / args.rounds))
                a, b = summary(runs[0]), summary(runs[1])
                ratio = a["rps"] / b["rps"]
                rows.append(
                    [db.dialect, clients, a["rps"], a["p50"], a["p99"], int(a["bad"]),
                     b["rps"], b["p99"], ratio]
                )  # fmt: skip
                print(
                    f"  {db.dialect:<10} {clients:>2} clients: allot {a['rps']:,.0f} req/s "
                    f"p99 {a['p99']:.1f} ms, bare {b['rps']:,.0f} req/s p99 {b['p99']:.1f} ms",
                    flush=True,
                )
                if clients in (1, 32):
                    verdicts.append((db.dialect, clients, ratio, a, b))
        finally:
            for proc in (allot, bare):
                proc.terminate()
                proc.wait(10)
            script.unlink()
        rate = in_process(db, pairs[0][0], min(args.seconds, 3))
        rows.append([db.dialect, "in-process", rate, None, None, 0, None, None, None])
    print_table(
        ["database", "clients", "req/s", "p50 ms", "p99 ms", "non-2xx", "bare req/s",
         "bare p99", "ratio"],
        rows,
        title="consume over HTTP (wrk on loopback), beside a bare ASGI endpoint, and in-process",
    )  # fmt: skip
    print()
    print("bar (issue): >= 0.5x the bare endpoint at 1 and 32 clients; p99 at 32 <= 2x bare's")
    for dialect, clients, ratio, a, b in verdicts:
        ok = ratio >= 0.5 and a["bad"] == 0
        line = f"  {dialect:<10} {clients:>2} clients: ratio {ratio:.2f} >= 0.5"
        if clients == 32:
            ok = ok and a["p99"] <= 2 * b["p99"]
            line += f", p99 {a['p99']:.1f} ms <= 2 x {b['p99']:.1f} ms"
        print(f"{line}  {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
