"""`allot worker`: deliver webhooks until stopped (or, with `once`, until nothing is due)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import sqlalchemy as sa

from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.webhook.delivery import DEFAULT_BATCH, deliver_due

IDLE_SECONDS = 1.0


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
    """Run delivery rounds; returns how many attempts were made.

    A round that finds fewer than `batch` due deliveries means the queue is
    drained for now: `once` returns, otherwise the worker waits `idle_seconds`
    (or until `stop` is set). A lost database connection is reported through
    `on_error` and retried after the same wait; with `once` it is raised.
    """
    stop = stop or threading.Event()
    total = 0
    while not stop.is_set():
        try:
            done = deliver_due(
                db,
                clock,
                http=http,
                limit=batch,
                allow_private=allow_private,
                signing_clock=signing_clock,
            )
        except sa.exc.OperationalError as exc:
            if once or on_error is None:
                raise
            on_error(exc)
            stop.wait(idle_seconds)
            continue
        total += done
        if done < batch:
            if once:
                break
            stop.wait(idle_seconds)
    return total
