"""`allot worker`: send the outboxes (webhooks; e-mail when ALLOT_SMTP_URL is set) and charge
the cards that are due, until stopped."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, err_console, open_database
from allot.cli.payments import collector
from allot.kit.rounds import DEFAULT_BATCH, IDLE_SECONDS


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT / SIGTERM finish the request in flight, then stop."""

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@domain_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Messages per round.")] = (
        DEFAULT_BATCH
    ),
    idle: Annotated[
        float, typer.Option(min=0.05, help="Seconds to wait when nothing is due.")
    ] = IDLE_SECONDS,
) -> None:
    """Deliver webhooks, charge cards (P1, P2) and send e-mail (ALLOT_SMTP_URL), until stopped."""
    from allot.billing.refunds import payments_round
    from allot.config import Settings
    from allot.kit.rounds import run_rounds
    from allot.notify.smtp import mail_round
    from allot.webhook.delivery import new_http_client
    from allot.webhook.worker import webhook_round

    stop = threading.Event()
    smtp = Settings.from_env().smtp()

    def report(exc: Exception) -> None:
        err_console.print(f"[yellow]worker:[/] {escape(str(exc).splitlines()[0])}; retrying")

    with open_database(as_system=True) as db, new_http_client() as http:
        now = clock()
        charging = collector(db)
        rounds = [webhook_round(db, now, http=http), payments_round(charging)]
        if smtp is not None:
            rounds.append(mail_round(db, now, smtp=smtp))
        what = f"webhooks, card payments ({charging.gateway.name})"
        what += "" if smtp is None else f" and e-mail via {smtp.host}:{smtp.port}"
        if once:
            _report(run_rounds(rounds, batch=batch, once=True))
            return
        console.print(f"worker: sending {what} (Ctrl-C to stop)")
        if smtp is None:
            console.print("worker: no e-mail is sent: ALLOT_SMTP_URL is not set")
        with _stop_on_signals(stop):
            done = run_rounds(rounds, batch=batch, idle_seconds=idle, stop=stop, on_error=report)
        console.print("worker stopped")
        _report(done)


def _report(done: list[int]) -> None:
    console.print(f"{done[0]} webhook deliveries attempted")
    console.print(f"{done[1]} invoices worked on by the charging round")
    if len(done) > 2:
        console.print(f"{done[2]} e-mails attempted")
