"""/v1/invoices (read, settle, correct), the invoice run, and the simulated clock.

Who sees an invoice: the operator every one, an account key its account's,
a partner key its partner's. Any other key gets the 404 a missing invoice
gets, so keys learn nothing about other tenants; settling and correcting
are the operator's (403 for a key that may see the invoice).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from allot.account.schemas import BillingDetailsBody
from allot.account.service import get_account
from allot.api_context import Caller, Db, IdempotencyKey, Now, PathId, idempotent
from allot.apikey.service import Principal
from allot.core.errors import NotFound
from allot.invoice import parties, service, simulation
from allot.invoice import repository as repo
from allot.invoice.repository import InvoiceRow
from allot.invoice.run import run
from allot.invoice.schemas import (
    BillingRunRead,
    ClockRead,
    ClockSet,
    CreditBalanceRead,
    InvoicePage,
    InvoicePay,
    InvoiceRead,
    InvoiceSettle,
    credit_balance_read,
    invoice_read,
    invoice_summary,
)
from allot.kit import simclock
from allot.kit.clock import Clock
from allot.kit.i18n import Language
from allot.kit.simclock import StoredClock
from allot.partner.service import get_partner

router = APIRouter(tags=["invoices"])
billing = APIRouter(tags=["billing"])

CSV_ALL = 100_000  # an account's whole history in one export


class PdfResponse(Response):
    media_type = "application/pdf"


class CsvResponse(Response):
    media_type = "text/csv"


PDF_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The invoice as an A4 PDF",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}
CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One row per invoice line, oldest invoice first",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
Limit = Annotated[int, Query(ge=1, le=1000)]
After = Annotated[
    int | None, Query(ge=1, le=2_147_483_647, description="`next_after` of the previous page.")
]


# --- who may see what ------------------------------------------------------------------


def visible(conn: Connection, principal: Principal, invoice_id: int) -> InvoiceRow:
    """The invoice, or the 404 a missing one gets if this key may not see it."""
    invoice = service.get_invoice(conn, invoice_id)
    if principal.role == "operator":
        return invoice
    if invoice.account_id is not None and principal.may_see_account(invoice.account_id):
        return invoice
    if principal.role == "partner" and invoice.partner_id == principal.subject:
        return invoice
    raise NotFound("invoice_not_found", f"no invoice {invoice_id}", field="invoice_id")


def _read(conn: Connection, invoice: InvoiceRow) -> InvoiceRead:
    return invoice_read(invoice, repo.credit_notes_of(conn, invoice.id))


def _page(rows: list[InvoiceRow], limit: int) -> InvoicePage:
    return InvoicePage(
        data=[invoice_summary(r) for r in rows],
        next_after=rows[-1].id if len(rows) == limit else None,
    )


# --- reading ------------------------------------------------------------------------------


@router.get("/accounts/{account_id}/invoices", response_model=InvoicePage)
def get_account_invoices(
    account_id: str, db: Db, caller: Caller, limit: Limit = 100, after: After = None
) -> InvoicePage:
    """The account's invoices, newest first."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        get_account(conn, account_id)
        return _page(repo.listing(conn, account_id=account_id, limit=limit, before_id=after), limit)


@router.get(
    "/accounts/{account_id}/invoices.csv",
    response_class=CsvResponse,
    response_model=None,
    responses=CSV_DOC,
)
def get_account_invoices_csv(account_id: str, db: Db, caller: Caller) -> Response:
    """Every line of every invoice of the account, for a spreadsheet (amounts as decimals)."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        get_account(conn, account_id)
        rows = repo.listing(conn, account_id=account_id, limit=CSV_ALL)
        full = [service.get_invoice(conn, r.id) for r in reversed(rows)]
    return CsvResponse(
        service.to_csv(full),
        headers={"Content-Disposition": f'attachment; filename="{account_id}-invoices.csv"'},
    )


@router.get("/accounts/{account_id}/credit-balance", response_model=CreditBalanceRead)
def get_credit_balance(
    account_id: str, db: Db, caller: Caller, limit: Limit = 100, after: After = None
) -> CreditBalanceRead:
    """The account's credit balance (P4) and its moves, newest first: credit notes kept as
    credit and overpayments in, credit taken off invoices and refunds out."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        account = get_account(conn, account_id)
        entries = repo.balance_entries(conn, account_id, limit=limit, before_id=after)
    return credit_balance_read(account, entries, limit)


@router.get("/partners/{partner_id}/invoices", response_model=InvoicePage)
def get_partner_invoices(
    partner_id: str, db: Db, caller: Caller, limit: Limit = 100, after: After = None
) -> InvoicePage:
    """The partner's wholesale invoices, newest first."""
    with db.read() as conn:
        caller.check(conn).require_partner(partner_id)
        get_partner(conn, partner_id)
        return _page(repo.listing(conn, partner_id=partner_id, limit=limit, before_id=after), limit)


@router.get("/invoices/{invoice_id}", response_model=InvoiceRead)
def get_one_invoice(invoice_id: PathId, db: Db, caller: Caller) -> InvoiceRead:
    """The whole invoice: lines with exact and rounded amounts, taxes, credit notes."""
    with db.read() as conn:
        return _read(conn, visible(conn, caller.check(conn), invoice_id))


DocumentLanguage = Annotated[
    Language | None, Query(description="en, ko, th, hi or uk; by default the document's own.")
]


@router.get(
    "/invoices/{invoice_id}/pdf",
    response_class=PdfResponse,
    response_model=None,
    responses=PDF_DOC,
)
def get_invoice_pdf(
    invoice_id: PathId, db: Db, caller: Caller, lang: DocumentLanguage = None
) -> Response:
    """The invoice as PDF, in the language it was issued in (its account's then), or `lang`.
    Its lines read as they were written when it was issued."""
    from allot.invoice.pdf import render_pdf  # WeasyPrint loads fonts on import

    with db.read() as conn:
        invoice = visible(conn, caller.check(conn), invoice_id)
        doc = service.document(invoice, locale=lang)
    name = invoice.number or f"invoice-{invoice.id}"
    return PdfResponse(
        render_pdf(doc), headers={"Content-Disposition": f'inline; filename="{name}.pdf"'}
    )


@router.get(
    "/credit-notes/{number}/pdf",
    response_class=PdfResponse,
    response_model=None,
    responses=PDF_DOC,
)
def get_credit_note_pdf(
    number: Annotated[str, Path(max_length=32)],
    db: Db,
    caller: Caller,
    lang: DocumentLanguage = None,
) -> Response:
    """A credit note as PDF (CN-2026-000001), seen by whoever sees the invoice it corrects;
    in the language it was issued in, or `lang`."""
    from allot.invoice.pdf import render_pdf  # WeasyPrint loads fonts on import

    with db.read() as conn:
        principal = caller.check(conn)
        missing = NotFound("credit_note_not_found", f"no credit note {number!r}", field="number")
        note = repo.credit_note_by_number(conn, number)
        if note is None:
            raise missing
        try:
            invoice = visible(conn, principal, note.invoice_id)
        except NotFound:
            raise missing from None  # another's note is as missing as one never issued
        doc = service.credit_note_document(invoice, note, locale=lang)
    return PdfResponse(
        render_pdf(doc), headers={"Content-Disposition": f'inline; filename="{number}.pdf"'}
    )


# --- settling and correcting (operator) ---------------------------------------------------


def operator_action(
    db: Db,
    now: Now,
    caller: Caller,
    key: str | None,
    invoice_id: int,
    body: dict[str, Any],
    action: Callable[[Connection, InvoiceRow], BaseModel],
    status: int = 200,
) -> JSONResponse:
    """An operator's action on one invoice, under its idempotency key (the same key returns
    the first answer); another tenant's invoice is the 404 of a missing one."""

    def work(conn: Connection, principal: Principal) -> tuple[int, BaseModel]:
        invoice = visible(conn, principal, invoice_id)
        principal.require_operator()
        return status, action(conn, invoice)

    return idempotent(db, now, caller, key, {"invoice": invoice_id, **body}, work)


@router.post("/invoices/{invoice_id}/pay", response_model=InvoiceRead)
def post_pay(
    invoice_id: PathId,
    db: Db,
    now: Now,
    caller: Caller,
    body: InvoicePay | None = None,
    key: IdempotencyKey = None,
) -> object:
    """Record a payment received outside allot (operator); paying a paid invoice is a no-op."""
    note = (body or InvoicePay()).note

    def pay(conn: Connection, invoice: InvoiceRow) -> InvoiceRead:
        return _read(conn, service.mark_paid(conn, now, invoice_id=invoice.id, note=note))

    return operator_action(db, now, caller, key, invoice_id, {"note": note}, pay)


@router.post("/invoices/{invoice_id}/void", response_model=InvoiceRead)
def post_void(
    invoice_id: PathId,
    body: InvoiceSettle,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """Cancel an unpaid invoice (operator); its number stays used. `invoice_not_open` (409)
    once it is paid: correct it with a credit note instead."""

    def void(conn: Connection, invoice: InvoiceRow) -> InvoiceRead:
        return _read(conn, service.void(conn, now, invoice_id=invoice.id, reason=body.reason))

    return operator_action(db, now, caller, key, invoice_id, body.model_dump(), void)


@router.post("/invoices/{invoice_id}/uncollectible", response_model=InvoiceRead)
def post_uncollectible(
    invoice_id: PathId,
    body: InvoiceSettle,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """Write an unpaid invoice off (operator); it may still be marked paid later."""

    def give_up(conn: Connection, invoice: InvoiceRow) -> InvoiceRead:
        return _read(
            conn, service.mark_uncollectible(conn, now, invoice_id=invoice.id, reason=body.reason)
        )

    return operator_action(db, now, caller, key, invoice_id, body.model_dump(), give_up)


# --- the invoice run and the clock (operator) ---------------------------------------------


@billing.post("/billing/run", response_model=BillingRunRead)
def post_billing_run(db: Db, now: Now, caller: Caller) -> BillingRunRead:
    """Issue every invoice due as of the clock, exactly once: repeating it issues nothing new.

    One transaction per account, as with `allot bill`.
    """
    with db.read() as conn:
        caller.check(conn).require_operator()
    as_of = now.now()
    report = run(db, now)
    counts: dict[str, int] = {}
    for invoice in report.invoices:
        counts[invoice.kind] = counts.get(invoice.kind, 0) + 1
    return BillingRunRead(
        as_of=as_of,
        accounts=report.accounts,
        issued=len(report.invoices),
        counts=counts,
        invoices=[i.number or str(i.id) for i in report.invoices],
    )


def _clock_read(now: Clock, stored: datetime | None) -> ClockRead:
    return ClockRead(now=now.now(), simulated=stored is not None, stored=stored)


def _seen_at_once(now: Clock, stored: datetime | None) -> None:
    """This process reads the new time at once (others within their clock's ttl)."""
    if isinstance(now, StoredClock):
        now.refresh(stored, known=True)


@billing.get("/clock", response_model=ClockRead)
def get_clock(db: Db, now: Now, caller: Caller) -> ClockRead:
    """The time the API and the invoice run read (operator)."""
    with db.read() as conn:
        caller.check(conn).require_operator()
        stored = simclock.stored(conn)
    return _clock_read(now, stored)


@billing.put("/clock", response_model=ClockRead)
def put_clock(body: ClockSet, db: Db, now: Now, caller: Caller) -> ClockRead:
    """Simulation mode (operator): freeze the database's clock at `now`, or move it forward
    by `advance` (from real time if it was not set). It moves only when told to."""
    with db.transaction() as conn:
        caller.check(conn).require_operator()
        if body.now is not None:
            at = simulation.set_clock(conn, now, at=body.now)
        else:
            assert body.advance is not None
            at = simulation.advance_clock(conn, now, **body.advance.model_dump())
    _seen_at_once(now, at)
    return _clock_read(now, at)


@billing.delete("/clock", response_model=ClockRead)
def delete_clock(db: Db, now: Now, caller: Caller) -> ClockRead:
    """Back to real time (operator)."""
    with db.transaction() as conn:
        caller.check(conn).require_operator()
        simulation.set_clock(conn, now, at=None)
    _seen_at_once(now, None)
    return _clock_read(now, None)


# --- the seller (B8) ----------------------------------------------------------------------


@router.get("/seller", response_model=BillingDetailsBody, tags=["seller"])
def get_seller(db: Db, caller: Caller) -> BillingDetailsBody:
    """The operator's identity that documents are issued under now."""
    with db.read() as conn:
        caller.check(conn)
        details = parties.seller_details(conn)
    if details is None:
        raise NotFound("seller_not_set", "no seller identity is set yet", field="seller")
    return BillingDetailsBody.model_validate(details.to_json())


@router.put("/seller", response_model=BillingDetailsBody, tags=["seller"])
def put_seller(body: BillingDetailsBody, db: Db, now: Now, caller: Caller) -> BillingDetailsBody:
    """Set the seller (operator): legal name and address required. Every invoice and credit
    note issued from now on carries it; those issued before keep theirs (B8)."""
    with db.transaction() as conn:
        caller.check(conn).require_operator()
        details = parties.set_seller(conn, now, body.wire())
    return BillingDetailsBody.model_validate(details.to_json())
