"""`allot orders ingest`, `allot reviews`, `allot topup` (R1-R5), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from tests.cli.test_cli import allot, run  # noqa: F401  (the fixture and the runner helper)
from tests.scenarios.world import PRESETS

NY = ("--timezone", "America/New_York", "--currency", "USD")


def write_orders(path: Path, first: int, last: int, *, account: str | None = "store") -> Path:
    start = datetime(2026, 12, 2, 14, tzinfo=UTC)
    lines = ["account_id,order_id,placed_at,excluded" if account else "order_id,placed_at"]
    for n in range(first, last + 1):
        at = (start + timedelta(minutes=n)).isoformat()
        lines.append(
            f"{account},o{n:05d},{at},{'true' if n % 10 == 0 else 'false'}"
            if account
            else f"o{n:05d},{at}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def store_on(runner: CliRunner, plan: str, at: str) -> None:
    """A New York store on `plan` since 1 December 2026, the clock at `at`."""
    run(runner, "init")
    run(runner, "catalog", "load", str(PRESETS / "reviews-loyalty.yaml"))
    run(runner, "clock", "set", at)
    run(runner, "accounts", "create", "store", "--name", "Store", *NY)
    run(runner, "subscribe", "store", plan, "--start", "2026-12-01")


def test_r1_r5_a_december_rush_from_the_command_line(
    allot: CliRunner,  # noqa: F811
    tmp_path: Path,
) -> None:
    store_on(allot, "reviews-business", "2026-12-01T14:00:00Z")
    shown = run(allot, "topup", "set", "store", "--cap", "150")
    assert "top-up limit: 150 (buys 1,071 orders)" in shown
    run(allot, "clock", "set", "2026-12-28T14:00:00Z")

    out = run(allot, "orders", "ingest", str(write_orders(tmp_path / "dec.csv", 1, 3200)))
    assert "3200 orders for 1 accounts: 3200 new, 0 already reported" in out
    assert "1071 top_up" in out
    again = run(allot, "orders", "ingest", str(tmp_path / "dec.csv"))
    assert "0 new, 3200 already reported" in again

    status = run(allot, "reviews", "status", "store")
    assert "3,200 orders / 1,500 order limit" in status
    assert "topped up 1,071 orders = 149.94 so far" in status
    waiting = run(allot, "reviews", "requests", "store", "--state", "waiting", "--limit", "3")
    assert "o02572" in waiting

    run(allot, "clock", "set", "2027-01-01T14:00:00Z")
    billed = run(allot, "bill")
    assert "usage" in billed
    assert "149.94" in run(allot, "invoices", "list", "--account", "store")


def test_bad_input_names_the_line_and_writes_nothing(
    allot: CliRunner,  # noqa: F811
    tmp_path: Path,
) -> None:
    store_on(allot, "reviews-free", "2026-12-20T14:00:00Z")
    bad = write_orders(tmp_path / "bad.csv", 1, 5)
    bad.write_text(bad.read_text() + "store,o9,yesterday,false\n", encoding="utf-8")
    refused = run(allot, "orders", "ingest", str(bad), code=2)
    assert "bad.csv:7" in refused
    assert "0 orders" in run(allot, "reviews", "status", "store")
    plain = write_orders(tmp_path / "plain.csv", 1, 5, account=None)
    assert "missing_columns [file]" in run(allot, "orders", "ingest", str(plain), code=2)
    assert "5 new" in run(allot, "orders", "ingest", str(plain), "--account", "store")
    early = write_orders(tmp_path / "early.csv", 1, 3)
    early.write_text(early.read_text() + "store,o0,2026-11-30T12:00:00Z,false\n", encoding="utf-8")
    refused = run(allot, "orders", "ingest", str(early), "--batch", "2", code=2)
    assert "before_plan_started [placed_at]" in refused
    assert "early.csv:5" in refused  # the line, not the order's place in its batch
    assert "2 orders in earlier batches were recorded" in " ".join(refused.split())
    refused = run(allot, "topup", "set", "store", "--unlimited", code=2)
    assert "top_up_not_on_free_plan" in refused
    assert "exactly one" in run(allot, "topup", "set", "store", "--cap", "5", "--none", code=2)
