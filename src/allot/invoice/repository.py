"""Every query of the invoice domain."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from allot.core.invoicing import Charge, Frozen, Tax, Totals
from allot.invoice.models import (
    credit_note_lines,
    credit_notes,
    invoice_lines,
    invoices,
    number_series,
)


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    account_id: str | None
    partner_id: str | None
    subscription_id: int | None
    kind: str
    billing_key: str
    state: str
    number: str | None
    currency: str
    issued_on: date
    period_start: date | None
    period_end: date | None
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    taxes: tuple[Tax, ...]
    rounding: str
    notes: tuple[str, ...]
    created_at: datetime
    finalized_at: datetime | None
    settled_at: datetime | None
    settlement_note: str | None
    lines: tuple[Frozen, ...] = ()

    @property
    def payer(self) -> str:
        return self.account_id or self.partner_id or ""

    def totals(self) -> Totals:
        return Totals(
            self.currency,
            self.lines,
            self.subtotal_minor,
            self.taxes,
            self.total_minor,
            self.rounding,
        )


@dataclass(frozen=True, slots=True)
class CreditNoteRow:
    id: int
    invoice_id: int
    number: str
    reason: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    taxes: tuple[Tax, ...]
    issued_on: date
    issued_at: datetime
    lines: tuple[tuple[int, int], ...]  # (invoice line position, amount_minor)


def _taxes_json(taxes: Sequence[Tax]) -> list[list[str | int]]:
    return [[str(t.rate), t.base_minor, t.tax_minor] for t in taxes]


def _taxes_of(raw: Sequence[Sequence[str | int]]) -> tuple[Tax, ...]:
    return tuple(Tax(Decimal(str(r)), int(b), int(t)) for r, b, t in raw)


def next_number(conn: Connection, series: str) -> int:
    """Take the next number of a series, in the caller's transaction (no gaps: B5).

    The upsert's row lock holds every other finalizer of the series until this
    transaction ends; a rollback gives the number back.
    """
    stmt = _NEXT_NUMBER["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    return int(conn.execute(stmt, {"series": series}).scalar_one())


_NEXT_NUMBER = {
    name: insert(number_series)
    .values(series=sa.bindparam("series"), last_value=1)
    .on_conflict_do_update(
        index_elements=[number_series.c.series],
        set_={"last_value": number_series.c.last_value + 1},
    )
    .returning(number_series.c.last_value)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def last_numbers(conn: Connection) -> dict[str, int]:
    return {r.series: r.last_value for r in conn.execute(sa.select(number_series))}


_ID_BY_KEY = sa.select(invoices.c.id).where(invoices.c.billing_key == sa.bindparam("key"))


def id_by_key(conn: Connection, billing_key: str) -> int | None:
    return conn.execute(_ID_BY_KEY, {"key": billing_key}).scalar_one_or_none()


def insert(
    conn: Connection,
    *,
    account_id: str | None,
    partner_id: str | None,
    subscription_id: int | None,
    kind: str,
    billing_key: str,
    issued_on: date,
    period: tuple[date, date] | None,
    totals: Totals,
    notes: Sequence[str],
    at: datetime,
    number: str,
) -> InvoiceRow:
    """Write a finalized invoice with its number and lines; return it as written."""
    row = InvoiceRow(
        id=0,
        account_id=account_id,
        partner_id=partner_id,
        subscription_id=subscription_id,
        kind=kind,
        billing_key=billing_key,
        state="finalized",
        number=number,
        currency=totals.currency,
        issued_on=issued_on,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        subtotal_minor=totals.subtotal_minor,
        tax_minor=totals.tax_minor,
        total_minor=totals.total_minor,
        taxes=totals.taxes,
        rounding=totals.rounding,
        notes=tuple(notes),
        created_at=at,
        finalized_at=at,
        settled_at=None,
        settlement_note=None,
        lines=totals.lines,
    )
    values = {f: getattr(row, f) for f in _COLUMNS}
    values.update(taxes=_taxes_json(totals.taxes), notes=list(notes))
    invoice_id = int(conn.execute(_INSERT_INVOICE, values).scalar_one())
    conn.execute(
        _INSERT_LINES,
        [
            {
                "invoice_id": invoice_id,
                "position": i,
                "kind": f.charge.kind,
                "description": f.charge.description,
                "metric": f.charge.metric,
                "quantity": f.charge.quantity,
                "unit_price": f.charge.unit_price,
                "amount": f.charge.amount,
                "amount_minor": f.amount_minor,
                "tax_rate": f.charge.tax_rate,
                "period_start": f.charge.period_start,
                "period_end": f.charge.period_end,
            }
            for i, f in enumerate(totals.lines)
        ],
    )
    return dataclasses.replace(row, id=invoice_id)


# Built once: a statement built per call costs SQLAlchemy a new cache key each time.
_INSERT_INVOICE = sa.insert(invoices).returning(invoices.c.id)
_COLUMNS = tuple(f for f in InvoiceRow.__dataclass_fields__ if f not in ("id", "lines"))
_INSERT_LINES = sa.insert(invoice_lines)


def set_state(
    conn: Connection,
    invoice_id: int,
    *,
    state: str,
    from_states: Sequence[str],
    at: datetime,
    note: str | None = None,
) -> bool:
    """Settle an invoice (paid, void, uncollectible); False if it was not in `from_states`."""
    values: dict[str, object] = {"state": state, "settled_at": at, "settlement_note": note}
    done = conn.execute(
        sa.update(invoices)
        .where(invoices.c.id == invoice_id, invoices.c.state.in_(list(from_states)))
        .values(**values)
    )
    return done.rowcount == 1


def _row(r: sa.Row[tuple[object, ...]], lines: tuple[Frozen, ...]) -> InvoiceRow:
    m = r._mapping
    return InvoiceRow(
        **{
            k: m[k] for k in InvoiceRow.__dataclass_fields__ if k not in ("taxes", "notes", "lines")
        },
        taxes=_taxes_of(m["taxes"]),
        notes=tuple(m["notes"]),
        lines=lines,
    )


def _lines(conn: Connection, invoice_id: int) -> tuple[Frozen, ...]:
    rows = conn.execute(
        sa.select(invoice_lines)
        .where(invoice_lines.c.invoice_id == invoice_id)
        .order_by(invoice_lines.c.position)
    )
    return tuple(
        Frozen(
            Charge(
                r.kind,
                r.description,
                r.quantity,
                r.unit_price,
                r.amount,
                r.tax_rate,
                r.metric,
                r.period_start,
                r.period_end,
            ),
            r.amount_minor,
        )
        for r in rows
    )


def get(conn: Connection, invoice_id: int, *, lock: bool = False) -> InvoiceRow | None:
    stmt = sa.select(invoices).where(invoices.c.id == invoice_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    return None if row is None else _row(row, _lines(conn, invoice_id))


def get_by_number(conn: Connection, number: str) -> InvoiceRow | None:
    found = conn.execute(
        sa.select(invoices.c.id).where(invoices.c.number == number)
    ).scalar_one_or_none()
    return None if found is None else get(conn, found)


def listing(
    conn: Connection,
    *,
    account_id: str | None = None,
    partner_id: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[InvoiceRow]:
    """Newest first, without lines (the history page)."""
    stmt = sa.select(invoices).order_by(invoices.c.id.desc()).limit(limit)
    if account_id is not None:
        stmt = stmt.where(invoices.c.account_id == account_id)
    if partner_id is not None:
        stmt = stmt.where(invoices.c.partner_id == partner_id)
    if before_id is not None:
        stmt = stmt.where(invoices.c.id < before_id)
    return [_row(r, ()) for r in conn.execute(stmt)]


def insert_credit_note(
    conn: Connection,
    *,
    invoice_id: int,
    number: str,
    reason: str,
    subtotal_minor: int,
    taxes: Sequence[Tax],
    total_minor: int,
    lines: Sequence[tuple[int, int]],
    issued_on: date,
    at: datetime,
) -> int:
    note_id = int(
        conn.execute(
            sa.insert(credit_notes)
            .values(
                invoice_id=invoice_id,
                number=number,
                reason=reason,
                subtotal_minor=subtotal_minor,
                tax_minor=sum(t.tax_minor for t in taxes),
                total_minor=total_minor,
                taxes=_taxes_json(taxes),
                issued_on=issued_on,
                issued_at=at,
            )
            .returning(credit_notes.c.id)
        ).scalar_one()
    )
    conn.execute(
        sa.insert(credit_note_lines),
        [
            {"credit_note_id": note_id, "position": pos, "amount_minor": minor}
            for pos, minor in lines
        ],
    )
    return note_id


def credit_notes_of(conn: Connection, invoice_id: int) -> list[CreditNoteRow]:
    notes = conn.execute(
        sa.select(credit_notes)
        .where(credit_notes.c.invoice_id == invoice_id)
        .order_by(credit_notes.c.id)
    ).all()
    out = []
    for n in notes:
        lines = conn.execute(
            sa.select(credit_note_lines.c.position, credit_note_lines.c.amount_minor)
            .where(credit_note_lines.c.credit_note_id == n.id)
            .order_by(credit_note_lines.c.position)
        ).all()
        out.append(
            CreditNoteRow(
                n.id,
                n.invoice_id,
                n.number,
                n.reason,
                n.subtotal_minor,
                n.tax_minor,
                n.total_minor,
                _taxes_of(n.taxes),
                n.issued_on,
                n.issued_at,
                tuple((p, a) for p, a in lines),
            )
        )
    return out


def credit_note_by_number(conn: Connection, number: str) -> CreditNoteRow | None:
    invoice_id = conn.execute(
        sa.select(credit_notes.c.invoice_id).where(credit_notes.c.number == number)
    ).scalar_one_or_none()
    if invoice_id is None:
        return None
    return next(n for n in credit_notes_of(conn, invoice_id) if n.number == number)
