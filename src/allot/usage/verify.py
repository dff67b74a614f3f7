"""Prove the ledger: every counter equals the sum of its entries (DESIGN rule 6).

And that it names the real payer of the top-ups it bills (U3, R2): a month's
units paid by the top-up are the orders the Reviews gate charged to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from allot.backlog import repository as backlog_repo
from allot.core.allocation import SourceKind
from allot.usage.models import GAUGE_PERIOD
from allot.usage.repository import counters as counter_repo
from allot.usage.repository import holds as hold_repo
from allot.usage.repository import ledger as ledger_repo


@dataclass(frozen=True, slots=True)
class Mismatch:
    account_id: str
    metric: str
    period: str
    source: str
    problem: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    counters: int
    entries: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def verify(conn: Connection) -> VerifyReport:
    sums = ledger_repo.ledger_sums(conn)
    counters = counter_repo.all_counters(conn)
    holds = hold_repo.open_hold_counts(conn)
    problems: list[Mismatch] = []
    for key in sorted(set(sums) | set(counters)):
        total = sums.get(key, 0)
        used, granted = counters.get(key, (0, None))
        if total != used:
            problems.append(Mismatch(*key, f"counter says {used}, ledger sums to {total}"))
        if granted is not None and used > granted:
            problems.append(Mismatch(*key, f"used {used} exceeds granted {granted}"))
        account_id, metric, period, source = key
        if period == GAUGE_PERIOD and holds.get((account_id, metric, source), 0) != used:
            problems.append(
                Mismatch(
                    *key,
                    f"{holds.get((account_id, metric, source), 0)} seats held, counter says {used}",
                )
            )
    top_up = SourceKind.TOP_UP.value
    in_ledger: dict[tuple[str, str], int] = {}
    for (account_id, _metric, period, source), total in sums.items():
        if source == top_up:
            in_ledger[account_id, period] = in_ledger.get((account_id, period), 0) + total
    charged = backlog_repo.topped_up_months(conn)
    for account_id, period in sorted(set(in_ledger) | set(charged)):
        units, orders = in_ledger.get((account_id, period), 0), charged.get((account_id, period), 0)
        if units != orders:
            problems.append(
                Mismatch(
                    account_id,
                    "*",
                    period,
                    top_up,
                    f"the top-up charged {orders} orders, the ledger has {units} top-up units",
                )
            )
    return VerifyReport(len(counters), ledger_repo.entry_count(conn), tuple(problems))
