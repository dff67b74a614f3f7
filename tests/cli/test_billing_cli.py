"""A year of a store lived from the command line: `allot clock`, `bill`, `invoices`, `plans`,
`advice` (B1-B6, V1), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.test_cli import allot, run  # noqa: F401  (the fixture and the runner helper)
from tests.scenarios.world import PRESETS


@pytest.fixture
def store(allot: CliRunner) -> CliRunner:  # noqa: F811
    run(allot, "init")
    run(allot, "catalog", "load", str(PRESETS / "reviews-loyalty.yaml"))
    run(allot, "clock", "set", "2026-05-12T13:00:00Z")
    run(
        allot,
        *("accounts", "create", "store", "--name", "Store"),
        *("--timezone", "America/New_York", "--currency", "USD", "--tax-rate", "0"),
    )
    run(allot, "subscribe", "store", "loyalty-business")
    return allot


def test_b6_a_year_in_seconds_with_the_simulated_clock(store: CliRunner) -> None:
    assert "simulated: 2026-05-12T13:00:00+00:00" in run(store, "clock", "show")
    run(store, "clock", "advance", "--days", "20")
    run(store, "consume", "store", "orders", "2000")  # 500 over in June
    shown = run(store, "clock", "advance", "--months", "12")
    assert "2027-06-01" in shown
    out = run(store, "bill")
    assert "14 invoices issued for 1 accounts (13 subscription, 1 usage)" in out
    assert "0 invoices issued" in run(store, "bill")  # B6: repeating issues nothing
    listed = run(store, "invoices", "list", "--account", "store")
    assert "INV-2026-000001" in listed
    assert "INV-2027-000005" in listed
    assert "100.00 USD" in listed  # V2: Loyalty Business 500 over


def test_b5_show_settle_credit_and_export(store: CliRunner, tmp_path: Path) -> None:
    run(store, "bill")
    shown = run(store, "invoices", "show", "INV-2026-000001")
    assert "Loyalty Business" in shown
    assert "total 179.00 USD" in shown
    assert '"total": "179.00"' in run(store, "invoices", "show", "INV-2026-000001", "--json")
    assert "CN-2026-000001: -29.00 USD" in run(
        store, "invoices", "credit", "INV-2026-000001", "--reason", "goodwill", "--line", "0=29"
    )
    assert "paid" in run(store, "invoices", "pay", "INV-2026-000001", "--note", "wire 7")
    refused = run(store, "invoices", "void", "INV-2026-000001", "--reason", "x", code=2)
    assert "invoice_not_open" in refused
    bad = run(
        store, "invoices", "credit", "INV-2026-000001", "--reason", "r", "--line", "zero", code=2
    )
    assert "line" in bad
    run(store, "invoices", "pdf", "INV-2026-000001", "-o", str(tmp_path / "i.pdf"))
    assert (tmp_path / "i.pdf").read_bytes().startswith(b"%PDF")
    run(store, "invoices", "pdf", "CN-2026-000001", "-o", str(tmp_path / "c.pdf"))
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")
    run(store, "invoices", "csv", "-o", str(tmp_path / "all.csv"))
    assert "INV-2026-000001" in (tmp_path / "all.csv").read_text()
    assert "invoice_not_found" in run(store, "invoices", "show", "INV-1999-000001", code=2)


def test_b4_v1_plan_change_preview_then_upgrade_and_advice(store: CliRunner) -> None:
    run(store, "bill")
    run(store, "clock", "set", "2026-05-20T19:00:00Z")
    run(store, "consume", "store", "orders", "3000")
    advice = run(store, "advice", "store", "--month", "2026-05")
    assert "479.00 USD" in advice
    assert "the same as Loyalty Professional" in " ".join(advice.split())
    preview = run(store, "plans", "change", "store", "loyalty-professional", "--preview")
    assert "prorated charge: 222.58 USD (23 of 31 days left" in " ".join(preview.split())
    done = run(store, "plans", "change", "store", "loyalty-professional")
    assert "invoice INV-2026-000002: 222.58 USD" in done
    assert "same_plan" in run(store, "plans", "change", "store", "loyalty-professional", code=2)


def test_the_clock_refuses_a_naive_time_and_resets(store: CliRunner) -> None:
    assert "when" in run(store, "clock", "set", "2026-05-12T13:00:00", code=2)
    run(store, "clock", "advance", "--months", "876")  # into the engine's last year (U8)
    assert "2099-05-12" in run(store, "clock", "show")
    assert "clock_out_of_range" in run(store, "clock", "advance", "--months", "12", code=2)
    assert "2099-05-12" in run(store, "clock", "show")
    assert "real time" in run(store, "clock", "reset")


def test_b5_an_account_created_with_a_tax_rate_is_taxed(allot: CliRunner) -> None:  # noqa: F811
    run(allot, "init")
    run(allot, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    run(allot, "clock", "set", "2026-03-02T09:00:00Z")
    base = ("accounts", "create", "cafe", "--name", "Cafe", "--timezone", "Europe/Kyiv")
    bad = run(allot, *base, "--currency", "EUR", "--tax-rate", "1.5", code=2)
    assert "invalid_tax_rate [tax_rate]" in bad
    run(allot, *base, "--currency", "EUR", "--tax-rate", "0.21")
    run(allot, "subscribe", "cafe", "monthly")
    run(allot, "bill")
    shown = " ".join(run(allot, "invoices", "show", "INV-2026-000001").split())
    assert "tax 21% on 29.00 EUR: 6.09 EUR" in shown
    assert "total 35.09 EUR" in shown


def test_c3_b4_plans_quantity_preview_then_increase_and_a_decrease_at_the_renewal(
    allot: CliRunner,  # noqa: F811
) -> None:
    run(allot, "init")
    run(allot, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    run(allot, "clock", "set", "2026-01-01T07:00:00Z")  # 09:00 in Kyiv
    run(
        allot,
        *("accounts", "create", "cafe", "--name", "Cafe"),
        *("--timezone", "Europe/Kyiv", "--currency", "EUR"),
    )
    run(allot, "subscribe", "cafe", "monthly")
    run(allot, "bill")
    run(allot, "clock", "set", "2026-01-17T08:00:00Z")
    preview = " ".join(run(allot, "plans", "quantity", "cafe", "3", "--preview").split())
    assert "increase: monthly × 1 → 3, now" in preview
    assert "prorated charge: 28.06 EUR (15 of 31 days left in 2026-01-01 – 2026-02-01)" in preview
    done = run(allot, "plans", "quantity", "cafe", "3")
    assert "invoice INV-2026-000002: 28.06 EUR" in done
    assert "no change: monthly × 3" in run(allot, "plans", "quantity", "cafe", "3")
    run(allot, "clock", "set", "2026-02-10T10:00:00Z")
    lower = " ".join(run(allot, "plans", "quantity", "cafe", "2").split())
    assert "decrease: monthly × 3 → 2, at the renewal on 2026-03-01" in lower
    assert "× 3, started 2026-01-01, active, × 2 from 2026-03-01" in " ".join(
        run(allot, "accounts", "show", "cafe").split()
    )
    assert "quantity" in run(allot, "plans", "quantity", "cafe", "0", code=2)
    run(allot, "clock", "set", "2026-03-01T08:00:00Z")
    run(allot, "bill")
    listed = run(allot, "invoices", "list", "--account", "cafe")
    for total in ("29.00 EUR", "28.06 EUR", "87.00 EUR", "58.00 EUR"):
        assert total in listed
