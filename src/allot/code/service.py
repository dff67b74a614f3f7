"""Access Code use cases (K1-K8): issue, claim, assign, pause, resume, revoke.

A code is a grant (see `allot.grant`) with a partner, a number (`Code #N`)
and a typed text. Until claimed it belongs to no account and pays for
nothing; claimed, it sits in the waterfall before the plan (U2), full again
every month (K4). Its usage never reaches the account's invoices (K8): the
partner pays for its codes at its wholesale terms instead.

Every wrong guess — a code that does not exist, is already claimed or was
revoked — gets the same answer, so claiming cannot be used to probe codes;
a mistyped code is caught by its check symbol before any lookup.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.code.grants import check_package, log, set_paused
from allot.core.codes import ENTROPY_BYTES, format_code, is_well_formed, normalize
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.grant import repository as grant_repo
from allot.grant.repository import GrantRow
from allot.kit.clock import Clock
from allot.partner.inventory import check_room
from allot.partner.service import get_partner
from allot.usage.repository import ledger as ledger_repo
from allot.usage.seats import settle_seats

NO_SUCH_CODE = "this code is not valid: check it with the partner who gave it to you"


def issue_code(
    conn: Connection,
    clock: Clock,
    *,
    partner_id: str,
    allowances: Mapping[str, int],
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> GrantRow:
    """Issue `Code #N` with a package (any bundle of monthly allowances); lifetime unless ended."""
    partner = get_partner(conn, partner_id, lock=True)
    starts, ends = check_package(conn, allowances, starts_at, ends_at)
    check_room(conn, clock, partner_id=partner.id, allowances=allowances)  # A3
    number = grant_repo.next_number(conn, partner.id)
    grant_id = grant_repo.insert(
        conn,
        account_id=None,
        label=f"Code #{number}",
        issuer=partner.name,
        starts_at=starts,
        ends_at=ends,
        issued_at=clock.now(),
        claimed_at=None,
        allowances=dict(allowances),
        partner_id=partner.id,
        number=number,
        code=normalize(format_code(secrets.token_bytes(ENTROPY_BYTES))),
    )
    found = grant_repo.get(conn, grant_id)
    assert found is not None
    log(conn, clock, "issued", None, found)
    return found


def code_state(code: GrantRow, now: datetime) -> str:
    """issued, claimed, paused, ended or revoked: what the partner sees of a code."""
    if code.revoked_at is not None:
        return "revoked"
    if code.ends_at is not None and code.ends_at <= now:
        return "ended"
    if code.account_id is None:
        return "issued"
    return "paused" if code.paused else "claimed"


def partner_code(conn: Connection, partner_id: str, number: int) -> GrantRow:
    """One of the partner's own codes; another partner's code is simply not found."""
    found = grant_repo.by_number(conn, partner_id, number)
    if found is None:
        raise NotFound("code_not_found", f"no Code #{number}", field="number")
    return found


def list_codes(conn: Connection, partner_id: str) -> list[GrantRow]:
    get_partner(conn, partner_id)
    return grant_repo.of_partner(conn, partner_id)


def _give(conn: Connection, clock: Clock, code: GrantRow, account_id: str, verb: str) -> GrantRow:
    get_account(conn, account_id, lock=True)
    if not grant_repo.claim(conn, code.id, account_id, clock.now()):
        raise NotFound("code_not_found", NO_SUCH_CODE, field="code")
    settle_seats(conn, clock, account_id=account_id)
    claimed = grant_repo.get(conn, code.id)
    assert claimed is not None
    log(conn, clock, verb, code, claimed)
    return claimed


def claim_code(conn: Connection, clock: Clock, *, account_id: str, code: str) -> GrantRow:
    """A business types the code (or follows the partner's activation link): once, by one."""
    if not isinstance(code, str) or not is_well_formed(code):
        raise InvalidInput(
            "invalid_code_format",
            "this does not look like an Access Code: check for a typo",
            field="code",
        )
    found = grant_repo.by_code(conn, normalize(code))
    if found is None or found.account_id is not None or found.revoked_at is not None:
        raise NotFound("code_not_found", NO_SUCH_CODE, field="code")
    return _give(conn, clock, found, account_id, "claimed")


def assign_code(
    conn: Connection, clock: Clock, *, partner_id: str, number: int, account_id: str
) -> GrantRow:
    """The partner gives one of its unclaimed codes to a business directly."""
    found = partner_code(conn, partner_id, number)
    if found.account_id is not None or found.revoked_at is not None:
        raise Conflict(
            "code_not_available", f"Code #{number} is claimed or revoked", field="number"
        )
    return _give(conn, clock, found, account_id, "assigned")


def pause_code(
    conn: Connection, clock: Clock, *, partner_id: str, number: int, paused: bool
) -> GrantRow:
    """Pause: skipped by the waterfall from now on; what it already paid for stays (K5)."""
    found = partner_code(conn, partner_id, number)
    if found.revoked_at is not None:
        raise Conflict("code_revoked", f"Code #{number} was revoked", field="number")
    return set_paused(conn, clock, grant_id=found.id, paused=paused)


def revoke_code(conn: Connection, clock: Clock, *, partner_id: str, number: int) -> GrantRow:
    """Revoke a code its business never used (K5); a used code answers `code_in_use`."""
    found = partner_code(conn, partner_id, number)
    if found.account_id is not None:
        get_account(conn, found.account_id, lock=True)
        if ledger_repo.source_ever_used(conn, found.account_id, found.source):
            raise Conflict(
                "code_in_use", f"Code #{number} has been used; pause it instead", field="number"
            )
    if found.revoked_at is None:
        grant_repo.revoke(conn, found.id, clock.now())
    revoked = grant_repo.get(conn, found.id)
    assert revoked is not None
    log(conn, clock, "revoked", found, revoked)
    return revoked
