"""The billing page's usage summary, read with a short and with a long ledger behind it.

DESIGN rule 8: the page reads counters, not the ledger, so its time must not
grow with history. One account gets 1,000 ledger entries through `consume`
(this month), the summary is timed; then the same account's history is
filled up to 1,000,000 entries by bulk SQL (one event and one entry per unit,
spread over the 120 months before this one, with the matching counters, so
`allot.usage.verify` passes), and the summary is timed again.

    .venv/bin/python bench/usage_read.py [--reads 1000] [--history 1000000] [--only sqlite]

Bar (issue): median at 1,000,000 entries <= 1.5x the median at 1,000.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from _harness import (
    METRIC,
    Database,
    FixedClock,
    databases,
    env_int,
    fixed_clock,
    machine_note,
    make_accounts,
    monotonic,
    percentile,
    print_table,
)
from allot.usage.service import consume
from allot.usage.summary import usage_summary
from allot.usage.verify import verify

ACCOUNT = "reader"
MONTHS = 120  # history spread over 2016-01 .. 2025-12; the clock stands in 2026-01
FIRST_MONTH = 2016 * 12  # months since year 0, January = 0


@dataclass(frozen=True)
class Timing:
    entries: int
    reads: int
    median_ms: float
    p99_ms: float


def time_reads(db: Database, clock: FixedClock, reads: int, entries: int) -> Timing:
    def once() -> float:
        t0 = monotonic()
        with db.read() as conn:
            summary = usage_summary(conn, clock, account_id=ACCOUNT)
        elapsed = monotonic() - t0
        assert summary.metrics, "the summary lost its metric"
        return elapsed

    for _ in range(max(reads // 5, 50)):  # warm-up
        once()
    samples = [once() for _ in range(reads)]
    return Timing(entries, reads, percentile(samples, 50) * 1000, percentile(samples, 99) * 1000)


def _events_sql(dialect: str, count: int) -> str:
    """One `consume` event of 1 unit per row, `count` rows over the MONTHS past months."""
    cols = (
        "account_id, idempotency_key, request_hash, action, metric, quantity, holder, "
        "period, occurred_at, recorded_at, outcome, reason"
    )
    # n -> month index mi and the rank k of the event within its month; days 2..27,
    # 08:00..19:59 UTC, so the month is the same in any European time zone.
    if dialect == "sqlite":
        return f"""
            INSERT INTO usage_events ({cols})
            WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n + 1 < {count}),
            m AS (SELECT n, {FIRST_MONTH} + n % {MONTHS} AS mi, n / {MONTHS} AS k FROM g),
            t AS (
                SELECT n, printf('%04d-%02d', mi / 12, mi % 12 + 1) AS period,
                       printf('%04d-%02d-%02d %02d:%02d:%02d.000000', mi / 12, mi % 12 + 1,
                              2 + k % 26, 8 + (k / 26) % 12, (k / 312) % 60, k % 60) AS at
                FROM m
            )
            SELECT :account, 'bulk-' || n, :request_hash, 'consume', :metric, 1, NULL,
                   period, at, at, 'allowed', 'within_allowance'
            FROM t
        """
    return f"""
        INSERT INTO usage_events ({cols})
        SELECT :account, 'bulk-' || n, :request_hash, 'consume', :metric, 1, NULL,
               to_char(at AT TIME ZONE 'UTC', 'YYYY-MM'), at, at, 'allowed', 'within_allowance'
        FROM (
            SELECT n, make_timestamptz(
                (mi / 12)::int, (mi % 12 + 1)::int, (2 + k % 26)::int, (8 + (k / 26) % 12)::int,
                ((k / 312) % 60)::int, (k % 60)::double precision, 'UTC') AS at
            FROM (
                SELECT n, {FIRST_MONTH} + n % {MONTHS} AS mi, n / {MONTHS} AS k
                FROM generate_series(0, {count - 1}) AS n
            ) m
        ) t
    """


def build_history(db: Database, clock: FixedClock, total: int, have: int) -> float:
    """Add `total - have` past events, their entries and counters; return the seconds taken."""
    t0 = monotonic()
    with db.transaction() as conn:
        template = conn.execute(
            sa.text(
                "SELECT e.request_hash, c.source, c.source_kind, c.granted "
                "FROM usage_events e JOIN usage_entries u ON u.event_id = e.id "
                "JOIN usage_counters c ON c.account_id = u.account_id AND c.metric = u.metric "
                "AND c.period = u.period AND c.source = u.source "
                "WHERE e.account_id = :account ORDER BY e.id LIMIT 1"
            ),
            {"account": ACCOUNT},
        ).one()
        max_event = conn.execute(sa.text("SELECT max(id) FROM usage_events")).scalar_one()
        max_seq = conn.execute(sa.text("SELECT max(seq) FROM usage_entries")).scalar_one()
        conn.execute(
            sa.text(_events_sql(db.dialect, total - have)),
            {"account": ACCOUNT, "request_hash": template.request_hash, "metric": METRIC},
        )
        conn.execute(
            sa.text(
                "INSERT INTO usage_entries (event_id, account_id, metric, period, source, "
                "source_kind, quantity, occurred_at) "
                "SELECT id, account_id, metric, period, :source, :kind, quantity, occurred_at "
                "FROM usage_events WHERE id > :max_event ORDER BY id"
            ),
            {"source": template.source, "kind": template.source_kind, "max_event": max_event},
        )
        conn.execute(
            sa.text(
                "INSERT INTO usage_counters (account_id, metric, period, source, source_kind, "
                "used, granted) "
                "SELECT account_id, metric, period, source, source_kind, sum(quantity), :granted "
                "FROM usage_entries WHERE seq > :max_seq "
                "GROUP BY account_id, metric, period, source, source_kind"
            ),
            {"granted": template.granted, "max_seq": max_seq},
        )
    # What a live database does on its own: statistics, and (SQLite) a checkpointed WAL.
    raw = db.engine.raw_connection()  # outside allot's BEGIN IMMEDIATE
    try:
        cursor = raw.cursor()
        if db.is_sqlite:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return monotonic() - t0


def bench_database(db: Database, args: argparse.Namespace) -> tuple[list[Any], list[Any]]:
    clock = fixed_clock()
    make_accounts(db, clock, [ACCOUNT])
    for i in range(args.small):
        with db.transaction() as conn:
            consume(
                conn,
                clock,
                account_id=ACCOUNT,
                metric=METRIC,
                quantity=1,
                idempotency_key=f"small-{i}",
            )
    small = time_reads(db, clock, args.reads, args.small)
    print(f"  {db.dialect:<10} {args.small:,} entries: median {small.median_ms:.3f} ms", flush=True)
    build_s = build_history(db, clock, args.history, args.small)
    with db.read() as conn:
        report = verify(conn)
    print(
        f"  {db.dialect:<10} history built to {report.entries:,} entries in {build_s:.1f} s; "
        f"verify: {report.counters} counters, "
        f"{'ok' if report.ok else 'MISMATCH ' + str(report.mismatches[:3])}",
        flush=True,
    )
    large = time_reads(db, clock, args.reads, report.entries)
    assert large.entries == args.history, (large.entries, args.history)
    row_small = [
        db.dialect,
        small.entries,
        small.reads,
        small.median_ms,
        small.p99_ms,
        math.nan,
        math.nan,
    ]
    ratio = large.median_ms / small.median_ms
    row_large = [
        db.dialect,
        large.entries,
        large.reads,
        large.median_ms,
        large.p99_ms,
        ratio,
        large.p99_ms / small.p99_ms,
    ]
    return row_small, row_large


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=env_int("ALLOT_BENCH_READS", 1000))
    parser.add_argument("--small", type=int, default=1_000, help="entries made by consume")
    parser.add_argument("--history", type=int, default=env_int("ALLOT_BENCH_HISTORY", 1_000_000))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.history <= args.small:
        parser.error("--history must be larger than --small")

    print(
        f"usage summary read bench: {args.reads} reads per size, "
        f"{args.small:,} then {args.history:,} ledger entries",
        flush=True,
    )
    print(machine_note(), flush=True)
    rows: list[list[Any]] = []
    for db in databases(args.only):
        rows += bench_database(db, args)
    print_table(
        ["database", "ledger entries", "reads", "median ms", "p99 ms", "median ratio", "p99 ratio"],
        rows,
        title="usage_summary (ratio = this size / the small size)",
    )
    print()
    print("bar (issue): median read at the large size <= 1.5x the small size")
    for row in rows[1::2]:
        print(f"  {row[0]:<10} ratio {row[5]:.2f} <= 1.5  {'PASS' if row[5] <= 1.5 else 'FAIL'}")
    if args.only is None and not any(r[0] == "postgresql" for r in rows):
        print("  postgresql NOT MEASURED (unreachable)")


if __name__ == "__main__":
    main()
