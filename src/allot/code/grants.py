"""Grant use cases: give an account a prepaid monthly allowance, pause and resume it.

A grant is a source in the waterfall (U2) drawn before the plan; its
allowance is full again every calendar month, with no rollover (K4), because
usage counters are per month. Access Codes build on this.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.engine import Connection

from allot import audit
from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core.errors import InvalidInput, NotFound
from allot.core.periods import require_utc
from allot.grant import repository as repo
from allot.grant.repository import GrantRow
from allot.kit import validate
from allot.kit.clock import Clock
from allot.usage.seats import settle_seats


def seen(grant: GrantRow) -> dict[str, object]:
    """A grant or code as the audit log keeps it: everything but a code's secret text."""
    return {
        "label": grant.label,
        "account_id": grant.account_id,
        "allowances": dict(grant.allowances),
        "starts_at": grant.starts_at,
        "ends_at": grant.ends_at,
        "paused": grant.paused,
        "claimed_at": grant.claimed_at,
        "revoked_at": grant.revoked_at,
    }


def log(conn: Connection, clock: Clock, verb: str, was: GrantRow | None, now: GrantRow) -> None:
    """Into the audit log: `code.<verb>` (a partner's code, by its number) or `grant.<verb>`."""
    kind, subject = (
        ("grant", str(now.id))
        if now.partner_id is None
        else ("code", f"{now.partner_id}/{now.number}")
    )
    audit.record(
        conn,
        clock,
        change=f"{kind}.{verb}",
        subject_kind=kind,
        subject_id=subject,
        account_id=now.account_id,
        partner_id=now.partner_id,
        before=None if was is None else seen(was),
        after=seen(now),
    )


def grant(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    allowances: Mapping[str, int],
    label: str | None = None,
    issuer: str = "operator",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> GrantRow:
    """Give `account_id` a grant, claimed now; lifetime unless `ends_at` is set (K3)."""
    get_account(conn, account_id, lock=True)
    starts, ends = check_package(conn, allowances, starts_at, ends_at)
    now = clock.now()
    if label is None:
        label = f"Grant #{repo.count_for_account(conn, account_id) + 1}"
    grant_id = repo.insert(
        conn,
        account_id=account_id,
        label=validate.text(label, field="label"),
        issuer=validate.text(issuer, field="issuer"),
        starts_at=starts,
        ends_at=ends,
        issued_at=now,
        claimed_at=now,
        allowances=dict(allowances),
    )
    settle_seats(conn, clock, account_id=account_id)
    found = repo.get(conn, grant_id)
    assert found is not None
    log(conn, clock, "given", None, found)
    return found


def check_package(
    conn: Connection,
    allowances: Mapping[str, int],
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> tuple[datetime | None, datetime | None]:
    """A package names known metrics with positive monthly quantities, and a sane term."""
    if not allowances:
        raise InvalidInput(
            "empty_package", "a package needs at least one resource", field="allowances"
        )
    for metric, quantity in allowances.items():
        if catalog_repo.get_metric(conn, metric) is None:
            raise NotFound(
                "metric_not_found",
                f"no metric {metric!r} in the catalog",
                field=f"allowances.{metric}",
            )
        validate.positive_int(quantity, field=f"allowances.{metric}")
    starts = None if starts_at is None else require_utc(starts_at, field="starts_at")
    ends = None if ends_at is None else require_utc(ends_at, field="ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise InvalidInput("ends_before_start", "ends_at must be after starts_at", field="ends_at")
    return starts, ends


def get_grant(conn: Connection, grant_id: int) -> GrantRow:
    found = repo.get(conn, grant_id)
    if found is None:
        raise NotFound("grant_not_found", f"no grant {grant_id}", field="grant_id")
    return found


def set_paused(conn: Connection, clock: Clock, *, grant_id: int, paused: bool) -> GrantRow:
    """Pause: the waterfall skips the grant from now on; what it already paid for stays (K5)."""
    found = get_grant(conn, grant_id)
    if found.account_id is not None:
        get_account(conn, found.account_id, lock=True)
    repo.set_paused(conn, grant_id, paused)
    if not paused and found.account_id is not None:
        settle_seats(conn, clock, account_id=found.account_id)
    done = get_grant(conn, grant_id)
    log(conn, clock, "paused" if paused else "resumed", found, done)
    return done
