"""Every query of the partner domain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.kit.db import for_update
from allot.partner.models import partner_charges, partners


@dataclass(frozen=True, slots=True)
class PartnerRow:
    id: str
    name: str
    kind: str
    contact: str
    currency: str
    wholesale_discount: Decimal
    prices: Mapping[str, Decimal]  # metric → price per unit per month, before the discount
    created_at: datetime


def _row(r: Any) -> PartnerRow:
    return PartnerRow(
        r.id,
        r.name,
        r.kind,
        r.contact,
        r.currency,
        r.wholesale_discount,
        {m: Decimal(p) for m, p in r.prices.items()},
        r.created_at,
    )


def get(conn: Connection, partner_id: str, *, lock: bool = False) -> PartnerRow | None:
    stmt = sa.select(partners).where(partners.c.id == partner_id)
    row = conn.execute(for_update(conn, stmt) if lock else stmt).one_or_none()
    return None if row is None else _row(row)


def insert(conn: Connection, row: PartnerRow) -> None:
    conn.execute(
        sa.insert(partners).values(
            id=row.id,
            name=row.name,
            kind=row.kind,
            contact=row.contact,
            currency=row.currency,
            wholesale_discount=row.wholesale_discount,
            prices={m: str(p) for m, p in row.prices.items()},
            created_at=row.created_at,
        )
    )


def list_all(conn: Connection) -> list[PartnerRow]:
    return [_row(r) for r in conn.execute(sa.select(partners).order_by(partners.c.id))]


def save_charges(
    conn: Connection, partner_id: str, month: str, rows: list[dict[str, Any]], at: datetime
) -> None:
    """Replace the month's computed charges (recomputing a month gives the same rows)."""
    conn.execute(
        sa.delete(partner_charges).where(
            partner_charges.c.partner_id == partner_id, partner_charges.c.month == month
        )
    )
    if rows:
        conn.execute(
            sa.insert(partner_charges),
            [{**r, "partner_id": partner_id, "month": month, "computed_at": at} for r in rows],
        )


def charges(conn: Connection, partner_id: str, month: str) -> list[Any]:
    return list(
        conn.execute(
            sa.select(partner_charges)
            .where(partner_charges.c.partner_id == partner_id, partner_charges.c.month == month)
            .order_by(partner_charges.c.grant_id, partner_charges.c.metric)
        )
    )


def invoice_month(conn: Connection, partner_id: str) -> str | None:
    """The next month to invoice the partner for (None: none invoiced yet)."""
    return conn.execute(
        sa.select(partners.c.invoice_month).where(partners.c.id == partner_id)
    ).scalar_one_or_none()


def set_invoice_month(conn: Connection, partner_id: str, month: str) -> None:
    conn.execute(sa.update(partners).where(partners.c.id == partner_id).values(invoice_month=month))
