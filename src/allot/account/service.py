"""Account use cases: create and read a business (A1)."""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

from allot.account import repository as repo
from allot.account.repository import AccountRow
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.core.money import exponent
from allot.core.periods import zone
from allot.kit import validate
from allot.kit.clock import Clock

BILLING_CHANNELS = ("card", "external")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")


def create_account(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    name: str,
    timezone: str,
    currency: str,
    locale: str = "en",
    billing_channel: str = "card",
) -> AccountRow:
    validate.identifier(account_id, field="id")
    zone(timezone)
    if not isinstance(currency, str) or currency != currency.upper():
        raise InvalidInput("unknown_currency", "use an upper-case ISO 4217 code", field="currency")
    exponent(currency)
    if not isinstance(locale, str) or not _LOCALE.match(locale):
        raise InvalidInput(
            "invalid_locale", f"{locale!r} is not a locale like 'en' or 'th_TH'", field="locale"
        )
    if billing_channel not in BILLING_CHANNELS:
        raise InvalidInput(
            "invalid_billing_channel",
            f"must be one of {', '.join(BILLING_CHANNELS)}",
            field="billing_channel",
        )
    if repo.get(conn, account_id) is not None:
        raise Conflict("account_exists", f"account {account_id!r} already exists", field="id")
    account = AccountRow(
        id=account_id,
        name=validate.text(name, field="name"),
        timezone=timezone,
        currency=currency,
        locale=locale,
        billing_channel=billing_channel,
        created_at=clock.now(),
        revision=repo.new_revision(),
    )
    repo.insert(conn, account)
    return account


def get_account(conn: Connection, account_id: str, *, lock: bool = False) -> AccountRow:
    account = repo.get(conn, account_id, lock=lock)
    if account is None:
        raise NotFound("account_not_found", f"no account {account_id!r}", field="account_id")
    return account
