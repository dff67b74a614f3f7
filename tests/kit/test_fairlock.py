"""The SQLite write lock: mutual exclusion, and turns taken in arrival order."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from allot.kit.db import FairLock


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.001)


def _queued(lock: FairLock, waiting: int) -> bool:
    return len(lock._waiters) == waiting


def test_waiters_get_the_lock_in_the_order_they_asked_for_it() -> None:
    lock = FairLock()
    served: list[int] = []
    asked: list[int] = []

    def take(n: int) -> None:
        asked.append(n)
        with lock:
            served.append(n)

    threads = []
    with lock:  # everyone queues behind this holder, one after the other
        for n in range(6):
            t = threading.Thread(target=take, args=(n,))
            t.start()
            threads.append(t)
            _wait_until(functools.partial(_queued, lock, n + 1))
    for t in threads:
        t.join(5)
    assert asked == served == list(range(6))


def test_one_holder_at_a_time_under_contention() -> None:
    lock = FairLock()
    inside = 0
    most = 0
    count = 0

    def work() -> None:
        nonlocal inside, most, count
        for _ in range(2000):
            with lock:
                inside += 1
                most = max(most, inside)
                count += 1
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert (most, count) == (1, 16000)
