"""Invoice use cases: issue, finalize, settle, correct with credit notes (B5).

An invoice is written finalized, in the transaction that takes its number,
so numbers run 1..N per series with no gap: a crash before the commit gives
the number back with everything else (B6). (The `draft` state is kept in the
schema for documents an operator may one day compose by hand; the run never
leaves one behind.) Once finalized its
lines and totals never change; what may still change is how it was settled
(paid, void, uncollectible). Corrections are credit notes: numbered
documents of their own that take back part or all of an invoice.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from allot import audit
from allot.account import repository as account_repo
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.core.invoicing import Charge, Frozen, credit, freeze, net_left
from allot.core.money import Money
from allot.invoice import balance, numbering, parties, wording
from allot.invoice import repository as repo
from allot.invoice.document import Document, DocumentLine, TaxLine
from allot.invoice.models import NoteSettlement
from allot.invoice.repository import CreditNoteRow, InvoiceRow
from allot.kit import validate
from allot.kit.clock import Clock
from allot.kit.i18n import format_amount
from allot.referral import service as referral
from allot.webhook.service import checked, emit


def issue(
    conn: Connection,
    clock: Clock,
    *,
    billing_key: str,
    kind: str,
    currency: str,
    charges: Sequence[Charge],
    issued_on: date,
    tax_rate: Decimal,
    bill_to: parties.Snapshot,
    account_id: str | None = None,
    partner_id: str | None = None,
    subscription_id: int | None = None,
    period: tuple[date, date] | None = None,
    notes: Sequence[str] = (),
    referral_credit_minor: int = 0,
    credit_balance_minor: int = 0,
    along: repo.Along | None = None,
) -> InvoiceRow:
    """Create and finalize the invoice for `billing_key`, or return the one already there.

    `bill_to`: the payer as the invoice keeps it (`allot.invoice.parties`); the seller is
    the operator's identity as it is now (B8). `along`: a write of the caller's (the billing
    calendar's move) made in the same round trip, before the number is taken, whether the
    invoice is new or not.
    `referral_credit_minor` is the account's balance of referral rewards as last
    read (`accounts.referral_credit_minor`): when it is not zero, earned rewards
    are credited on this invoice (A4) — only if it is new, so a rerun credits nothing.
    `credit_balance_minor`, the account's credit balance as last read, likewise: when it
    is not zero the balance is taken off the new invoice's total (P4, `allot.invoice.balance`),
    and an invoice it covers in full is paid.
    """
    totals = freeze(charges, currency, tax_rate=tax_rate)
    credits = _referral_credits(
        conn, account_id, billing_key, currency, totals.subtotal_minor, referral_credit_minor
    )
    if credits:
        totals = freeze([*charges, *credits], currency, tax_rate=tax_rate)
    from_balance = 0
    if credit_balance_minor > 0 and repo.id_by_key(conn, billing_key) is None:
        from_balance = balance.to_apply(
            conn,
            account_id=account_id,
            balance_hint=credit_balance_minor,
            total_minor=totals.total_minor,
        )
    # Born finalized: the number is taken and the row written in this transaction, so a
    # rollback gives both back (B6) — and taken only if the key has no invoice yet.
    done = repo.issue(
        conn,
        account_id=account_id,
        partner_id=partner_id,
        subscription_id=subscription_id,
        kind=kind,
        billing_key=billing_key,
        issued_on=issued_on,
        period=period,
        totals=totals,
        notes=notes,
        seller=parties.seller_snapshot(conn),
        bill_to=bill_to,
        at=clock.now(),
        series=numbering.series(numbering.INVOICES, issued_on.year),
        event_type="invoice.finalized",
        payload=lambda row: checked("invoice.finalized", summary(row)),  # as `emit` checks
        along=along,
        credit_applied_minor=from_balance,
    )
    if done is None:
        existing = repo.id_by_key(conn, billing_key)
        assert existing is not None
        return get_invoice(conn, existing)
    _log(conn, clock, "invoice.finalized", None, done)
    if from_balance > 0:
        assert account_id is not None
        balance.applied(conn, clock, account_id=account_id, invoice_id=done.id, amount=from_balance)
        if from_balance == done.total_minor:
            return _settle(conn, clock, done.id, "paid", PAID_FROM_BALANCE, "invoice.paid")
    return done


PAID_FROM_BALANCE = "paid from the credit balance"


def _referral_credits(
    conn: Connection,
    account_id: str | None,
    billing_key: str,
    currency: str,
    subtotal_minor: int,
    referral_credit_minor: int,
) -> list[Charge]:
    """A4: the earned rewards credited on a new invoice with something to credit them on.

    Nothing on an invoice that exists already (a rerun credits nothing); nothing is even
    read while the account's balance (`referral_credit_minor`, as last read) is zero.
    """
    if (
        account_id is not None
        and referral_credit_minor > 0
        and subtotal_minor > 0
        and repo.id_by_key(conn, billing_key) is None
    ):
        return referral.credit_lines(
            conn, account_id=account_id, currency=currency, up_to_minor=subtotal_minor
        )
    return []


def get_invoice(conn: Connection, invoice_id: int, *, lock: bool = False) -> InvoiceRow:
    found = repo.get(conn, invoice_id, lock=lock)
    if found is None:
        raise NotFound("invoice_not_found", f"no invoice {invoice_id}", field="invoice_id")
    return found


def mark_paid(
    conn: Connection, clock: Clock, *, invoice_id: int, note: str = "marked paid by the operator"
) -> InvoiceRow:
    """Record a payment received outside allot (card payments come through the gateway)."""
    return _settle(conn, clock, invoice_id, "paid", note, "invoice.paid")


def void(conn: Connection, clock: Clock, *, invoice_id: int, reason: str) -> InvoiceRow:
    """Cancel an unpaid invoice that should never have been issued; its number stays used."""
    return _settle(conn, clock, invoice_id, "void", reason, "invoice.voided")


def mark_uncollectible(
    conn: Connection, clock: Clock, *, invoice_id: int, reason: str
) -> InvoiceRow:
    return _settle(conn, clock, invoice_id, "uncollectible", reason, None)


def _settle(
    conn: Connection,
    clock: Clock,
    invoice_id: int,
    state: str,
    note: str,
    event: str | None,
) -> InvoiceRow:
    note = validate.text(note, field="note" if state == "paid" else "reason")
    _lock_payer(conn, invoice_id)
    invoice = get_invoice(conn, invoice_id, lock=True)
    allowed = ("finalized", "uncollectible") if state == "paid" else ("finalized",)
    if invoice.state == state:
        return invoice  # a retry of the same settlement changes nothing
    if invoice.state not in allowed:
        raise Conflict(
            "invoice_not_open",
            f"invoice {invoice.number or invoice.id} is {invoice.state}; it cannot become {state}",
        )
    repo.set_state(conn, invoice_id, state=state, from_states=allowed, at=clock.now(), note=note)
    done = get_invoice(conn, invoice_id)
    _log(conn, clock, f"invoice.{state}", invoice, done)
    if state == "void" and done.account_id is not None:
        # never owed: the credit taken off it at issue goes back to the balance (P4)
        balance.unapplied(
            conn, clock, account_id=done.account_id, invoice_id=done.id,
            amount=done.credit_applied_minor,
        )  # fmt: skip
    if state == "paid" and done.account_id is not None:
        referral.invoice_paid(
            conn,
            clock,
            account_id=done.account_id,
            invoice_id=done.id,
            total_minor=done.total_minor,
            currency=done.currency,
            subscription_id=done.subscription_id,
        )
    if event is not None:
        _event(conn, clock, event, done)
    return done


def _log(
    conn: Connection, clock: Clock, change: str, was: InvoiceRow | None, now: InvoiceRow
) -> None:
    audit.record(
        conn, clock, change=change, subject_kind="invoice", subject_id=now.id,
        account_id=now.account_id, partner_id=now.partner_id,
        before=None if was is None else summary(was), after=summary(now),
    )  # fmt: skip


def _lock_payer(conn: Connection, invoice_id: int) -> None:
    """An account's invoice is settled or corrected under the account's lock, as its card
    payment is recorded (`allot.billing.collect`): what is owed is read by one at a time."""
    found = repo.get(conn, invoice_id)
    if found is not None and found.account_id is not None:
        account_repo.get(conn, found.account_id, lock=True)


def credit_note(
    conn: Connection,
    clock: Clock,
    *,
    invoice_id: int,
    reason: str,
    amounts: Mapping[int, Decimal | str] | None = None,
    issued_on: date,
    settle: str | None = None,
) -> CreditNoteRow:
    """Take back part (`amounts`: line position → money) or all of a finalized invoice.

    What of it gives back money paid (`balance.settled_part`) is kept as the account's
    credit, or with `settle="refund"` marked to be refunded to the card (which
    `allot.billing.refunds` does, having checked that a card paid it); the rest lowers
    what the invoice asks for. A partner's invoices are settled outside allot.
    """
    reason = validate.text(reason, field="reason")
    if settle is not None and settle not in set(NoteSettlement):
        raise InvalidInput("invalid_settlement", "settle is 'refund' or 'balance'", field="settle")
    _lock_payer(conn, invoice_id)
    invoice = get_invoice(conn, invoice_id, lock=True)
    if invoice.state not in ("finalized", "paid", "uncollectible"):
        raise Conflict(
            "invoice_not_creditable",
            f"invoice {invoice.number or invoice.id} is {invoice.state}; only a finalized "
            "invoice can be corrected by a credit note",
        )
    already = _credited(conn, invoice_id)
    if net_left(invoice.totals(), already) <= 0:
        raise Conflict(
            "invoice_fully_credited", f"invoice {invoice.number} is already fully credited"
        )
    minor_amounts = None if amounts is None else _minor_amounts(amounts, invoice.currency)
    taken = credit(invoice.totals(), minor_amounts, already=already)
    settled = 0
    if invoice.account_id is not None:
        settled = balance.settled_part(
            total_minor=taken.total_minor, owed_minor=balance.owed_before_note(conn, invoice)
        )
    if settle == NoteSettlement.REFUND and settled == 0:
        raise Conflict(
            "credit_note_not_charged",
            f"nothing of this credit note was paid: it lowers what invoice {invoice.number} "
            "asks for, and there is nothing to refund",
            field="settle",
        )
    settled_as = None if settled == 0 else (settle or NoteSettlement.BALANCE)
    bill_to = _bill_to_now(conn, invoice)
    number = numbering.take(conn, numbering.series(numbering.CREDIT_NOTES, issued_on.year))
    repo.insert_credit_note(
        conn,
        invoice_id=invoice_id,
        number=number,
        reason=reason,
        subtotal_minor=taken.subtotal_minor,
        taxes=taken.taxes,
        total_minor=taken.total_minor,
        lines=[(c.line, c.amount_minor) for c in taken.lines],
        issued_on=issued_on,
        at=clock.now(),
        seller=parties.seller_snapshot(conn),
        bill_to=bill_to,
        settled_as=settled_as,
        settled_minor=settled,
    )
    note = next(n for n in repo.credit_notes_of(conn, invoice_id) if n.number == number)
    if settled_as == NoteSettlement.BALANCE:
        assert invoice.account_id is not None
        balance.keep(conn, clock, account_id=invoice.account_id, note_id=note.id, amount=settled)
    issued = {
        "number": note.number,
        "invoice": invoice.number,
        "invoice_id": invoice.id,
        "account_id": invoice.account_id,
        "partner_id": invoice.partner_id,
        "currency": invoice.currency,
        "total": _decimal(note.total_minor, invoice.currency),
        "reason": note.reason,
        "settled_as": note.settled_as,
        "settled": _decimal(note.settled_minor, invoice.currency),
    }
    audit.record(
        conn, clock, change="credit_note.issued", subject_kind="credit_note",
        subject_id=note.number, account_id=invoice.account_id, partner_id=invoice.partner_id,
        after=issued,
    )  # fmt: skip
    emit(conn, clock, type="credit_note.issued", account_id=invoice.account_id, payload=issued)
    return note


def _bill_to_now(conn: Connection, invoice: InvoiceRow) -> parties.Snapshot:
    """A credit note is a document of its own: it names the payer as it is when issued (B8)."""
    if invoice.account_id is not None:
        account = account_repo.get(conn, invoice.account_id)
        assert account is not None
        # its lines are the invoice's, written in the invoice's language: so is the note
        return {**parties.account_snapshot(account), "locale": parties.language_of(invoice.bill_to)}
    return dict(invoice.bill_to)


def _credited(conn: Connection, invoice_id: int) -> dict[int, int]:
    """What earlier credit notes took back of each line (position → minor units)."""
    already: dict[int, int] = {}
    for earlier in repo.credit_notes_of(conn, invoice_id):
        for pos, minor in earlier.lines:
            already[pos] = already.get(pos, 0) + minor
    return already


def _minor_amounts(amounts: Mapping[int, Decimal | str], currency: str) -> dict[int, int]:
    """The amounts asked per line, in minor units; refused if finer than the currency."""
    minor_amounts = {}
    for pos, value in amounts.items():
        money = Money.of(value, currency)
        if money.rounded().amount != money.amount:
            raise InvalidInput(
                "too_many_decimals",
                f"{value} has more decimals than {currency} allows",
                field="lines",
            )
        minor_amounts[int(pos)] = money.to_minor()
    return minor_amounts


def _event(conn: Connection, clock: Clock, type_: str, invoice: InvoiceRow) -> None:
    emit(conn, clock, type=type_, account_id=invoice.account_id, payload=summary(invoice))


def _decimal(minor: int, currency: str) -> str:
    """Minor units as an exact decimal string, as money travels in JSON."""
    return str(Money.from_minor(minor, currency).amount)


def summary(invoice: InvoiceRow) -> dict[str, Any]:
    """An invoice as JSON: money as exact decimal strings, dates as ISO strings."""

    def money(minor: int) -> str:
        return _decimal(minor, invoice.currency)

    return {
        "id": invoice.id,
        "number": invoice.number,
        "kind": invoice.kind,
        "state": invoice.state,
        "account_id": invoice.account_id,
        "partner_id": invoice.partner_id,
        "subscription_id": invoice.subscription_id,
        "currency": invoice.currency,
        "issued_on": invoice.issued_on.isoformat(),
        "period_start": invoice.period_start.isoformat() if invoice.period_start else None,
        "period_end": invoice.period_end.isoformat() if invoice.period_end else None,
        "subtotal": money(invoice.subtotal_minor),
        "tax": money(invoice.tax_minor),
        "total": money(invoice.total_minor),
        "credit_applied": money(invoice.credit_applied_minor),
    }


def to_json(invoice: InvoiceRow, notes: Sequence[CreditNoteRow] = ()) -> dict[str, Any]:
    """The whole document: every line with its exact and rounded amounts, taxes, credit notes."""

    def money(minor: int) -> str:
        return _decimal(minor, invoice.currency)

    return {
        **summary(invoice),
        "rounding": invoice.rounding,
        "notes": list(invoice.notes),
        "lines": [
            {
                "position": i,
                "kind": f.charge.kind,
                "description": f.charge.description,
                "metric": f.charge.metric,
                "quantity": f.charge.quantity,
                "unit_price": str(f.charge.unit_price),
                "amount_exact": str(f.charge.amount),
                "amount": money(f.amount_minor),
                "tax_rate": str(f.charge.tax_rate),
                "period_start": f.charge.period_start.isoformat()
                if f.charge.period_start
                else None,
                "period_end": f.charge.period_end.isoformat() if f.charge.period_end else None,
            }
            for i, f in enumerate(invoice.lines)
        ],
        "taxes": [
            {"rate": str(t.rate), "base": money(t.base_minor), "tax": money(t.tax_minor)}
            for t in invoice.taxes
        ],
        "credit_notes": [
            {
                "number": n.number,
                "issued_on": n.issued_on.isoformat(),
                "reason": n.reason,
                "total": money(n.total_minor),
            }
            for n in notes
        ],
    }


CSV_COLUMNS = (
    "number",
    "issued_on",
    "payer",
    "currency",
    "position",
    "kind",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "tax_rate",
    "period_start",
    "period_end",
)


def to_csv(invoices: Sequence[InvoiceRow]) -> str:
    """One row per invoice line (for an accountant's spreadsheet), amounts as decimals; an
    invoice the credit balance was taken off ends with a `credit_applied` row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for inv in invoices:
        for i, f in enumerate(inv.lines):
            writer.writerow(
                [
                    inv.number or "",
                    inv.issued_on.isoformat(),
                    inv.payer,
                    inv.currency,
                    i,
                    f.charge.kind,
                    f.charge.description,
                    f.charge.quantity,
                    str(f.charge.unit_price),
                    _decimal(f.amount_minor, inv.currency),
                    str(f.charge.tax_rate),
                    f.charge.period_start.isoformat() if f.charge.period_start else "",
                    f.charge.period_end.isoformat() if f.charge.period_end else "",
                ]
            )
        if inv.credit_applied_minor:  # P4: taken off the total (tax included), after the lines
            credit = f"-{_decimal(inv.credit_applied_minor, inv.currency)}"
            writer.writerow(
                [inv.number or "", inv.issued_on.isoformat(), inv.payer, inv.currency,
                 len(inv.lines), "credit_applied", "Credit applied from the balance", 1, credit,
                 credit, "0", "", ""]
            )  # fmt: skip
    return out.getvalue()


def _document_line(line: Frozen, amount_minor: int) -> DocumentLine:
    c = line.charge
    return DocumentLine(
        c.description,
        c.quantity,
        c.unit_price,
        amount_minor,
        c.tax_rate,
        c.period_start,
        c.period_end,
    )


def document(invoice: InvoiceRow, *, locale: str | None = None) -> Document:
    """The invoice as printed: its parties as it keeps them (B8), in the language it was
    issued in unless `locale` asks for another."""
    locale = locale or parties.language_of(invoice.bill_to)
    return Document(
        kind="invoice",
        number=invoice.number,
        state=invoice.state,
        issued_on=invoice.issued_on,
        seller=parties.party(invoice.seller, locale),
        bill_to=parties.party(invoice.bill_to, locale),
        currency=invoice.currency,
        lines=tuple(_document_line(f, f.amount_minor) for f in invoice.lines),
        subtotal_minor=invoice.subtotal_minor,
        taxes=tuple(TaxLine(t.rate, t.base_minor, t.tax_minor) for t in invoice.taxes),
        total_minor=invoice.total_minor,
        rounding=invoice.rounding,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        locale=locale,
        notes=invoice.notes,
        credit_applied_minor=invoice.credit_applied_minor,
    )


def credit_note_document(
    invoice: InvoiceRow, note: CreditNoteRow, *, locale: str | None = None
) -> Document:
    locale = locale or parties.language_of(note.bill_to)
    taken = dict(note.lines)
    return Document(
        kind="credit_note",
        number=note.number,
        state="issued",
        issued_on=note.issued_on,
        seller=parties.party(note.seller, locale),
        bill_to=parties.party(note.bill_to, locale),
        currency=invoice.currency,
        lines=tuple(_document_line(f, taken[i]) for i, f in enumerate(invoice.lines) if i in taken),
        subtotal_minor=note.subtotal_minor,
        taxes=tuple(TaxLine(t.rate, t.base_minor, t.tax_minor) for t in note.taxes),
        total_minor=note.total_minor,
        rounding=invoice.rounding,
        corrects=invoice.number,
        locale=locale,
        notes=(note.reason, *_settlement_notes(note, invoice.currency, locale)),
    )


def _settlement_notes(note: CreditNoteRow, currency: str, lang: str) -> tuple[str, ...]:
    """What became of the money paid that the note gives back (P4)."""
    amount = format_amount(Money.from_minor(note.settled_minor, currency).amount, currency, lang)
    if note.settled_as == NoteSettlement.REFUND:
        return (wording.refunded(lang, amount),)
    if note.settled_as == NoteSettlement.BALANCE:
        return (wording.kept_as_credit(lang, amount),)
    return ()


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
