"""P4 under kill -9: the charging round killed at random points, rerun each time, charges
every invoice exactly once at the provider and loses none.

120 businesses on stamp-card Monthly renew on 1 March: 90 with a good card, 15 whose card
declines, 15 whose card needs authentication. `allot payments collect` (the worker's
charging round, run alone) is started against the database and the sandbox provider,
killed with SIGKILL at a random point, and started again — at least 50 kills; then it
runs to the end. The sandbox answers after a network's delay on each side of its own
commit, so the kills land in every window: before the provider is called, after it
charged and before allot recorded it, and in the middle of recording.

Between runs the database's simulated clock moves six minutes on, past the lease of an
attempt a killed run left pending, so the next run asks the provider again with that
attempt's key. Counted at the provider, whatever the kills:

* every good card's invoice has exactly one successful charge, and allot has it paid;
* every declining card was charged once, its failure recorded, no retry yet (that is a
  day later); every authentication card has one payment waiting for its cardholder;
* every charge at the provider is an attempt allot recorded, and none is left pending.

The killed runs are forked from a process that imported the command line once (as in
`tests/invoice/test_crash_safety.py`): starting Python and allot fifty times would take
longer than the runs themselves.
"""

from __future__ import annotations

import functools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa

from allot.account.service import update_account
from allot.billing import payments
from allot.invoice.models import invoices
from allot.kit import simclock
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.payment.models import payment_attempts
from allot.payment.sandbox import SandboxGateway
from tests.scenarios.world import World, local

pytestmark = pytest.mark.slow

SEED = 20260301
KILLS = 50
MAX_RUNS = 120
LATENCY = 0.01  # seconds the sandbox waits on each side of its commit
CARDS = [("4242424242424242", 90), ("4000000000000002", 15), ("4000002760003184", 15)]
KYIV = "Europe/Kyiv"

FORK_SERVER = """
import os, sys
answers = os.fdopen(os.dup(1), "w")
log = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
os.dup2(log, 1)
os.dup2(log, 2)
from allot.cli.main import app
try:
    app(["payments", "--help"], prog_name="allot")
except SystemExit:
    pass
import allot.billing.collect, allot.payment.sandbox  # what the round uses, warmed up
sys.stdout.flush()
for line in sys.stdin:
    if line.strip() == "go":
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                app(["payments", "collect", "--batch", "20"], prog_name="allot")
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                sys.stdout.flush()
                os._exit(code)
        print(pid, file=answers, flush=True)
    elif line.strip() == "reap":
        print(os.waitpid(pid, 0)[1], file=answers, flush=True)
"""


class Rounds:
    """`allot payments collect` processes, each killed or left to finish."""

    def __init__(self, url: str, sandbox: Path, log: Path) -> None:
        self.log = log
        env = {
            **os.environ,
            "ALLOT_DATABASE_URL": url,
            "ALLOT_SANDBOX_PATH": str(sandbox),
            "ALLOT_SANDBOX_LATENCY": str(LATENCY),
        }
        self.env = env
        self.server = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER, str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        self._in: IO[str] = self.server.stdin  # type: ignore[assignment]
        self._out: IO[str] = self.server.stdout  # type: ignore[assignment]
        self._running: int | None = None

    def _ask(self, command: str) -> int:
        self._in.write(command + "\n")
        self._in.flush()
        answer = self._out.readline()
        assert answer, f"the fork server died; log:\n{self.log.read_text()[-3000:]}"
        return int(answer)

    def kill_when(self, reached: Callable[[], bool], jitter: float) -> bool:
        """Start a round; once `reached()`, wait `jitter` s and SIGKILL it. True if the
        kill ended it (False: it had finished first)."""
        pid = self._running = self._ask("go")
        deadline = time.monotonic() + 120
        while not reached() and not _exited(pid):
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.002)
        time.sleep(jitter)
        os.kill(pid, signal.SIGKILL)
        status = self._ask("reap")
        self._running = None
        if os.WIFSIGNALED(status):
            return True
        assert os.WEXITSTATUS(status) == 0, self.log.read_text()[-3000:]
        return False

    def run_to_the_end(self) -> str:
        allot = Path(sys.executable).with_name("allot")
        done = subprocess.run(
            [str(allot), "payments", "collect", "--batch", "50"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def close(self) -> None:
        if self._running is not None:
            os.kill(self._running, signal.SIGKILL)
        self._in.close()
        self.server.wait(timeout=30)
        self._out.close()


def _exited(pid: int) -> bool:
    """True once the child is a zombie: it has ended and waits to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def build(db: Database, sandbox: SandboxGateway) -> dict[str, str]:
    """The businesses, their cards, and the 1 March renewals issued; account → card."""
    world = World(db, FixedClock(local(KYIV, 2026, 2, 1, 9)))
    rng = random.Random(SEED)
    numbers = [n for n, count in CARDS for _ in range(count)]
    rng.shuffle(numbers)
    cards: dict[str, str] = {}
    for i, number in enumerate(numbers):
        account = f"cafe-{i:03d}"
        world.business(account, plan="monthly", tz=KYIV, started_on=local(KYIV, 2026, 3, 1).date())
        with db.transaction() as conn:
            update_account(
                conn, world.clock, account_id=account,
                billing_details={"email": f"owner@{account}.example"},
            )  # fmt: skip
        payments.sandbox_card(
            db, world.clock, sandbox, account_id=account, number=number, exp_month=12,
            exp_year=2030,
        )  # fmt: skip
        cards[account] = number
    world.at(KYIV, 2026, 3, 1, 9)
    assert len(world.bill().invoices) == len(numbers)
    with db.transaction() as conn:
        simclock.store(conn, world.clock.now())
    return cards


def _window(db: Database, sandbox: SandboxGateway) -> list[str]:
    """Where a kill left the attempts it cut short: not yet at the provider, or charged
    there with the outcome unrecorded."""
    with db.read() as conn:
        pending = conn.execute(
            sa.select(payment_attempts.c.key).where(payment_attempts.c.state == "pending")
        ).scalars()
        keys = set(pending)
    at_provider = {str(c["key"]) for c in sandbox.charges()}
    return ["after the charge" if k in at_provider else "before the call" for k in keys]


def _charged(db: Database, sandbox: SandboxGateway) -> int:
    return len(sandbox.charges())


def _attempted(db: Database, sandbox: SandboxGateway) -> int:
    with db.read() as conn:
        found = conn.execute(sa.select(sa.func.count()).select_from(payment_attempts))
        return int(found.scalar_one())


def _at_least(
    count: Callable[[Database, SandboxGateway], int],
    db: Database,
    sandbox: SandboxGateway,
    target: int,
) -> bool:
    return count(db, sandbox) >= target


def advance(db: Database, minutes: int) -> None:
    with db.transaction() as conn:
        now = simclock.stored(conn)
        assert now is not None
        simclock.store(conn, now + timedelta(minutes=minutes))


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    return SandboxGateway(tmp_path / "sandbox.db")


@pytest.fixture
def rounds(db: Database, sandbox: SandboxGateway, tmp_path: Path) -> Iterator[Rounds]:
    r = Rounds(db.url.render_as_string(hide_password=False), sandbox.path, tmp_path / "log")
    try:
        yield r
    finally:
        r.close()


def test_p4_kill_9_the_charging_round_anywhere_and_each_invoice_is_charged_once(
    db: Database, sandbox: SandboxGateway, rounds: Rounds
) -> None:
    cards = build(db, sandbox)
    total = len(cards)
    rng = random.Random(SEED)
    kills = runs = 0
    where: list[int] = []  # provider charges made when each kill fell
    windows: Counter[str] = Counter()
    while kills < KILLS:
        runs += 1
        assert runs <= MAX_RUNS, f"only {kills} kills in {runs - 1} runs"
        # the next kill point: a random share of the charges still to make, so that the
        # kills walk through the whole run, counted in turn at the provider (the kill then
        # falls around the recording of an outcome) and in allot's attempts (around the
        # call); then up to three provider delays more
        done = len(sandbox.charges())
        left = total - done
        target = done + min(round(rng.uniform(0, 2 * left / (KILLS - kills + 1))), left)
        count = _charged if runs % 2 else _attempted
        reached = functools.partial(_at_least, count, db, sandbox, target)
        if rounds.kill_when(reached, rng.uniform(0, 3 * LATENCY)):
            kills += 1
            where.append(len(sandbox.charges()))
            windows.update(_window(db, sandbox))
        advance(db, 6)  # past the lease of any attempt the kill left pending
    assert len({min(4 * w // total, 3) for w in where}) == 4, where  # kills in every quarter
    # kills fell both before the provider was called and after it charged, unrecorded
    assert windows["before the call"] > 0, windows
    assert windows["after the charge"] > 0, windows
    advance(db, 6)
    rounds.run_to_the_end()
    advance(db, 6)
    rounds.run_to_the_end()  # a second full run has nothing left to do

    provider = sandbox.charges()
    with db.read() as conn:
        rows = conn.execute(sa.select(invoices.c.number, invoices.c.account_id, invoices.c.state))
        numbers = {r.number: str(r.account_id) for r in rows}
        states = {
            str(r.account_id): str(r.state)
            for r in conn.execute(sa.select(invoices.c.account_id, invoices.c.state))
        }
        attempts = conn.execute(sa.select(payment_attempts)).all()

    def payer(charge: dict[str, object]) -> str:
        metadata = charge["metadata"]
        assert isinstance(metadata, dict)
        return str(numbers[metadata["invoice"]])

    by_account = Counter(payer(c) for c in provider)
    succeeded = Counter(payer(c) for c in provider if c["status"] == "succeeded")
    for account, number in cards.items():
        if number == "4242424242424242":
            assert (by_account[account], succeeded[account]) == (1, 1), account
            assert states[account] == "paid", account
        else:
            assert (by_account[account], succeeded[account]) == (1, 0), account
            assert states[account] == "finalized", account
    waiting = [c for c in provider if c["status"] == "requires_action"]
    assert len(waiting) == 15
    # every provider charge is an attempt allot recorded, and no attempt is left pending
    assert sorted(str(c["key"]) for c in provider) == sorted(a.key for a in attempts)
    assert Counter(a.state for a in attempts) == Counter(
        {"succeeded": 90, "failed": 15, "requires_action": 15}
    )
