"""The `allot` command line end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from allot.cli.main import app
from allot.kit.db import Database
from tests.scenarios.world import PRESETS


@pytest.fixture
def allot(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ALLOT_DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("COLUMNS", "120")
    return CliRunner()


def run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def enroll_brew(runner: CliRunner, *more: str) -> str:
    """Brew Consultants, a partner with a 30 % wholesale discount in EUR."""
    return run(
        runner,
        *("partners", "enroll", "brew", "--name", "Brew", "--kind", "consultant"),
        *("--contact", "a@b.example", "--currency", "EUR", "--discount", "0.3", *more),
    )


def test_a_coffee_shop_from_the_command_line(allot: CliRunner) -> None:
    run(allot, "init")
    loaded = run(allot, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    assert "stamp-card: 4 added" in loaded
    assert "unchanged" in run(allot, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    assert "Card scanner (free)" in run(allot, "catalog", "show")
    run(
        allot,
        "accounts",
        "create",
        "cafe",
        "--name",
        "Cafe",
        "--timezone",
        "Europe/Kyiv",
        "--currency",
        "EUR",
    )
    run(allot, "subscribe", "cafe", "card-scanner-free")
    run(allot, "grants", "give", "cafe", "--allow", "card_operations=2", "--label", "Code #1")

    first = run(allot, "consume", "cafe", "card_operations", "2", "--key", "r-1")
    assert "allowed" in first
    assert "2 from grant:1" in first
    again = run(allot, "consume", "cafe", "card_operations", "2", "--key", "r-1")
    assert "(replayed)" in again
    assert "1 from plan:1" in run(allot, "consume", "cafe", "card_operations")
    assert "from plan:1" in run(allot, "seats", "take", "cafe", "owner")
    assert "free_overage" in run(allot, "seats", "take", "cafe", "barista")
    assert "seat_release" in run(allot, "seats", "release", "cafe", "barista")

    page = run(allot, "usage", "cafe")
    assert "Code #1 — Claimed" in page
    assert "Used: 1 / 100 included per month" in page
    assert "1 included, 1 taken" in page
    shown = run(allot, "accounts", "show", "cafe")
    assert "Card scanner (free) v1" in shown
    assert "Code #1" in shown
    assert "counters equal the sums" in run(allot, "verify")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "accounts",
                "create",
                "x",
                "--name",
                "X",
                "--timezone",
                "Mars/Olympus",
                "--currency",
                "EUR",
            ],
            "unknown_time_zone [timezone]",
        ),
        (
            ["accounts", "create", "x", "--name", "X", "--timezone", "UTC", "--currency", "XYZ"],
            "unknown_currency [currency]",
        ),
        (
            [
                "accounts",
                "create",
                "bad id",
                "--name",
                "X",
                "--timezone",
                "UTC",
                "--currency",
                "EUR",
            ],
            "invalid_identifier [id]",
        ),
        (["consume", "nobody", "card_operations"], "account_not_found [account_id]"),
        (["consume", "cafe", "card_operations", "--at", "2026-01-31T23:30"], "naive_datetime [at]"),
        (["consume", "cafe", "staff_seats"], "wrong_metric_kind [metric]"),
        (["consume", "cafe", "card_operations", "0"], "not_positive_integer [quantity]"),
        (["subscribe", "cafe", "no-such-plan"], "plan_not_found [plan]"),
        (["subscribe", "cafe", "full-suite-business"], "currency_mismatch [plan]"),
        (["seats", "release", "cafe", "ghost"], "seat_not_held [holder]"),
        (
            ["grants", "give", "cafe", "--allow", "card_operations=lots"],
            "invalid_allowance [allow]",
        ),
    ],
)
def test_bad_input_gets_one_clear_line_and_changes_nothing(
    allot: CliRunner, args: list[str], message: str
) -> None:
    run(allot, "init")
    run(
        allot,
        "catalog",
        "load",
        str(PRESETS / "stamp-card.yaml"),
        str(PRESETS / "reviews-loyalty.yaml"),
    )
    run(
        allot,
        "accounts",
        "create",
        "cafe",
        "--name",
        "Cafe",
        "--timezone",
        "UTC",
        "--currency",
        "EUR",
    )
    result = allot.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "ok: 0 counters" in run(allot, "verify")


def test_catalog_validate_names_file_line_and_field(allot: CliRunner, tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "bad.yaml"
    text = (
        (PRESETS / "stamp-card.yaml").read_text().replace('    price: "29" #', "    price: 29.0 #")
    )
    bad.write_text(text)
    result = allot.invoke(app, ["catalog", "validate", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml:" in result.output
    assert "plans.monthly.price" in result.output


def test_the_demo_runs_twice_and_replays_the_second_time(allot: CliRunner) -> None:
    run(allot, "init")
    run(
        allot,
        "catalog",
        "load",
        str(PRESETS / "stamp-card.yaml"),
        str(PRESETS / "reviews-loyalty.yaml"),
    )
    first = run(allot, "demo")
    assert "card operation          1–18 → Code #1" in first
    assert "order   1,501–1,799 → billed overage" in first
    assert "60.00 USD" in first
    second = run(allot, "demo")
    assert "were replays of an earlier demo run" in second
    assert "counters equal the sums" in run(allot, "verify")


def test_the_partner_program_from_the_command_line(allot: CliRunner) -> None:
    run(allot, "init")
    run(allot, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    run(
        allot,
        "accounts",
        "create",
        "cafe",
        "--name",
        "Cafe",
        "--timezone",
        "UTC",
        "--currency",
        "EUR",
    )
    run(allot, "subscribe", "cafe", "card-scanner-free")
    enroll_brew(allot, "--price", "staff_seats=5")
    assert "brew" in run(allot, "partners", "list")
    issued = run(
        allot,
        "codes",
        "issue",
        "brew",
        "--allow",
        "staff_seats=36",
        "--allow",
        "card_operations=18",
    )
    assert "Code #1" in issued
    assert "issued" in issued
    code = issued.split()[2]
    assert "Code #1 claimed by cafe" in run(allot, "codes", "claim", "cafe", code)
    assert "claimed by cafe" in run(allot, "codes", "show", "brew", "1")
    assert "paused" in run(allot, "codes", "pause", "brew", "1")
    assert "claimed" in run(allot, "codes", "resume", "brew", "1")
    run(allot, "codes", "issue", "brew", "--allow", "staff_seats=2")
    assert "revoked" in run(allot, "codes", "revoke", "brew", "2")
    assert "code_not_found" in allot.invoke(app, ["codes", "claim", "cafe", code]).output
    assert "Code #1 — Claimed" in run(allot, "usage", "cafe")
    month = run(allot, "partners", "report", "brew", "--month", "2026-11", "--store")
    assert "stored" in month


def test_a_key_is_issued_only_for_an_account_or_partner_that_exists(allot: CliRunner) -> None:
    run(allot, "init")
    assert "account_not_found" in run(
        allot, "keys", "create", "--role", "account", "--for", "nobody", code=2
    )
    assert "partner_not_found" in run(
        allot, "keys", "create", "--role", "partner", "--for", "nobody", code=2
    )
    assert "subject_required" in run(allot, "keys", "create", "--role", "partner", code=2)
    enroll_brew(allot)
    assert "allot_" in run(allot, "keys", "create", "--role", "partner", "--for", "brew")
