"""Every query of the grant domain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.core.allocation import Priority, grant_priority
from allot.grant.models import grant_allowances, grants

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: int
    account_id: str | None
    label: str
    issuer: str
    starts_at: datetime | None
    ends_at: datetime | None
    paused: bool
    issued_at: datetime
    claimed_at: datetime | None
    allowances: Mapping[str, int]
    partner_id: str | None = None
    number: int | None = None
    code: str | None = None
    revoked_at: datetime | None = None

    @property
    def source(self) -> str:
        return f"grant:{self.id}"

    @property
    def priority(self) -> Priority:
        claimed = self.claimed_at or self.issued_at
        ends = None if self.ends_at is None else _micros(self.ends_at)
        return grant_priority(ends, _micros(claimed), self.id)

    def active_at(self, at: datetime) -> bool:
        """Paying at `at`: claimed by then, within its term, not paused or revoked (U8).

        A code claimed today does not pay for usage dated before its claim.
        """
        return (
            not self.paused
            and self.revoked_at is None
            and self.account_id is not None
            and (self.claimed_at is None or self.claimed_at <= at)
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
        )

    @property
    def bounds(self) -> tuple[datetime | None, ...]:
        """The instants at which the grant starts or stops paying."""
        return (self.claimed_at, self.starts_at, self.ends_at)


def insert(
    conn: Connection,
    *,
    account_id: str | None,
    label: str,
    issuer: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    issued_at: datetime,
    claimed_at: datetime | None,
    allowances: Mapping[str, int],
    partner_id: str | None = None,
    number: int | None = None,
    code: str | None = None,
) -> int:
    grant_id = int(
        conn.execute(
            sa.insert(grants)
            .values(
                account_id=account_id,
                label=label,
                issuer=issuer,
                starts_at=starts_at,
                ends_at=ends_at,
                paused=False,
                issued_at=issued_at,
                claimed_at=claimed_at,
                partner_id=partner_id,
                number=number,
                code=code,
            )
            .returning(grants.c.id)
        ).scalar_one()
    )
    conn.execute(
        sa.insert(grant_allowances),
        [{"grant_id": grant_id, "metric": m, "monthly_quantity": q} for m, q in allowances.items()],
    )
    return grant_id


def count_for_account(conn: Connection, account_id: str) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(grants).where(grants.c.account_id == account_id)
        ).scalar_one()
    )


def _load(conn: Connection, where: sa.ColumnElement[bool]) -> list[GrantRow]:
    rows = conn.execute(
        sa.select(grants, grant_allowances.c.metric, grant_allowances.c.monthly_quantity)
        .join(grant_allowances, grant_allowances.c.grant_id == grants.c.id)
        .where(where)
        .order_by(grants.c.id, grant_allowances.c.metric)
    ).all()
    found: dict[int, GrantRow] = {}
    allowances: dict[int, dict[str, int]] = {}
    for r in rows:
        if r.id not in found:
            allowances[r.id] = {}
            found[r.id] = GrantRow(
                r.id,
                r.account_id,
                r.label,
                r.issuer,
                r.starts_at,
                r.ends_at,
                r.paused,
                r.issued_at,
                r.claimed_at,
                allowances[r.id],
                r.partner_id,
                r.number,
                r.code,
                r.revoked_at,
            )
        allowances[r.id][r.metric] = int(r.monthly_quantity)
    return list(found.values())


def get(conn: Connection, grant_id: int) -> GrantRow | None:
    found = _load(conn, grants.c.id == grant_id)
    return found[0] if found else None


def for_account(conn: Connection, account_id: str) -> list[GrantRow]:
    return _load(conn, grants.c.account_id == account_id)


_UNPAUSED_FOR_METRIC = (
    sa.select(
        grants.c.id,
        grants.c.starts_at,
        grants.c.ends_at,
        grants.c.claimed_at,
        grants.c.issued_at,
        grant_allowances.c.monthly_quantity,
    )
    .join(grant_allowances, grant_allowances.c.grant_id == grants.c.id)
    .where(
        grants.c.account_id == sa.bindparam("account_id"),
        grant_allowances.c.metric == sa.bindparam("metric"),
        grants.c.paused.is_(False),
        grants.c.revoked_at.is_(None),
    )
)


def unpaused_for_metric(
    conn: Connection, account_id: str, metric: str
) -> list[tuple[GrantRow, int]]:
    """The account's unpaused grants of `metric`, whatever their term, with their allowance."""
    rows = conn.execute(_UNPAUSED_FOR_METRIC, {"account_id": account_id, "metric": metric})
    return [
        (
            GrantRow(
                r.id,
                account_id,
                "",
                "",
                r.starts_at,
                r.ends_at,
                False,
                r.issued_at,
                r.claimed_at,
                {metric: int(r.monthly_quantity)},
            ),
            int(r.monthly_quantity),
        )
        for r in rows
    ]


def active_for_metric(
    conn: Connection, account_id: str, metric: str, at: datetime
) -> list[tuple[GrantRow, int]]:
    """Grants that can pay for `metric` at `at`, with their monthly allowance of it."""
    return [(g, q) for g, q in unpaused_for_metric(conn, account_id, metric) if g.active_at(at)]


def set_paused(conn: Connection, grant_id: int, paused: bool) -> None:
    conn.execute(sa.update(grants).where(grants.c.id == grant_id).values(paused=paused))


# --- Access Codes ------------------------------------------------------------


def next_number(conn: Connection, partner_id: str) -> int:
    """The partner's next `Code #N` (the caller holds the partner's lock)."""
    top = conn.execute(
        sa.select(sa.func.max(grants.c.number)).where(grants.c.partner_id == partner_id)
    ).scalar_one()
    return 1 if top is None else int(top) + 1


def by_code(conn: Connection, code: str) -> GrantRow | None:
    found = _load(conn, grants.c.code == code)
    return found[0] if found else None


def by_number(conn: Connection, partner_id: str, number: int) -> GrantRow | None:
    found = _load(conn, sa.and_(grants.c.partner_id == partner_id, grants.c.number == number))
    return found[0] if found else None


def of_partner(conn: Connection, partner_id: str) -> list[GrantRow]:
    return _load(conn, grants.c.partner_id == partner_id)


def claim(conn: Connection, grant_id: int, account_id: str, at: datetime) -> bool:
    """Give an unclaimed, unrevoked code to `account_id`; False if someone was first."""
    done = conn.execute(
        sa.update(grants)
        .where(
            grants.c.id == grant_id, grants.c.account_id.is_(None), grants.c.revoked_at.is_(None)
        )
        .values(account_id=account_id, claimed_at=at)
    )
    return done.rowcount == 1


def revoke(conn: Connection, grant_id: int, at: datetime) -> None:
    conn.execute(sa.update(grants).where(grants.c.id == grant_id).values(revoked_at=at))


def held_by_codes(conn: Connection, partner_id: str, at: datetime) -> dict[str, int]:
    """Per metric, the monthly units the partner's live codes hold at `at`: issued, claimed
    or paused — not revoked, not ended (A3)."""
    g, a = grants, grant_allowances
    rows = conn.execute(
        sa.select(a.c.metric, sa.func.sum(a.c.monthly_quantity))
        .join(g, g.c.id == a.c.grant_id)
        .where(
            g.c.partner_id == partner_id,
            g.c.revoked_at.is_(None),
            sa.or_(g.c.ends_at.is_(None), g.c.ends_at > at),
        )
        .group_by(a.c.metric)
    )
    return {metric: int(total) for metric, total in rows}
