"""Every query of the invoice domain.

One exception to "a repository writes only its own tables": issuing an invoice
also writes its `invoice.finalized` event into the webhooks' outbox, in the same
statement on PostgreSQL (the series' number is locked from the moment it is
taken to the commit, so every round trip there holds up every other invoice).
The outbox's own SQL builds those writes (`allot.webhook.repository`), and the
payload passes `allot.webhook.service.checked` like every other event.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.core.invoicing import Charge, ChargeKind, Frozen, Tax, Totals
from allot.invoice import numbering
from allot.invoice.models import (
    credit_balance_entries,
    credit_note_lines,
    credit_notes,
    invoice_lines,
    invoices,
)
from allot.kit.types import UTCDateTime
from allot.webhook import repository as webhook_repo


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
    seller: Mapping[str, Any]  # B8: `allot.invoice.parties` snapshots, as at finalization
    bill_to: Mapping[str, Any]
    credit_applied_minor: int = 0  # P4: the credit balance taken off the total at issue
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
    seller: Mapping[str, Any]  # B8: as at issue
    bill_to: Mapping[str, Any]
    settled_as: str | None = None  # P4: refund or balance, for the part that was paid
    settled_minor: int = 0


def _taxes_json(taxes: Sequence[Tax]) -> list[list[str | int]]:
    return [[str(t.rate), t.base_minor, t.tax_minor] for t in taxes]


def _taxes_of(raw: Sequence[Sequence[str | int]]) -> tuple[Tax, ...]:
    return tuple(Tax(Decimal(str(r)), int(b), int(t)) for r, b, t in raw)


_ID_BY_KEY = sa.select(invoices.c.id).where(invoices.c.billing_key == sa.bindparam("key"))


def id_by_key(conn: Connection, billing_key: str) -> int | None:
    return conn.execute(_ID_BY_KEY, {"key": billing_key}).scalar_one_or_none()


def issue(
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
    seller: Mapping[str, Any],
    bill_to: Mapping[str, Any],
    at: datetime,
    series: str,
    event_type: str,
    payload: Callable[[InvoiceRow], Mapping[str, Any]],
    along: Along | None = None,
    credit_applied_minor: int = 0,
) -> InvoiceRow | None:
    """Write the invoice for `billing_key` finalized, with the next number of `series`, its
    lines and its `event_type` event (`payload` of the row); None, and nothing written or
    taken, if the key has its invoice already. `along` is written first, in any case.
    The number is taken by the statement that writes the invoice (B5): see `_issue_pg`.
    """
    row = InvoiceRow(
        id=0,
        account_id=account_id,
        partner_id=partner_id,
        subscription_id=subscription_id,
        kind=kind,
        billing_key=billing_key,
        state="finalized",
        number=None,
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
        seller=seller,
        bill_to=bill_to,
        credit_applied_minor=credit_applied_minor,
        lines=totals.lines,
    )
    values: dict[str, Any] = {f: getattr(row, f) for f in _COLUMNS if f != "number"}
    values.update(
        taxes=_taxes_json(totals.taxes),
        notes=list(notes),
        seller=dict(seller),
        bill_to=dict(bill_to),
    )
    write = _issue_pg if conn.dialect.name == "postgresql" else _issue_sqlite
    done = write(conn, row, values, series, event_type, payload, along)
    if done is None:
        if id_by_key(conn, billing_key) is not None:
            return None
        # the series' first number (of the year): open it at 0, write again (not `along`)
        numbering.open_series(conn, series)
        done = write(conn, row, values, series, event_type, payload, None)
        assert done is not None
    return done


Along = tuple[sa.Update, Mapping[str, Any]]
"""A write for the round trip of an invoice (PostgreSQL), made before the number is taken:
an UPDATE, built once, with its parameters, named apart from the invoice's (`along_…`)."""


def _issue_pg(
    conn: Connection,
    row: InvoiceRow,
    values: dict[str, Any],
    series: str,
    event_type: str,
    payload: Callable[[InvoiceRow], Mapping[str, Any]],
    along: Along | None,
) -> InvoiceRow | None:
    """The number is taken by the statement that writes the invoice (B5: a rollback gives both
    back). From then to the commit the series' row is locked and every other finalizer
    waits, so on PostgreSQL `along`, the number, the invoice, its lines, the event and its
    deliveries are one statement: the lock is held for its end and the commit.
    """
    event = json.dumps(dict(payload(row)))
    if not event.startswith(_EVENT_HEAD):
        raise ValueError(f"an event payload that does not start with id and number: {event}")
    params: dict[str, Any] = {f"invoice_{k}": v for k, v in values.items()}
    params.update(
        series_name=series,
        lines=_line_values(row.lines, as_json=True),
        event_type=event_type,
        event_tail=event[len(_EVENT_HEAD) :],
        at=row.created_at,
    )
    statement = _ISSUE_PG
    if along is not None:
        table = along[0].table
        clash = params.keys() & table.c.keys() if isinstance(table, sa.Table) else set()
        if clash:  # SQLAlchemy would add them to the UPDATE's SET
            raise ValueError(f"parameters named after columns of {table}: {sorted(clash)}")
        statement = _issue_pg_along(along[0])
        params.update(along[1])
    found = conn.execute(statement, params).one_or_none()
    if found is None:
        return None
    return dataclasses.replace(row, id=found.id, number=found.number)


def _issue_sqlite(
    conn: Connection,
    row: InvoiceRow,
    values: dict[str, Any],
    series: str,
    event_type: str,
    payload: Callable[[InvoiceRow], Mapping[str, Any]],
    along: Along | None,
) -> InvoiceRow | None:
    """SQLite: `along`, the number, the invoice, its lines and the event, one after the other."""
    if along is not None:
        conn.execute(*along)
    key = {"series_name": series, "invoice_billing_key": row.billing_key}
    number = conn.execute(_TAKE_NUMBER, key).scalar_one_or_none()
    if number is None:
        return None
    invoice_id = int(conn.execute(_INSERT_INVOICE, dict(values, number=number)).scalar_one())
    conn.execute(_INSERT_LINES, [dict(v, invoice_id=invoice_id) for v in _line_values(row.lines)])
    done = dataclasses.replace(row, id=invoice_id, number=number)
    event_id = webhook_repo.insert_event(
        conn,
        event_type=event_type,
        account_id=done.account_id,
        payload=dict(payload(done)),
        at=done.created_at,
    )
    webhook_repo.insert_deliveries(
        conn, event_id=event_id, event_type=event_type, at=done.created_at
    )
    return done


def _line_values(lines: Sequence[Frozen], *, as_json: bool = False) -> list[dict[str, Any]]:
    """The rows of `invoice_lines` but the invoice's id; `as_json`: decimals and dates as text."""
    exact: Callable[[Decimal], Any] = str if as_json else Decimal
    day: Callable[[date | None], Any] = (
        (lambda d: None if d is None else d.isoformat()) if as_json else (lambda d: d)
    )
    return [
        {
            "position": i,
            "kind": f.charge.kind,
            "description": f.charge.description,
            "metric": f.charge.metric,
            "quantity": f.charge.quantity,
            "unit_price": exact(f.charge.unit_price),
            "amount": exact(f.charge.amount),
            "amount_minor": f.amount_minor,
            "tax_rate": exact(f.charge.tax_rate),
            "period_start": day(f.charge.period_start),
            "period_end": day(f.charge.period_end),
        }
        for i, f in enumerate(lines)
    ]


# Statements are built once: SQLAlchemy then finds their compiled form by cache key. (The
# dialects' INSERT … ON CONFLICT has no cache key and is compiled on every execution, so
# the hot path takes its number with a plain UPDATE and opens a new series apart.)
_COLUMNS = tuple(f for f in InvoiceRow.__dataclass_fields__ if f not in ("id", "lines"))
_INSERT_INVOICE = sa.insert(invoices).returning(invoices.c.id)
_INSERT_LINES = sa.insert(invoice_lines)
_LINE_COLUMNS = tuple(c.name for c in invoice_lines.c if c.name != "invoice_id")

# The next number of an open series (`numbering`), unless the billing key has its invoice
# already.
_TAKE_NUMBER = numbering.take_statement(
    ~sa.exists().where(
        invoices.c.billing_key == sa.bindparam("invoice_billing_key", type_=sa.String)
    )
)

# The event's payload is `payload(row)`, whose first fields are the id and the number that
# the statement gives the invoice: it writes them, then the rest of the JSON as bound.
_EVENT_HEAD = '{"id": 0, "number": null, '


def _issue_statement(along: sa.Update | None = None) -> sa.Select[Any]:
    """PostgreSQL: take the number, write the invoice, its lines, the event and its
    deliveries, and return (id, number) — no row if `_TAKE_NUMBER` took none.

    `along` is a CTE too, and the number's UPDATE reads it (its row count, whatever it is)
    so that PostgreSQL writes it before it takes the number's row lock.

    (psycopg parses a statement's placeholders once if it is at most 4,096 bytes with at
    most 50 parameters, and on every execution otherwise: hence constants as literals,
    and the lines as one JSON parameter.)
    """
    take = _TAKE_NUMBER
    ctes: list[sa.CTE] = []
    if along is not None:
        first = along.returning(sa.literal_column("1").label("one")).cte("along")
        take = take.where(
            sa.select(sa.func.count()).select_from(first).scalar_subquery()
            >= sa.literal_column("0")
        )
        ctes.append(first)
    taken = take.cte("taken")
    at = sa.bindparam("at", type_=UTCDateTime)
    written = _written(taken, at)
    rows = (
        sa.func.json_to_recordset(sa.bindparam("lines", type_=sa.JSON))
        .table_valued(*(sa.column(c, invoice_lines.c[c].type) for c in _LINE_COLUMNS))
        .render_derived(name="line", with_types=True)
    )
    lines = (
        sa.insert(invoice_lines)
        .from_select(
            ["invoice_id", *_LINE_COLUMNS],
            sa.select(written.c.id, *(rows.c[c] for c in _LINE_COLUMNS)).select_from(
                sa.join(written, rows, sa.true())
            ),
        )
        .cte("lines")
    )
    payload = sa.cast(
        sa.func.concat(
            sa.literal_column("""'{"id": '"""),
            written.c.id,
            sa.literal_column("""', "number": '"""),
            sa.func.to_json(written.c.number),
            sa.literal_column("', '"),
            sa.bindparam("event_tail", type_=sa.String),
        ),
        sa.JSON,
    )
    events, deliveries = webhook_repo.outbox_ctes(
        sa.select(sa.bindparam("event_type", type_=sa.String), written.c.account_id, payload, at),
        name="finalized",
    )
    return sa.select(written.c.id, written.c.number).add_cte(*ctes, lines, events, deliveries)


def _written(taken: sa.CTE, at: sa.BindParameter[Any]) -> sa.CTE:
    """The invoice, finalized at `at` with the number `taken`; the rest as bound."""
    fixed: dict[str, sa.ColumnElement[Any]] = {
        "number": taken.c.number,
        "created_at": at,
        "finalized_at": at,
        "settled_at": sa.null(),
        "settlement_note": sa.null(),
    }
    return (
        sa.insert(invoices)
        .from_select(
            list(_COLUMNS),
            sa.select(
                *(
                    fixed.get(c, sa.bindparam(f"invoice_{c}", type_=invoices.c[c].type))
                    for c in _COLUMNS
                )
            ).select_from(taken),
        )
        .returning(invoices.c.id, invoices.c.number, invoices.c.account_id)
        .cte("written")
    )


_ISSUE_PG = _issue_statement()
_ISSUE_PG_ALONG: dict[sa.Update, sa.Select[Any]] = {}


def _issue_pg_along(along: sa.Update) -> sa.Select[Any]:
    statement = _ISSUE_PG_ALONG.get(along)
    if statement is None:
        statement = _ISSUE_PG_ALONG.setdefault(along, _issue_statement(along))
    return statement


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
                ChargeKind(r.kind),
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


_GET = sa.select(invoices).where(invoices.c.id == sa.bindparam("invoice_id"))
_GET_LOCKED = _GET.with_for_update()


def get(
    conn: Connection, invoice_id: int, *, lock: bool = False, lines: bool = True
) -> InvoiceRow | None:
    """The invoice; `lines=False`: its header alone (totals, state, parties)."""
    row = conn.execute(_GET_LOCKED if lock else _GET, {"invoice_id": invoice_id}).one_or_none()
    if row is None:
        return None
    return _row(row, _lines(conn, invoice_id) if lines else ())


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
    seller: Mapping[str, Any],
    bill_to: Mapping[str, Any],
    settled_as: str | None,
    settled_minor: int,
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
                seller=dict(seller),
                bill_to=dict(bill_to),
                settled_as=settled_as,
                settled_minor=settled_minor,
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


def lowered_by_notes() -> sa.ScalarSelect[Any]:
    """What an invoice's credit notes took off what it asks for (the correlated sum, tax
    included): each note's total but the part that gave back money paid (`settled_minor`),
    which went to the card or the credit balance instead."""
    return (
        sa.select(
            sa.func.coalesce(
                sa.func.sum(credit_notes.c.total_minor - credit_notes.c.settled_minor), 0
            )
        )
        .where(credit_notes.c.invoice_id == invoices.c.id)
        .scalar_subquery()
    )


_OWED = sa.select(
    invoices.c.total_minor - invoices.c.credit_applied_minor - lowered_by_notes()
).where(invoices.c.id == sa.bindparam("invoice_id"))


def owed_minor(conn: Connection, invoice_id: int) -> int:
    """What an invoice not yet paid still asks for (P4): its total, less the credit balance
    taken off it at issue, less what credit notes took off it since (minor units, tax
    included)."""
    return int(conn.execute(_OWED, {"invoice_id": invoice_id}).scalar_one())


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
                n.seller,
                n.bill_to,
                n.settled_as,
                n.settled_minor,
            )
        )
    return out


def credit_note_by_id(conn: Connection, note_id: int) -> CreditNoteRow:
    invoice_id = conn.execute(
        sa.select(credit_notes.c.invoice_id).where(credit_notes.c.id == note_id)
    ).scalar_one()
    return next(n for n in credit_notes_of(conn, invoice_id) if n.id == note_id)


def credit_note_by_number(conn: Connection, number: str) -> CreditNoteRow | None:
    invoice_id = conn.execute(
        sa.select(credit_notes.c.invoice_id).where(credit_notes.c.number == number)
    ).scalar_one_or_none()
    if invoice_id is None:
        return None
    return next(n for n in credit_notes_of(conn, invoice_id) if n.number == number)


# Usage already on an invoice, by month: a month's own overage line and any late lines.
BILLED_USAGE_KINDS = (ChargeKind.OVERAGE.value, ChargeKind.LATE_OVERAGE.value)


def billed_units(
    conn: Connection, *, account_id: str, subscription_id: int, period_start: date
) -> dict[str, int]:
    """Units of each metric billed so far for the month starting `period_start` (B7).

    Every invoice counts, voided ones too: a month its operator chose not to
    bill is not billed again as late usage.
    """
    rows = conn.execute(
        sa.select(invoice_lines.c.metric, sa.func.sum(invoice_lines.c.quantity))
        .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
        .where(
            invoices.c.account_id == account_id,  # ix_invoices_account
            invoices.c.subscription_id == subscription_id,
            invoices.c.kind == "usage",
            invoice_lines.c.kind.in_(BILLED_USAGE_KINDS),
            invoice_lines.c.period_start == period_start,
        )
        .group_by(invoice_lines.c.metric)
    )
    return {r[0]: int(r[1]) for r in rows}


# --- the credit balance (P4) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BalanceEntry:
    id: int
    account_id: str
    move: str
    amount_minor: int
    credit_note: str | None  # the numbers of the documents it names
    invoice: str | None
    at: datetime


def insert_balance_entry(
    conn: Connection,
    *,
    account_id: str,
    move: str,
    amount_minor: int,
    at: datetime,
    credit_note_id: int | None = None,
    invoice_id: int | None = None,
) -> None:
    conn.execute(
        sa.insert(credit_balance_entries).values(
            account_id=account_id,
            move=move,
            amount_minor=amount_minor,
            credit_note_id=credit_note_id,
            invoice_id=invoice_id,
            at=at,
        )
    )


def balance_entries(
    conn: Connection, account_id: str, *, limit: int = 100, before_id: int | None = None
) -> list[BalanceEntry]:
    """Newest first, with the numbers of the credit note or invoice each names."""
    e = credit_balance_entries
    stmt = (
        sa.select(
            e.c.id,
            e.c.account_id,
            e.c.move,
            e.c.amount_minor,
            credit_notes.c.number.label("credit_note"),
            invoices.c.number.label("invoice"),
            e.c.at,
        )
        .outerjoin(credit_notes, credit_notes.c.id == e.c.credit_note_id)
        .outerjoin(invoices, invoices.c.id == e.c.invoice_id)
        .where(e.c.account_id == account_id)
        .order_by(e.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(e.c.id < before_id)
    return [BalanceEntry(**r._mapping) for r in conn.execute(stmt)]


def balance_sums(conn: Connection) -> dict[str, int]:
    """Every account's sum of entries (for `allot verify`)."""
    rows = conn.execute(
        sa.select(
            credit_balance_entries.c.account_id, sa.func.sum(credit_balance_entries.c.amount_minor)
        ).group_by(credit_balance_entries.c.account_id)
    )
    return {r[0]: int(r[1]) for r in rows}


def settle_note_as(conn: Connection, note_id: int, *, settled_as: str, was: str) -> bool:
    """Change what became of a note's paid part (balance → refund); False if it was not `was`."""
    done = conn.execute(
        sa.update(credit_notes)
        .where(credit_notes.c.id == note_id, credit_notes.c.settled_as == was)
        .values(settled_as=settled_as)
    )
    return done.rowcount == 1
