"""Recording and reading the audit log (S1).

A use case that changes something calls `record` in its own transaction, with what the
thing was before and is after; the actor is the one its entry point named on the
connection (`allot.kit.acting`). The row commits or rolls back with the change itself,
so the log never claims a change that did not happen, nor misses one that did.

What is *not* here, on purpose: each unit of usage (a consume, a seat taken, an order)
is already recorded once, append-only, in the usage ledger and its events, with its
idempotency key; copying millions of them here would double the hot path's writes and
say nothing more. The log records the changes around them: plans, codes, invoices,
payments, catalogs, keys, endpoints, settings.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.audit.models import audit_events
from allot.kit.acting import actor
from allot.kit.clock import Clock


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor_kind: str
    actor_id: str
    actor_role: str
    acting_for: str | None
    change: str
    subject_kind: str
    subject_id: str
    account_id: str | None
    partner_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


COLUMNS = tuple(f.name for f in dataclasses.fields(AuditEvent))


def plain(value: Any) -> Any:
    """A value as JSON holds it: exact decimals and instants as text, never floats.

    >>> plain({"price": Decimal("0.10"), "tags": ("a",), "at": date(2026, 1, 31)})
    {'price': '0.10', 'tags': ['a'], 'at': '2026-01-31'}
    """
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _shown(side: Any, hide: Collection[str]) -> Any:
    found = plain(side)
    if isinstance(found, dict) and hide:
        return {k: v for k, v in found.items() if k not in hide}
    return found


def record(
    conn: Connection,
    clock: Clock,
    *,
    change: str,
    subject_kind: str,
    subject_id: str | int,
    account_id: str | None = None,
    partner_id: str | None = None,
    before: Any = None,
    after: Any = None,
    hide: Collection[str] = (),
) -> None:
    """One change, in the caller's transaction. Nothing is written when nothing changed.

    `before` and `after` are rows or mappings (None: it did not exist, or no longer
    does); `hide` names their fields the log leaves out (internal counters, secrets).
    """
    was, now = _shown(before, hide), _shown(after, hide)
    if was is not None and was == now:
        return
    who = actor(conn)
    conn.execute(
        audit_events.insert().values(
            at=clock.now(),
            actor_kind=who.kind.value,
            actor_id=who.id,
            actor_role=who.role,
            acting_for=who.acting_for,
            change=change,
            subject_kind=subject_kind,
            subject_id=str(subject_id),
            account_id=account_id,
            partner_id=partner_id,
            before=was,
            after=now,
        )
    )


@dataclass(frozen=True, slots=True)
class Search:
    """What to look for; every field narrows (none: everything), newest first."""

    actor_id: str | None = None
    change: str | None = None  # exact ("code.paused") or a family ("code.")
    subject_kind: str | None = None
    subject_id: str | None = None
    account_id: str | None = None
    partner_id: str | None = None
    since: datetime | None = None  # at >= since
    until: datetime | None = None  # at < until
    before: int | None = None  # ids below this one (the next page)
    limit: int = 100


def search(conn: Connection, query: Search) -> list[AuditEvent]:
    t = audit_events
    stmt = sa.select(*[t.c[name] for name in COLUMNS]).order_by(t.c.id.desc()).limit(query.limit)
    for name in ("actor_id", "subject_kind", "subject_id", "account_id", "partner_id"):
        wanted = getattr(query, name)
        if wanted is not None:
            stmt = stmt.where(t.c[name] == wanted)
    if query.change is not None:
        if query.change.endswith("."):
            stmt = stmt.where(t.c.change.startswith(query.change, autoescape=True))
        else:
            stmt = stmt.where(t.c.change == query.change)
    if query.since is not None:
        stmt = stmt.where(t.c.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(t.c.at < query.until)
    if query.before is not None:
        stmt = stmt.where(t.c.id < query.before)
    return [AuditEvent(**row._mapping) for row in conn.execute(stmt)]


def to_csv(events: Sequence[AuditEvent]) -> str:
    """One row per event; `before` and `after` as JSON text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for event in events:
        row = [getattr(event, name) for name in COLUMNS]
        row[1] = event.at.isoformat()
        row[-2:] = [
            "" if side is None else json.dumps(side, sort_keys=True, ensure_ascii=False)
            for side in (event.before, event.after)
        ]
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()
