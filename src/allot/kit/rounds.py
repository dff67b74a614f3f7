"""A worker's loop: run rounds of outbox work until stopped, or until nothing is due.

Each round is a callable that takes a batch size and returns how many items it
attempted. A round that attempts fewer than the batch has drained its queue
for now; when every round has, `once` returns and otherwise the loop waits
`idle_seconds` (or until `stop` is set). A lost database connection is
reported through `on_error` and retried after the same wait; with `once`, or
without `on_error`, it is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

# Standard library only at import: the command line shows these defaults in `allot worker --help`.
DEFAULT_BATCH = 10  # items a round attempts
IDLE_SECONDS = 1.0

Round = Callable[[int], int]


def run_rounds(
    rounds: Sequence[Round],
    *,
    batch: int,
    once: bool = False,
    idle_seconds: float = IDLE_SECONDS,
    stop: threading.Event | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> list[int]:
    """Run `rounds` in turn until drained (`once`) or stopped; the attempts made, per round."""
    import sqlalchemy as sa

    stop = stop or threading.Event()
    totals = [0] * len(rounds)
    while not stop.is_set():
        drained = True
        try:
            for i, work in enumerate(rounds):
                done = work(batch)
                totals[i] += done
                drained = drained and done < batch
        except sa.exc.OperationalError as exc:
            if once or on_error is None:
                raise
            on_error(exc)
            stop.wait(idle_seconds)
            continue
        if drained:
            if once:
                break
            stop.wait(idle_seconds)
    return totals
