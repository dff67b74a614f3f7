"""`allot referral` and `accounts create --referral` (A4), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from tests.cli.test_cli import allot, run  # noqa: F401  (the fixture and the runner helper)
from tests.scenarios.world import PRESETS

KYIV = ("--timezone", "Europe/Kyiv", "--currency", "EUR")


def test_a4_referral_from_the_command_line(allot: CliRunner) -> None:  # noqa: F811
    run(allot, "init")
    run(allot, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    run(allot, "clock", "set", "2026-03-05T09:00:00Z")
    run(allot, "accounts", "create", "cafe", "--name", "Cafe", *KYIV)
    run(allot, "subscribe", "cafe", "monthly")
    assert "referral is not switched on" in run(allot, "referral", "show", "cafe", code=2)

    shown = run(allot, "referral", "enable", "cafe")
    found = re.search(r"code (\S+)", shown)
    assert found is not None
    code = found.group(1)
    assert f"link: /signup?ref={code}" in shown

    refused = run(
        allot,
        "accounts",
        "create",
        "bakery",
        "--name",
        "Bakery",
        *KYIV,
        "--referral",
        "7K2M",
        code=2,
    )
    assert "referral_code" in refused
    assert "no account" in run(allot, "accounts", "show", "bakery", code=2)

    run(allot, "accounts", "create", "bakery", "--name", "Bakery", *KYIV, "--referral", code)
    run(allot, "subscribe", "bakery", "monthly")
    run(allot, "bill")
    assert "signed up" in run(allot, "referral", "show", "cafe")
    listed = run(allot, "invoices", "list", "--account", "bakery")
    number = re.search(r"INV-\d{4}-\d{6}", listed)
    assert number is not None
    run(allot, "invoices", "pay", number.group(0))
    shown = run(allot, "referral", "show", "cafe")
    assert "rewarded 2026-03-05" in shown
    assert "to credit on the next invoice 29.00 EUR" in shown

    run(allot, "clock", "advance", "--months", "1")
    run(allot, "bill")
    # the cafe's April invoice, newest first (on PostgreSQL the run bills accounts at once,
    # so which of the two April invoices took which number is not fixed)
    april = re.search(r"INV-\d{4}-\d{6}", run(allot, "invoices", "list", "--account", "cafe"))
    assert april is not None
    assert april.group(0) in ("INV-2026-000003", "INV-2026-000004")
    assert "Referral reward: Bakery" in run(allot, "invoices", "show", april.group(0))
    assert "off" in run(allot, "referral", "disable", "cafe")
