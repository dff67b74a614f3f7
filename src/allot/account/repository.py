"""Every query of the account domain."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.account.models import accounts
from allot.core.timezones import Zones
from allot.kit.parties import BillingDetails


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: str
    name: str
    timezone: str
    currency: str
    locale: str
    billing_channel: str
    created_at: datetime
    revision: int
    tax_rate: Decimal = Decimal(0)
    referral_credit_minor: int = 0
    credit_balance_minor: int = 0
    timezone_before: str | None = None
    timezone_since: datetime | None = None
    billing_details: dict[str, Any] | None = None  # as `BillingDetails.to_json` wrote it
    billing_email: str | None = None  # its e-mail, lower case, kept here to be looked up by

    @property
    def details(self) -> BillingDetails:
        """A1: legal name, billing e-mail, tax id, address (each may be unset)."""
        return BillingDetails.from_json(self.billing_details)

    @property
    def zones(self) -> Zones:
        """The account's time zone over time (A5)."""
        return Zones(self.timezone, self.timezone_before, self.timezone_since)


_GET = sa.select(accounts).where(accounts.c.id == sa.bindparam("account_id"))
# SQLite renders no FOR UPDATE: its IMMEDIATE transaction already holds the write lock.
_GET_LOCKED = _GET.with_for_update()


def get(conn: Connection, account_id: str, *, lock: bool = False) -> AccountRow | None:
    """The account; `lock=True` serializes writers per account (DESIGN rule 7)."""
    row = conn.execute(_GET_LOCKED if lock else _GET, {"account_id": account_id}).one_or_none()
    return None if row is None else AccountRow(**row._mapping)


def insert(conn: Connection, account: AccountRow) -> None:
    conn.execute(sa.insert(accounts).values(**_values(account)))


def _values(account: AccountRow) -> dict[str, object]:
    return {
        "id": account.id,
        "name": account.name,
        "timezone": account.timezone,
        "currency": account.currency,
        "locale": account.locale,
        "billing_channel": account.billing_channel,
        "created_at": account.created_at,
        "revision": account.revision,
        "tax_rate": account.tax_rate,
        **_email_of(account.billing_details),
    }


def _email_of(details: dict[str, Any] | None) -> dict[str, object]:
    """The details and the address they give, written together so the two never differ."""
    email = BillingDetails.from_json(details).email
    return {"billing_details": details, "billing_email": email.lower() if email else None}


def by_billing_email(conn: Connection, address: str, *, limit: int) -> list[AccountRow]:
    """The accounts billed at `address` (any case), by id."""
    stmt = (
        sa.select(accounts)
        .where(accounts.c.billing_email == address.lower())
        .order_by(accounts.c.id)
        .limit(limit)
    )
    return [AccountRow(**r._mapping) for r in conn.execute(stmt)]


def list_all(conn: Connection, *, limit: int = 100, after: str | None = None) -> list[AccountRow]:
    stmt = sa.select(accounts).order_by(accounts.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(accounts.c.id > after)
    return [AccountRow(**r._mapping) for r in conn.execute(stmt)]


def search(conn: Connection, text: str, *, limit: int) -> list[AccountRow]:
    """Accounts whose id starts with `text` or whose name or billing e-mail holds it."""
    raw = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = raw.lower()
    stmt = (
        sa.select(accounts)
        .where(
            sa.or_(
                accounts.c.id.like(f"{raw}%", escape="\\"),
                sa.func.lower(accounts.c.name).like(f"%{like}%", escape="\\"),
                accounts.c.billing_email.like(f"%{like}%", escape="\\"),
            )
        )
        .order_by(accounts.c.id)
        .limit(limit)
    )
    return [AccountRow(**r._mapping) for r in conn.execute(stmt)]


def new_revision() -> int:
    return secrets.randbits(62)


def update(conn: Connection, account_id: str, values: dict[str, object]) -> None:
    if "billing_details" in values:
        details = values["billing_details"]
        values = {**values, **_email_of(details if isinstance(details, dict) else None)}
    conn.execute(sa.update(accounts).where(accounts.c.id == account_id).values(**values))


def add_credit_balance(conn: Connection, account_id: str, minor: int) -> None:
    """Move the account's credit balance by `minor` (P4; the database refuses it below 0)."""
    conn.execute(
        sa.update(accounts)
        .where(accounts.c.id == account_id)
        .values(credit_balance_minor=accounts.c.credit_balance_minor + minor)
    )


def credit_balances(conn: Connection) -> dict[str, int]:
    """Every account's credit balance that is not zero (for `allot verify`)."""
    rows = conn.execute(
        sa.select(accounts.c.id, accounts.c.credit_balance_minor).where(
            accounts.c.credit_balance_minor != 0
        )
    )
    return {r[0]: int(r[1]) for r in rows}


def add_referral_credit(conn: Connection, account_id: str, minor: int) -> None:
    """Move the account's cached balance of uncredited rewards by `minor` (may be negative)."""
    conn.execute(
        sa.update(accounts)
        .where(accounts.c.id == account_id)
        .values(referral_credit_minor=accounts.c.referral_credit_minor + minor)
    )
