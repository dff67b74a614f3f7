"""`allot webhooks …` and `allot worker` end to end, with a receiver on loopback."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest
import typer
from typer.testing import CliRunner

from allot.cli.webhooks import webhooks_app
from allot.cli.worker import worker
from allot.kit.clock import FixedClock, SystemClock
from allot.kit.db import Database
from allot.webhook.guard import ALLOW_PRIVATE_ENV
from allot.webhook.service import emit
from allot.webhook.worker import run_worker
from tests.webhook.conftest import Receiver, add_endpoint

worker_app = typer.Typer()
worker_app.command()(worker)


@pytest.fixture
def runner(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ALLOT_DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def run(runner: CliRunner, app: typer.Typer, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_register_deliver_inspect_redeliver_and_remove(
    runner: CliRunner, db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    added = run(
        runner,
        webhooks_app,
        "add",
        receiver.url,
        "--event",
        "usage.threshold_reached",
        "--event",
        "subscription.updated",
    )
    assert "endpoint 1:" in added
    secret = re.search(r"whsec_\S+", added)
    assert secret is not None
    receiver.secret = secret.group(0)
    listed = run(runner, webhooks_app, "list")
    assert "subscription.updated" in listed
    assert secret.group(0) not in listed

    with db.transaction() as conn:
        emit(conn, clock, type="subscription.updated", payload={"plan": "pro"}, account_id="a")
    assert "1 webhook deliveries attempted" in run(runner, worker_app, "--once")
    assert receiver.messages[0]["data"] == {"plan": "pro"}
    shown = run(runner, webhooks_app, "deliveries", "--endpoint", "1", "--attempts")
    assert "delivered" in shown
    assert "200" in shown

    assert "is due now" in run(runner, webhooks_app, "redeliver", "1")
    assert "1 webhook deliveries attempted" in run(runner, worker_app, "--once")
    assert len(receiver.messages) == 2
    assert "endpoint 1 removed" in run(runner, webhooks_app, "remove", "1")
    assert "(removed)" in run(runner, webhooks_app, "list", "--all")


def test_refusals_print_code_and_field(runner: CliRunner) -> None:
    out = run(runner, webhooks_app, "add", "file:///etc/passwd", "--event", "x.y", code=2)
    assert "unknown_event_type [event_types]" in out
    out = run(runner, webhooks_app, "add", "ftp://h/", "--event", "subscription.updated", code=2)
    assert "webhook_url_not_allowed [url]" in out
    assert "webhook_delivery_not_found" in run(runner, webhooks_app, "redeliver", "5", code=2)
    assert "invalid_state [state]" in run(
        runner, webhooks_app, "deliveries", "--state", "lost", code=2
    )


def test_the_worker_loop_delivers_as_events_arrive_until_stopped(
    db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    add_endpoint(db, clock, receiver)
    stop = threading.Event()
    done: list[int] = []

    def loop() -> None:
        with httpx.Client(timeout=10) as client:
            done.append(
                run_worker(
                    db,
                    clock,
                    http=client,
                    idle_seconds=0.05,
                    stop=stop,
                    allow_private=True,
                    signing_clock=SystemClock(),
                )
            )

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        for n in range(3):
            with db.transaction() as conn:
                emit(conn, clock, type="usage.threshold_reached", payload={"n": n}, account_id="a")
        for _ in range(200):
            if len(receiver.received) == 3:
                break
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join()
    assert sorted(m["data"]["n"] for m in receiver.messages) == [0, 1, 2]
    assert done == [3]
