"""What every usage action shares: its answer, its idempotency, its record (U1, U3).

An action (a consume, a seat taken or released, a backlog release) locks the
account, replays the first answer if its idempotency key is known, or else
records one usage event with the ledger lines that say who paid.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from allot.catalog import repository as catalog_repo
from allot.core.allocation import FREE_OVERAGE_PROMPT, Decision, Draw, Outcome, SourceKind
from allot.core.catalog import MetricKind
from allot.core.errors import IdempotencyMismatch, InvalidInput, NotFound
from allot.core.timezones import Zones
from allot.usage.alerts import Drawn
from allot.usage.repository import ledger as ledger_repo
from allot.usage.repository import routes as route_repo
from allot.usage.repository.ledger import EventRow, Line
from allot.usage.sources import Waterfall


@dataclass(frozen=True, slots=True)
class UsageResult:
    """The answer to "may this happen, and who pays?" — also what a retry replays."""

    event_id: int
    account_id: str
    action: str  # consume | seat_take | seat_release
    metric: str
    quantity: int
    period: str
    occurred_at: datetime
    outcome: Outcome
    reason: str
    draws: tuple[Draw, ...]
    prompt: tuple[str, ...]
    replayed: bool = False
    holder: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.BLOCKED


# json.dumps(body, sort_keys=True, default=str) builds this encoder on every call
_BODY = json.JSONEncoder(sort_keys=True, default=str)


def hash_request(**body: object) -> str:
    return hashlib.sha256(_BODY.encode(body).encode()).hexdigest()


def check_metric(conn: Connection, code: str, kind: MetricKind) -> None:
    found = None if "\x00" in code else catalog_repo.metric_kind(conn, code)
    if found is None:
        raise no_metric(code)
    if found is not kind:
        hint = "take or release a seat" if found is MetricKind.GAUGE else "consume it"
        raise InvalidInput(
            "wrong_metric_kind", f"{code!r} is a {found.value}: {hint}", field="metric"
        )


def no_metric(code: str) -> NotFound:
    return NotFound("metric_not_found", f"no metric {code!r} in the catalog", field="metric")


def lock(conn: Connection, account_id: str) -> tuple[Zones, int]:
    """Lock the account for this transaction: (its time zones, revision)."""
    found = route_repo.lock_account(conn, account_id)
    if found is None:
        raise NotFound("account_not_found", f"no account {account_id!r}", field="account_id")
    return found


def lock_and_find(conn: Connection, account_id: str, key: str) -> tuple[Zones, EventRow | None]:
    """Lock the account, then look the key up: (its time zones, earlier event with this key).

    Two statements on purpose: on PostgreSQL a statement that waited for the
    lock still reads from the snapshot it started with, so a lookup joined to
    the lock would miss an event committed by the request it waited for.
    """
    zones, _revision = lock(conn, account_id)
    return zones, ledger_repo.find_event(conn, account_id, key)


def replay(event: EventRow, request_hash: str, conn: Connection) -> UsageResult:
    if event.request_hash != request_hash:
        raise IdempotencyMismatch(event.idempotency_key)
    outcome = Outcome(event.outcome)
    return UsageResult(
        event_id=event.id,
        account_id=event.account_id,
        action=event.action,
        metric=event.metric,
        quantity=event.quantity,
        period=event.period,
        occurred_at=event.occurred_at,
        outcome=outcome,
        reason=event.reason,
        draws=tuple(
            Draw(ln.source, SourceKind(ln.source_kind), ln.quantity)
            for ln in ledger_repo.event_lines(conn, event.id)
        ),
        prompt=FREE_OVERAGE_PROMPT if outcome is Outcome.FREE_OVERAGE else (),
        replayed=True,
        holder=event.holder,
    )


def record(
    conn: Connection,
    *,
    account_id: str,
    key: str,
    request_hash: str,
    action: str,
    metric: str,
    quantity: int,
    holder: str | None,
    period: str,
    occurred_at: datetime,
    recorded_at: datetime,
    decision: Decision,
    lines: list[Line],
) -> UsageResult:
    event_id = ledger_repo.insert_event(
        conn,
        account_id=account_id,
        idempotency_key=key,
        request_hash=request_hash,
        action=action,
        metric=metric,
        quantity=quantity,
        holder=holder,
        period=period,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        outcome=decision.outcome.value,
        reason=decision.reason,
    )
    ledger_repo.post(
        conn,
        event_id=event_id,
        account_id=account_id,
        metric=metric,
        period=period,
        occurred_at=occurred_at,
        lines=lines,
    )
    return UsageResult(
        event_id=event_id,
        account_id=account_id,
        action=action,
        metric=metric,
        quantity=quantity,
        period=period,
        occurred_at=occurred_at,
        outcome=decision.outcome,
        reason=decision.reason,
        draws=tuple(Draw(ln.source, SourceKind(ln.source_kind), ln.quantity) for ln in lines),
        prompt=decision.prompt,
        holder=holder,
    )


def lines_of(decision: Decision, granted: dict[str, int]) -> list[Line]:
    return [
        Line(d.source, d.kind.value, d.quantity, granted.get(d.source) if d.kind.limited else None)
        for d in decision.draws
    ]


def drawn_after(decision: Decision, fall: Waterfall) -> list[Drawn]:
    """Each draw with its source's counter after it (limited sources only need it)."""
    remaining = {s.source: s.remaining for s in fall.sources}
    return [
        Drawn(
            d.source,
            d.kind,
            d.quantity,
            fall.granted.get(d.source),
            fall.granted[d.source] - remaining[d.source] + d.quantity
            if d.source in remaining
            else 0,
        )
        for d in decision.draws
    ]
