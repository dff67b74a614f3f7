"""`allot codes email` and `allot worker` (K2): the activation link reaches a real SMTP server."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.cli.test_cli import allot, run  # noqa: F401  (the fixture and the runner helper)
from tests.mailserver import MailServer, plain_text
from tests.scenarios.world import PRESETS


def partner_with_a_code(runner: CliRunner) -> str:
    run(runner, "init")
    run(runner, "catalog", "load", str(PRESETS / "stamp-card.yaml"))
    run(
        runner,
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
    run(runner, "subscribe", "cafe", "card-scanner-free")
    run(
        runner,
        *("partners", "enroll", "brew", "--name", "Brew Consulting", "--kind", "consultant"),
        *("--contact", "hello@brew.example", "--currency", "EUR"),
    )
    issued = run(runner, "codes", "issue", "brew", "--allow", "staff_seats=36")
    return issued.split()[2]


def test_K2_a_partner_e_mails_the_activation_link_from_the_command_line(
    allot: CliRunner,  # noqa: F811
    mail_server: MailServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = partner_with_a_code(allot)
    monkeypatch.setenv("ALLOT_SMTP_URL", mail_server.url)
    monkeypatch.setenv("ALLOT_MAIL_FROM", "Cards <billing@cards.example>")
    monkeypatch.setenv("ALLOT_ACTIVATION_LINK", "https://cards.example/activate/{code}")
    queued = run(allot, "codes", "email", "brew", "1", "--to", "owner@cafe.example")
    assert "e-mail #1 to owner@cafe.example queued" in queued
    assert "e-mail #1 to owner@cafe.example: pending" in run(allot, "codes", "show", "brew", "1")
    sent = run(allot, "worker", "--once")
    assert "1 e-mails attempted" in sent
    (message,) = mail_server.received
    assert f"https://cards.example/activate/{code}" in plain_text(message)
    assert message["From"] == "Cards <billing@cards.example>"
    assert "e-mail #1 to owner@cafe.example: sent" in run(allot, "codes", "show", "brew", "1")
    assert "Code #1 claimed by cafe" in run(allot, "codes", "claim", "cafe", code)


def test_K2_without_smtp_the_command_says_so_and_queues_nothing(
    allot: CliRunner,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partner_with_a_code(allot)
    monkeypatch.delenv("ALLOT_SMTP_URL", raising=False)
    refused = run(allot, "codes", "email", "brew", "1", "--to", "owner@cafe.example", code=2)
    assert "email_not_configured" in refused
    assert "e-mail #" not in run(allot, "codes", "show", "brew", "1")
    assert "no e-mail" not in run(allot, "worker", "--once")  # `--once` stays quiet about it
    monkeypatch.setenv("ALLOT_SMTP_URL", "smtp://mail.example.com?tls=1")
    refused = run(allot, "codes", "email", "brew", "1", "--to", "owner@cafe.example", code=2)
    assert "invalid_smtp_url [ALLOT_SMTP_URL]" in refused
