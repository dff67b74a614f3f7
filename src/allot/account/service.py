"""Account use cases: create and read a business (A1)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from allot import audit
from allot.account import repository as repo
from allot.account.models import BillingChannel
from allot.account.repository import AccountRow
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.core.invoicing import check_tax_rate
from allot.core.money import exponent, to_decimal
from allot.core.periods import zone
from allot.kit import validate
from allot.kit.clock import Clock
from allot.kit.parties import check_details

BILLING_CHANNELS = tuple(BillingChannel)
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
    tax_rate: Decimal | str = Decimal(0),
    billing_details: Mapping[str, Any] | None = None,
) -> AccountRow:
    validate.identifier(account_id, field="id")
    zone(timezone)
    if not isinstance(currency, str) or currency != currency.upper():
        raise InvalidInput("unknown_currency", "use an upper-case ISO 4217 code", field="currency")
    exponent(currency)
    _check_locale(locale)
    _check_channel(billing_channel)
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
        tax_rate=_tax_rate(tax_rate),
        billing_details=_details(billing_details),
    )
    repo.insert(conn, account)
    _log(conn, clock, "account.created", None, account)
    return account


def _log(
    conn: Connection, clock: Clock, change: str, was: AccountRow | None, now: AccountRow
) -> None:
    audit.record(
        conn, clock, change=change, subject_kind="account", subject_id=now.id,
        account_id=now.id, before=was, after=now, hide=("revision",),
    )  # fmt: skip


def _check_locale(locale: str) -> None:
    if not isinstance(locale, str) or not _LOCALE.match(locale):
        raise InvalidInput(
            "invalid_locale", f"{locale!r} is not a locale like 'en' or 'th_TH'", field="locale"
        )


def _tax_rate(value: Decimal | str) -> Decimal:
    return check_tax_rate(to_decimal(value, field="tax_rate"))


def _details(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A1: checked and stored as JSON; an empty object (or none) means no details."""
    if raw is None:
        return None
    return check_details(raw).to_json() or None


def _check_channel(billing_channel: str) -> None:
    if billing_channel not in BILLING_CHANNELS:
        raise InvalidInput(
            "invalid_billing_channel",
            f"must be one of {', '.join(BILLING_CHANNELS)}",
            field="billing_channel",
        )


def update_account(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    name: str | None = None,
    timezone: str | None = None,
    locale: str | None = None,
    billing_channel: str | None = None,
    tax_rate: Decimal | str | None = None,
    billing_details: Mapping[str, Any] | None = None,
) -> AccountRow:
    """Change what may change; the currency may not (it is on every document already issued).

    A new time zone takes effect from the next calendar month (A5, see
    `allot.core.timezones`): usage already recorded, or reported late for an
    earlier month, keeps its month. A database trigger changes the account's
    revision, so the consume fast path re-learns its routes. `billing_details` replace the
    old ones whole (`{}` clears them); invoices already finalized keep theirs (B8).
    """
    account = get_account(conn, account_id, lock=True)
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = validate.text(name, field="name")
    if timezone is not None:
        zones = account.zones.changed_to(timezone, clock.now())
        values["timezone"] = zones.timezone
        values["timezone_before"] = zones.before
        values["timezone_since"] = zones.since
    if locale is not None:
        _check_locale(locale)
        values["locale"] = locale
    if billing_channel is not None:
        _check_channel(billing_channel)
        values["billing_channel"] = billing_channel
    if tax_rate is not None:
        values["tax_rate"] = _tax_rate(tax_rate)  # on documents issued from now on
    if billing_details is not None:
        values["billing_details"] = _details(billing_details)
    if not values:
        return account
    repo.update(conn, account_id, values)
    changed = get_account(conn, account_id)
    _log(conn, clock, "account.updated", account, changed)
    return changed


def list_accounts(
    conn: Connection, *, limit: int = 100, after: str | None = None
) -> list[AccountRow]:
    if not 1 <= limit <= 1000:
        raise InvalidInput("invalid_limit", "limit must be 1-1000", field="limit")
    return repo.list_all(conn, limit=limit, after=after)


def search_accounts(conn: Connection, text: str, *, limit: int = 50) -> list[AccountRow]:
    """The admin's search: by id prefix, or a part of the name or billing e-mail (any case)."""
    text = text.strip()[:64]
    if not text:
        return list_accounts(conn, limit=limit)
    return repo.search(conn, text, limit=limit)


def get_account(conn: Connection, account_id: str, *, lock: bool = False) -> AccountRow:
    account = repo.get(conn, account_id, lock=lock)
    if account is None:
        raise NotFound("account_not_found", f"no account {account_id!r}", field="account_id")
    return account
