"""Shared set-ups of the domain tier (tests/<domain>/): the presets, accounts and partners made
through their own services, and the checks that a refused call wrote nothing.

Each call runs in a transaction of its own, as an entry point runs it (`Database.transaction`:
commit on success, roll back on any exception); reads go through `Database.read`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.account.repository import AccountRow
from allot.account.service import create_account
from allot.catalog.loader import load_catalog_with_extras
from allot.catalog.service import load_catalog
from allot.core.errors import DomainError
from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.models import metadata
from allot.partner.repository import PartnerRow
from allot.partner.service import enroll_partner
from allot.webhook.models import webhook_events

PRESETS = Path(__file__).resolve().parents[1] / "presets"

T = TypeVar("T")


def load_presets(db: Database, clock: Clock, *names: str) -> None:
    """Load the shipped presets (both unless named): the plans every domain test bills on."""
    with db.transaction() as conn:
        for name in names or ("stamp-card", "reviews-loyalty"):
            loaded = load_catalog_with_extras(PRESETS / f"{name}.yaml")
            load_catalog(conn, clock, catalog=loaded.catalog, details=loaded.extras.details())


def add_account(
    db: Database,
    clock: Clock,
    account_id: str,
    *,
    tz: str = "Europe/Kyiv",
    currency: str = "EUR",
) -> AccountRow:
    with db.transaction() as conn:
        return create_account(
            conn,
            clock,
            account_id=account_id,
            name=account_id.title(),
            timezone=tz,
            currency=currency,
        )


def add_partner(
    db: Database,
    clock: Clock,
    partner_id: str = "brew",
    *,
    currency: str = "EUR",
    discount: str = "0.30",
    prices: Mapping[str, str] | None = None,
    contact: str = "hello@brew.example",
) -> PartnerRow:
    with db.transaction() as conn:
        return enroll_partner(
            conn,
            clock,
            partner_id=partner_id,
            name=f"{partner_id.title()} Consultants",
            kind="restaurant_consultant",
            contact=contact,
            currency=currency,
            wholesale_discount=Decimal(discount),
            prices={
                m: Decimal(p)
                for m, p in (prices or {"staff_seats": "5", "card_operations": "0.02"}).items()
            },
        )


def run(db: Database, call: Callable[[Connection], T]) -> T:
    """`call` in a transaction of its own, committed."""
    with db.transaction() as conn:
        return call(conn)


def read(db: Database, call: Callable[[Connection], T]) -> T:
    with db.read() as conn:
        return call(conn)


Snapshot = dict[str, list[str]]


def snapshot(db: Database) -> Snapshot:
    """Every row of every table, as text: equal snapshots mean nothing was written."""
    with db.read() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
            for table in metadata.sorted_tables
        }


def refused(db: Database, call: Callable[[Connection], object]) -> DomainError:
    """Run `call` as an entry point would and return the DomainError it must raise.

    The transaction is rolled back by the error; the database must be as it was.
    """
    before = snapshot(db)
    with pytest.raises(DomainError) as caught, db.transaction() as conn:
        call(conn)
    assert snapshot(db) == before
    return caught.value


def refused_before_writing(db: Database, call: Callable[[Connection], object]) -> DomainError:
    """As `refused`, but the transaction is committed after the error is caught: a service
    that checks everything before it writes leaves no half-written rows even then."""
    before = snapshot(db)
    caught: DomainError | None = None
    with db.transaction() as conn:
        try:
            call(conn)
        except DomainError as exc:
            caught = exc
    assert caught is not None, "the call was not refused"
    assert snapshot(db) == before
    return caught


def refusal(error: DomainError) -> tuple[type[DomainError], str, str | None]:
    """What a caller may rely on: the error's class, its code and its field."""
    return type(error), error.code, error.field


def events(db: Database, kind: str) -> list[dict[str, Any]]:
    """The payloads of the outbox's events of one type, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(webhook_events.c.payload)
            .where(webhook_events.c.type == kind)
            .order_by(webhook_events.c.id)
        )
        return [dict(r.payload) for r in rows]


def count(db: Database, table: sa.Table) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
