"""/v1/audit-events: the audit log, searched (JSON pages) or exported (CSV); operator only."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from allot.api_context import Caller, Db
from allot.audit.schemas import AuditEventRead, AuditPage
from allot.audit.service import AuditEvent, Search, search, to_csv
from allot.kit.validate import Instant

router = APIRouter(tags=["audit"])

CSV_ALL = 100_000  # one export's rows at most: narrow it by time (or page by `before`)
Name = Annotated[str | None, Query(min_length=1, max_length=128)]


def _filters(
    actor_id: Name = None,
    change: Annotated[
        str | None, Query(min_length=1, max_length=64, description="`code.paused`, or `code.`")
    ] = None,
    subject_kind: Name = None,
    subject_id: Name = None,
    account_id: Name = None,
    partner_id: Name = None,
    since: Annotated[Instant | None, Query(description="At or after this instant.")] = None,
    until: Annotated[Instant | None, Query(description="Before this instant.")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="`next_before` of the previous page.")
    ] = None,
) -> Search:
    return Search(
        actor_id=actor_id,
        change=change,
        subject_kind=subject_kind,
        subject_id=subject_id,
        account_id=account_id,
        partner_id=partner_id,
        since=since,
        until=until,
        before=before,
    )


Filters = Annotated[Search, Depends(_filters)]


def _found(db: Db, caller: Caller, query: Search) -> list[AuditEvent]:
    with db.read() as conn:
        caller.check(conn).require_operator()
        return search(conn, query)


@router.get("/audit-events", response_model=AuditPage)
def get_audit_events(
    db: Db, caller: Caller, filters: Filters, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> AuditPage:
    """Every change by an operator, a partner, an API key, a business or the system —
    who, what, when, before and after — newest first. Nobody can change or delete one."""
    found = _found(db, caller, dataclasses.replace(filters, limit=limit))
    return AuditPage(
        data=[AuditEventRead(**dataclasses.asdict(e)) for e in found],
        next_before=found[-1].id if len(found) == limit else None,
    )


CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One row per event, newest first; `before` and `after` as JSON text",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("/audit-events.csv", response_class=Response, responses=CSV_DOC)
def get_audit_events_csv(db: Db, caller: Caller, filters: Filters) -> Response:
    """The same events for a spreadsheet or an archive: up to 100,000 at a time."""
    found = _found(db, caller, dataclasses.replace(filters, limit=CSV_ALL))
    return Response(
        to_csv(found),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )
