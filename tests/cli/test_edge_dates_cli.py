"""U8 on the command line: a date, month or instant outside the engine's years
(2000-2099) prints one line naming the option, exits 2 and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from allot.cli.main import app
from tests.cli.test_billing_cli import store  # noqa: F401  (the fixture)
from tests.cli.test_cli import allot, run  # noqa: F401  (store's fixture, the runner helper)

FAR = ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00")


def refused(runner: CliRunner, *args: str, field: str, code: str = "date_out_of_range") -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {code} [{field}]: "), result.output


@pytest.mark.parametrize("at", FAR)
def test_U8_every_option_that_takes_a_date_refuses_one_outside_2000_2099(
    store: CliRunner,  # noqa: F811
    at: str,
) -> None:
    day, month = at[:10], at[:7]
    refused(store, "consume", "store", "orders", "--at", at, field="at")
    refused(store, "subscribe", "store", "loyalty-premium", "--start", day, field="start")
    refused(store, "grants", "give", "store", "--allow", "orders=1", "--starts", at, field="starts")
    refused(store, "grants", "give", "store", "--allow", "orders=1", "--ends", at, field="ends")
    refused(store, "codes", "issue", "brew", "--allow", "staff_seats=1", "--ends", at, field="ends")
    refused(store, "usage", "store", "--month", month, field="month")
    refused(store, "advice", "store", "--month", month, field="month")
    refused(store, "partners", "report", "brew", "--month", month, field="month")
    refused(store, "clock", "set", at, field="when")
    # nothing was written, and the clock did not move
    assert "simulated: 2026-05-12T13:00:00+00:00" in run(store, "clock", "show")
    shown = run(store, "accounts", "show", "store")
    assert "loyalty-premium" not in shown.lower()
    assert "grant" not in shown
    assert "0 / 1500" in " ".join(run(store, "usage", "store").split())


def test_U8_orders_ingest_names_the_line_of_an_order_placed_outside_the_range(
    store: CliRunner,  # noqa: F811
    tmp_path: Path,
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,placed_at\no1,2026-05-12T10:00:00Z\no2,9999-12-31T23:59:59Z\n", encoding="utf-8"
    )
    result = store.invoke(app, ["orders", "ingest", str(orders), "--account", "store"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "Traceback" not in said
    assert said.startswith("error: date_out_of_range [")
    assert "orders.csv:3: placed_at" in said
    assert "0 / 1500" in " ".join(run(store, "usage", "store").split())


@pytest.mark.parametrize(
    "advance", [("--months", "1200"), ("--days", "100000"), ("--hours", "1000000")]
)
def test_U8_the_clock_cannot_be_advanced_past_2099(
    store: CliRunner,  # noqa: F811
    advance: tuple[str, str],
) -> None:
    refused(store, "clock", "advance", *advance, field="advance", code="clock_out_of_range")
    assert "simulated: 2026-05-12T13:00:00+00:00" in run(store, "clock", "show")


def test_U8_the_last_second_of_the_range_is_a_time_like_any_other(
    store: CliRunner,  # noqa: F811
) -> None:
    run(store, "clock", "set", "2099-12-31T23:59:59Z")
    refused(store, "clock", "advance", "--hours", "1", field="advance", code="clock_out_of_range")
    assert "allowed" in run(store, "consume", "store", "orders", "--at", "2099-12-31T23:59:59Z")
    assert "2099-12" in run(store, "usage", "store", "--month", "2099-12")
    assert "2099-12" in run(store, "advice", "store")
    assert "invoices issued" in run(store, "bill")
    assert "loyalty-professional" in run(
        store, "plans", "change", "store", "loyalty-professional", "--preview"
    )
