"""The charging round (P1) with the sandbox gateway, beside the invoice run and a raw baseline,
all measured in the same run on the same database.

N accounts (default 2,000) each have one monthly subscription (the bench plan, EUR 29)
and a good sandbox test card on file. The invoice run issues N invoices; then the
worker's charging round (`Collector.round`, batches of 100) runs until nothing is due:
it opens a collection per invoice and charges each one — an attempt recorded under the
account's lock, the sandbox called outside any transaction (its own SQLite file, its
own commit), the outcome recorded and the invoice marked paid. Timed from start to end.

The raw baseline is the least a driver must do for one charge with the same shape: on
bare DB-API connections (sqlite3 with allot's pragmas and `BEGIN IMMEDIATE`; psycopg 3),
one transaction that inserts an attempt row, one INSERT in a provider's own SQLite file,
one transaction that marks the attempt and the invoice paid, on tables of its own.

    .venv/bin/python bench/payments.py [--accounts 2000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from _harness import (
    Database,
    FixedClock,
    PostgresUnavailable,
    backend,
    backend_list,
    loud_notice,
    machine_note,
    monotonic,
    print_table,
    psycopg_conninfo,
    raw_sqlite,
)
from allot.billing.collect import Collector
from allot.invoice.models import invoices
from allot.invoice.run import run
from allot.payment.models import payment_customers, payment_methods
from allot.payment.sandbox import SandboxGateway
from billing_run import RUN_AT, SET_UP_AT, account_id, make_subscriptions

CARD = "4242424242424242"


def add_cards(db: Database, sandbox: SandboxGateway, n: int) -> None:
    """A good card for every account: one saved through the sandbox's own setup, the rest
    copies of its rows on both sides (allot's and the provider's)."""
    clock = FixedClock(SET_UP_AT)
    customer = sandbox.customer(account_id=account_id(0), email=None, name="Bench")
    setup = sandbox.start_card_setup(customer_ref=customer)
    sandbox.enter_card(setup_ref=setup.setup_ref, number=CARD, exp_month=12, exp_year=2030)
    card = sandbox.finish_card_setup(customer_ref=customer, setup_ref=setup.setup_ref)
    with sqlite3.connect(sandbox.path) as books:  # the provider's side, copied
        row = books.execute("SELECT * FROM cards WHERE ref = ?", (card.method_ref,)).fetchone()
        books.executemany(
            "INSERT INTO customers VALUES (?, ?, NULL, 'Bench')",
            ((f"{customer}-{i}", account_id(i)) for i in range(1, n)),
        )
        books.executemany(
            "INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            ((f"{card.method_ref}-{i}", f"{customer}-{i}", *row[2:9]) for i in range(1, n)),
        )
    now = clock.now()

    def ref(base: str, i: int) -> str:
        return base if i == 0 else f"{base}-{i}"

    with db.transaction() as conn:
        conn.execute(
            sa.insert(payment_customers),
            [
                {"account_id": account_id(i), "gateway": "sandbox",
                 "customer_ref": ref(customer, i), "created_at": now}
                for i in range(n)
            ],
        )  # fmt: skip
        conn.execute(
            sa.insert(payment_methods),
            [
                {"account_id": account_id(i), "gateway": "sandbox",
                 "method_ref": ref(card.method_ref, i), "brand": "visa", "last4": "4242",
                 "exp_month": 12, "exp_year": 2030, "state": "active", "created_at": now}
                for i in range(n)
            ],
        )  # fmt: skip


def measure(db: Database, n: int, tmp: Path) -> dict[str, float]:
    sandbox = SandboxGateway(tmp / "sandbox.db")
    make_subscriptions(db, n)
    add_cards(db, sandbox, n)
    clock = FixedClock(RUN_AT)
    t0 = monotonic()
    issued = len(run(db, clock).invoices)
    billed = monotonic() - t0
    assert issued == n, issued
    collector = Collector(db, clock, sandbox)
    t0 = monotonic()
    while collector.round(100) > 0:
        pass
    charged = monotonic() - t0
    with db.read() as conn:
        paid = conn.execute(
            sa.select(sa.func.count()).where(invoices.c.state == "paid")
        ).scalar_one()
    succeeded = [c for c in sandbox.charges() if c["status"] == "succeeded"]
    assert paid == len(succeeded) == n, (paid, len(succeeded), n)
    return {"billed": billed, "charged": charged}


# --- raw baseline --------------------------------------------------------------

RAW_DDL = (
    "CREATE TABLE bench_attempts (id {serial} PRIMARY KEY, invoice_id bigint NOT NULL, "
    "key {text} NOT NULL UNIQUE, amount_minor bigint NOT NULL, state {text} NOT NULL, "
    "provider_ref {text}, created_at {ts} NOT NULL, finished_at {ts})",
    "CREATE TABLE bench_invoices (id bigint PRIMARY KEY, state {text} NOT NULL)",
)
ATTEMPT = (
    "INSERT INTO bench_attempts (invoice_id, key, amount_minor, state, created_at) "
    "VALUES ({p}, {p}, 2900, 'pending', {p}) RETURNING id"
)
DONE = (
    "UPDATE bench_attempts SET state = 'succeeded', provider_ref = {p}, finished_at = {p} "
    "WHERE id = {p}"
)
PAID = "UPDATE bench_invoices SET state = 'paid' WHERE id = {p}"


def provider_books(tmp: Path) -> sqlite3.Connection:
    books = sqlite3.connect(tmp / "raw-provider.db", isolation_level=None)
    books.execute("PRAGMA journal_mode=WAL")
    books.execute("CREATE TABLE charges (key TEXT PRIMARY KEY, ref TEXT, amount INTEGER)")
    return books


def raw_sqlite_charges(db: Database, n: int, tmp: Path) -> float:
    conn, books = raw_sqlite(db), provider_books(tmp)
    try:
        for ddl in RAW_DDL:
            conn.execute(
                ddl.format(text="TEXT", serial="INTEGER", ts="TEXT").replace("bigint", "INTEGER")
            )
        conn.executemany(
            "INSERT INTO bench_invoices VALUES (?, 'finalized')", ((i,) for i in range(n))
        )
        attempt, done, paid = (s.format(p="?") for s in (ATTEMPT, DONE, PAID))
        at = RUN_AT.replace(tzinfo=None).isoformat(sep=" ")
        t0 = monotonic()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            attempt_id = conn.execute(attempt, (i, f"k{i}", at)).fetchone()[0]
            conn.execute("COMMIT")
            books.execute("BEGIN IMMEDIATE")
            books.execute("INSERT INTO charges VALUES (?, ?, 2900)", (f"k{i}", f"pi_{i}"))
            books.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(done, (f"pi_{i}", at, attempt_id))
            conn.execute(paid, (i,))
            conn.execute("COMMIT")
        return monotonic() - t0
    finally:
        conn.close()
        books.close()


def raw_postgres_charges(db: Database, n: int, tmp: Path) -> float:
    books = provider_books(tmp)
    with psycopg.connect(psycopg_conninfo(db)) as conn:
        for ddl in RAW_DDL:
            conn.execute(ddl.format(text="text", serial="bigserial", ts="timestamptz"))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_invoices VALUES (%s, 'finalized')", ((i,) for i in range(n))
            )
        conn.commit()
        attempt, done, paid = (s.format(p="%s") for s in (ATTEMPT, DONE, PAID))
        at = datetime(2026, 1, 12, 12, tzinfo=UTC)
        t0 = monotonic()
        for i in range(n):
            row = conn.execute(attempt, (i, f"k{i}", at)).fetchone()
            assert row is not None
            conn.commit()
            books.execute("BEGIN IMMEDIATE")
            books.execute("INSERT INTO charges VALUES (?, ?, 2900)", (f"k{i}", f"pi_{i}"))
            books.execute("COMMIT")
            conn.execute(done, (f"pi_{i}", at, row[0]))
            conn.execute(paid, (i,))
            conn.commit()
        elapsed = monotonic() - t0
    books.close()
    return elapsed


def bench(name: str, n: int) -> list[Any]:
    with tempfile.TemporaryDirectory(prefix="allot-bench-pay-") as tmp_dir:
        tmp = Path(tmp_dir)
        with backend(name) as db:
            print(f"  {name}: {n:,} accounts …", flush=True)
            figures = measure(db, n, tmp)
        with backend(name) as db:
            raw = (raw_sqlite_charges if name == "sqlite" else raw_postgres_charges)(db, n, tmp)
    per_s = n / figures["charged"]
    return [
        name,
        n,
        round(n / figures["billed"]),
        round(per_s),
        round(n / raw),
        round(per_s / (n / raw), 2),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql", type=backend_list)
    args = parser.parse_args()
    print(f"charging round bench: {args.accounts:,} accounts, backends {args.backends}", flush=True)
    print(machine_note(), flush=True)
    rows = []
    for name in args.backends:
        try:
            rows.append(bench(name, args.accounts))
        except PostgresUnavailable as exc:
            loud_notice(str(exc))
    print_table(
        ["database", "invoices", "invoice run /s", "charged /s", "raw charges /s", "ratio"],
        rows,
        title="charging round with the sandbox (ratio = allot charges/s / raw charges/s)",
    )


if __name__ == "__main__":
    main()
