"""How long the `allot` command takes to start, beside a bare Python start measured in the same run.

Every figure is the wall time of a fresh process, from spawn to exit, through
the venv's `allot` console script (the way a user runs it), with output thrown
away. The cases run in alternating rounds, one of each per round, so that
drift on a shared machine hits them all alike; the table shows the median and
the fastest run, the median CPU time of the process (user + system: on a busy
machine it moves much less than the wall time), and the ratio of the median to
the raw baseline `python -c pass` (an interpreter that starts and stops, with
site-packages and the editable install's path hooks) and to `python -c "import
typer"` (the least a Typer command line can cost):

* `allot --help` and `allot catalog --help`: the command tree and nothing else;
* `allot usage cafe`: the billing page's numbers on a SQLite database set up
  before the rounds (by the CLI itself: init, the stamp-card preset, an
  account on the free plan, a grant and a few consumes);
* `allot init`: the schema created by the migrations, on a new SQLite file
  every run.

    .venv/bin/python bench/cli_startup.py [--runs 10]

To measure another checkout with the same venv, put its `src` first:
`PYTHONPATH=/path/to/checkout/src .venv/bin/python bench/cli_startup.py`
(the line "allot imported from" says which code ran). Whether the modules'
bytecode is cached decides more than the code does: where
PYTHONDONTWRITEBYTECODE is set and nothing compiled them beforehand (`make env`
does), every start compiles each module from source, two to three times the
CPU. The line "bytecode" says which case was measured.

Bar (issue): `allot --help` and `allot usage ACCOUNT` start in well under a second.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from _harness import machine_note, mark, monotonic, percentile, print_table

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ALLOT = str(Path(PYTHON).with_name("allot"))
ACCOUNT = "cafe"
UNDER = 1.0  # seconds: the "well under a second" is read as a median below this


def run(args: Sequence[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr.decode()}")


def seed(env: dict[str, str]) -> None:
    """A database with one account, its plan, a grant and some usage: what `usage` reads."""
    steps = [
        ["init"],
        ["catalog", "load", str(ROOT / "presets" / "stamp-card.yaml")],
        [
            "accounts",
            "create",
            ACCOUNT,
            "--name",
            "Cafe",
            "--timezone",
            "Europe/Kyiv",
            "--currency",
            "EUR",
        ],
        ["subscribe", ACCOUNT, "card-scanner-free"],
        ["grants", "give", ACCOUNT, "--allow", "card_operations=5", "--label", "Code #1"],
        ["consume", ACCOUNT, "card_operations", "7"],
        ["seats", "take", ACCOUNT, "owner"],
    ]
    for step in steps:
        run([ALLOT, *step], env)


def time_once(args: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = monotonic()
    run(args, env)
    wall = monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def bytecode_note() -> str:
    """Whether SQLAlchemy's and allot's modules start from cached bytecode or from source."""
    probe = (
        "import importlib.util, os, sqlalchemy, allot.cli.main as m\n"
        "print(*(os.path.exists(importlib.util.cache_from_source(f))"
        " for f in (sqlalchemy.__file__, m.__file__)))"
    )
    found = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True).stdout.split()
    cached = dict(zip(("site-packages", "allot"), found, strict=False))
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE") or "unset"
    return (
        f"bytecode cached: site-packages {cached.get('site-packages')}, "
        f"allot {cached.get('allot')}; PYTHONDONTWRITEBYTECODE={flag}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="Rounds (one run of each case).")
    args = parser.parse_args()

    print(machine_note(), flush=True)
    where = subprocess.run(
        [PYTHON, "-c", "import allot; print(allot.__file__)"], capture_output=True, text=True
    ).stdout.strip()
    print(f"allot imported from {where}; {args.runs} rounds", flush=True)
    print(bytecode_note(), flush=True)

    with tempfile.TemporaryDirectory(prefix="allot-bench-cli-") as tmp:
        base = {**os.environ, "COLUMNS": "100"}
        seeded = {**base, "ALLOT_DATABASE_URL": f"sqlite:///{Path(tmp) / 'seeded.db'}"}
        seed(seeded)

        def fresh(n: int) -> dict[str, str]:
            return {**base, "ALLOT_DATABASE_URL": f"sqlite:///{Path(tmp) / f'init-{n}.db'}"}

        cases: list[tuple[str, list[str], Callable[[int], dict[str, str]]]] = [
            ("python -c pass (raw baseline)", [PYTHON, "-c", "pass"], lambda _: base),
            ('python -c "import typer"', [PYTHON, "-c", "import typer"], lambda _: base),
            ("allot --help", [ALLOT, "--help"], lambda _: base),
            ("allot catalog --help", [ALLOT, "catalog", "--help"], lambda _: base),
            (f"allot usage {ACCOUNT}", [ALLOT, "usage", ACCOUNT], lambda _: seeded),
            ("allot init (new SQLite file)", [ALLOT, "init"], fresh),
        ]
        for name, argv, env_of in cases:  # warm-up: the OS's file cache, .pyc files
            run(argv, env_of(-1 - len(name)))
        samples: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        cpu: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        for n in range(args.runs):
            for name, argv, env_of in cases:
                wall, used = time_once(argv, env_of(n))
                samples[name].append(wall)
                cpu[name].append(used)

    bare = percentile(samples[cases[0][0]], 50)
    typer_only = percentile(samples[cases[1][0]], 50)
    rows = []
    for name, _, _ in cases:
        median = percentile(samples[name], 50)
        rows.append(
            [
                name,
                median * 1000,
                min(samples[name]) * 1000,
                percentile(cpu[name], 50) * 1000,
                median / bare,
                median / typer_only,
            ]
        )
    print_table(
        ["command", "median ms", "fastest ms", "CPU ms", "× python", "× import typer"],
        rows,
        title="CLI start-up: wall time of a fresh process",
    )
    print()
    for name in ("allot --help", f"allot usage {ACCOUNT}"):
        median = percentile(samples[name], 50)
        print(f"{name}: median {median:.3f} s < {UNDER} s  {mark(median < UNDER)}")


if __name__ == "__main__":
    main()
