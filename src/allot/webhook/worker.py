"""`allot worker`'s webhook round: deliver what is due (see `allot.kit.rounds` for the loop)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.kit.rounds import DEFAULT_BATCH, IDLE_SECONDS, Round, run_rounds
from allot.webhook.delivery import deliver_due

__all__ = ["IDLE_SECONDS", "run_worker", "webhook_round"]


def webhook_round(
    db: Database,
    clock: Clock,
    *,
    http: httpx.Client,
    allow_private: bool | None = None,
    signing_clock: Clock | None = None,
) -> Round:
    def work(limit: int) -> int:
        return deliver_due(
            db,
            clock,
            http=http,
            limit=limit,
            allow_private=allow_private,
            signing_clock=signing_clock,
        )

    return work


def run_worker(
    db: Database,
    clock: Clock,
    *,
    http: httpx.Client,
    once: bool = False,
    batch: int = DEFAULT_BATCH,
    idle_seconds: float = IDLE_SECONDS,
    stop: threading.Event | None = None,
    allow_private: bool | None = None,
    signing_clock: Clock | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> int:
    """Run webhook delivery rounds; returns how many attempts were made."""
    work = webhook_round(
        db, clock, http=http, allow_private=allow_private, signing_clock=signing_clock
    )
    (done,) = run_rounds(
        [work], batch=batch, once=once, idle_seconds=idle_seconds, stop=stop, on_error=on_error
    )
    return done
