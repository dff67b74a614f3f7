"""The command line starts at once: its help and the billing page load no more than they need.

Each case runs `allot` in a fresh interpreter, as a user does, and reads what
was imported once the commands have run (`sys.modules`). Timings are in
`bench/cli_startup.py`; here only what the process loaded is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from allot.cli.main import app
from tests.cli.test_cli import run
from tests.scenarios.world import PRESETS

# Runs each argv of the JSON list argv[2] through the real `allot` app, in turn, then writes
# the exit codes and every module imported to the file argv[1] (stdout is the commands').
CHILD = """
import json, sys
from allot.cli.main import app
out, runs = sys.argv[1], json.loads(sys.argv[2])
codes = []
for args in runs:
    try:
        app(args, prog_name="allot")
        codes.append(0)
    except SystemExit as exc:
        codes.append(exc.code or 0)
with open(out, "w", encoding="utf-8") as handle:
    json.dump({"codes": codes, "modules": sorted(sys.modules)}, handle)
"""

# Nothing of the API, the documents, the outboxes or the migrations is needed to show help or
# the billing page; the help needs no database at all.
HEAVY = ("alembic", "fastapi", "httpx", "weasyprint", "jinja2", "uvicorn")
DATABASE = ("sqlalchemy", "psycopg")


def loaded(tmp_path: Path, runs: list[list[str]], url: str) -> tuple[str, set[str]]:
    """What the commands printed, and the top-level packages the process imported."""
    out = tmp_path / "modules.json"
    env = {**os.environ, "ALLOT_DATABASE_URL": url, "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), json.dumps(runs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(out.read_text(encoding="utf-8"))
    assert found["codes"] == [0] * len(runs), done.stdout + done.stderr
    return done.stdout, {name.partition(".")[0] for name in found["modules"]}


def every_help() -> list[list[str]]:
    """`--help` of every group and command, the root first."""
    out: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        out.append([*path, "--help"])
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return out


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'allot.db'}"


def test_allot_help_imports_no_database_api_or_documents(tmp_path: Path, url: str) -> None:
    printed, modules = loaded(tmp_path, [["--help"]], url)
    assert "Usage: allot" in printed
    assert "catalog" in printed
    assert "usage" in printed
    assert sorted(modules.intersection(HEAVY + DATABASE)) == []


def test_the_help_of_every_group_and_command_imports_no_database(tmp_path: Path, url: str) -> None:
    runs = every_help()
    groups = {args[0] for args in runs if len(args) == 3}  # a group has subcommands
    assert {"catalog", "accounts", "invoices", "webhooks", "codes", "clock"} <= groups
    printed, modules = loaded(tmp_path, runs, url)
    assert printed.count("Usage: allot") == len(runs)
    assert sorted(modules.intersection(HEAVY + DATABASE)) == []


def test_the_billing_page_imports_the_database_and_nothing_heavier(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOT_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "120")
    allot = CliRunner()
    run(allot, "init")
    run(allot, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    run(
        allot,
        *("accounts", "create", "cafe", "--name", "Cafe"),
        *("--timezone", "Europe/Kyiv", "--currency", "EUR"),
    )
    run(allot, "subscribe", "cafe", "card-scanner-free")
    run(allot, "grants", "give", "cafe", "--allow", "card_operations=2", "--label", "Code #1")
    run(allot, "consume", "cafe", "card_operations", "3")

    printed, modules = loaded(tmp_path, [["usage", "cafe"]], url)
    assert "Cafe (cafe)" in printed
    assert "Code #1 — Claimed" in printed
    assert "Used: 1 / 100 included per month" in printed
    assert "sqlalchemy" in modules  # the command did read the database
    assert sorted(modules.intersection(HEAVY)) == []
