"""Every query of the referral domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.account.models import accounts
from allot.catalog.models import plans
from allot.referral.models import referral_programs, referrals
from allot.subscription.models import subscriptions


@dataclass(frozen=True, slots=True)
class ProgramRow:
    account_id: str
    code: str
    enabled: bool
    enabled_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReferralRow:
    referred_account_id: str
    referrer_account_id: str
    code: str
    currency: str
    attributed_at: datetime
    earned_at: datetime | None
    earned_invoice_id: int | None
    reward_minor: int | None
    applied_minor: int
    referred_name: str = ""


def program_of(conn: Connection, account_id: str) -> ProgramRow | None:
    row = conn.execute(
        sa.select(referral_programs).where(referral_programs.c.account_id == account_id)
    ).one_or_none()
    return None if row is None else ProgramRow(**row._mapping)


def program_by_code(conn: Connection, code: str) -> ProgramRow | None:
    row = conn.execute(
        sa.select(referral_programs).where(referral_programs.c.code == code)
    ).one_or_none()
    return None if row is None else ProgramRow(**row._mapping)


def insert_program(conn: Connection, *, account_id: str, code: str, at: datetime) -> None:
    conn.execute(
        sa.insert(referral_programs).values(
            account_id=account_id, code=code, enabled=True, enabled_at=at, disabled_at=None
        )
    )


def set_enabled(conn: Connection, account_id: str, *, enabled: bool, at: datetime) -> None:
    values: dict[str, object] = {"enabled": enabled}
    values["enabled_at" if enabled else "disabled_at"] = at
    if enabled:
        values["disabled_at"] = None
    conn.execute(
        sa.update(referral_programs)
        .where(referral_programs.c.account_id == account_id)
        .values(**values)
    )


_REFERRAL = sa.select(referrals, accounts.c.name.label("referred_name")).join(
    accounts, accounts.c.id == referrals.c.referred_account_id
)


def referral_of(
    conn: Connection, referred_account_id: str, *, lock: bool = False
) -> ReferralRow | None:
    stmt = _REFERRAL.where(referrals.c.referred_account_id == referred_account_id)
    if lock:
        stmt = stmt.with_for_update(of=referrals)
    row = conn.execute(stmt).one_or_none()
    return None if row is None else ReferralRow(**row._mapping)


def referred_by(conn: Connection, referrer_account_id: str) -> list[ReferralRow]:
    rows = conn.execute(
        _REFERRAL.where(referrals.c.referrer_account_id == referrer_account_id).order_by(
            referrals.c.attributed_at, referrals.c.referred_account_id
        )
    )
    return [ReferralRow(**r._mapping) for r in rows]


def insert_referral(
    conn: Connection, *, referred: str, referrer: str, code: str, currency: str, at: datetime
) -> None:
    conn.execute(
        sa.insert(referrals).values(
            referred_account_id=referred,
            referrer_account_id=referrer,
            code=code,
            currency=currency,
            attributed_at=at,
        )
    )


def earn(
    conn: Connection, referred: str, *, reward_minor: int, invoice_id: int, at: datetime
) -> bool:
    """Record the reward once; False if it was already earned."""
    done = conn.execute(
        sa.update(referrals)
        .where(referrals.c.referred_account_id == referred, referrals.c.earned_at.is_(None))
        .values(earned_at=at, earned_invoice_id=invoice_id, reward_minor=reward_minor)
    )
    return done.rowcount == 1


def unapplied(conn: Connection, referrer_account_id: str, currency: str) -> list[ReferralRow]:
    """Earned rewards not yet fully credited, the oldest earned first, locked."""
    rows = conn.execute(
        _REFERRAL.where(
            referrals.c.referrer_account_id == referrer_account_id,
            referrals.c.currency == currency,
            referrals.c.earned_at.is_not(None),
            referrals.c.applied_minor < referrals.c.reward_minor,
        )
        .order_by(referrals.c.earned_at, referrals.c.referred_account_id)
        .with_for_update(of=referrals)
    )
    return [ReferralRow(**r._mapping) for r in rows]


def apply(conn: Connection, referred: str, minor: int) -> None:
    conn.execute(
        sa.update(referrals)
        .where(referrals.c.referred_account_id == referred)
        .values(applied_minor=referrals.c.applied_minor + minor)
    )


def balances(conn: Connection) -> list[tuple[str, int, int]]:
    """(account, cached balance, balance from the referrals) for every account that has either."""
    owed = (
        sa.select(
            referrals.c.referrer_account_id.label("account_id"),
            sa.func.sum(
                sa.func.coalesce(referrals.c.reward_minor, 0) - referrals.c.applied_minor
            ).label("owed"),
        )
        .group_by(referrals.c.referrer_account_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(accounts.c.id, accounts.c.referral_credit_minor, sa.func.coalesce(owed.c.owed, 0))
        .outerjoin(owed, owed.c.account_id == accounts.c.id)
        .where(sa.or_(accounts.c.referral_credit_minor != 0, owed.c.owed.is_not(None)))
        .order_by(accounts.c.id)
    )
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


def product_line_of(conn: Connection, subscription_id: int) -> str | None:
    """The product line of the plan a subscription is on."""
    found = conn.execute(
        sa.select(plans.c.product_line)
        .join(subscriptions, subscriptions.c.plan_id == plans.c.id)
        .where(subscriptions.c.id == subscription_id)
    ).scalar_one_or_none()
    return None if found is None else str(found)
