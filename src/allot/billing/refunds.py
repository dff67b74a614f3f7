"""Refunds (P4): a credit note on an invoice paid by card, given back to the card, once.

The operator chooses per credit note what becomes of the money paid that it gives back
(`allot.invoice.balance`): refunded to the card (`settle="refund"`, or `refund_note`
later, while the credit balance still holds it), or kept as the account's credit for its
next invoices. Only what the note gave back of money paid is refunded, at most what the
card paid and was not refunded yet. A refund is made as a charge is: the refund is
recorded first, with the key the provider keeps (`allot-<credit note number>`), the
provider is called outside any transaction, and the result is recorded; a refund a crash
left pending is asked for again with the same key by the worker's round
(`reconcile_refunds`), which the provider answers with the first refund.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from allot import audit
from allot.account.service import get_account
from allot.billing.collect import Collector
from allot.core.errors import Conflict, NotFound
from allot.core.money import Money
from allot.invoice import balance
from allot.invoice import repository as invoice_repo
from allot.invoice import service as invoice_service
from allot.invoice.models import NoteSettlement
from allot.invoice.repository import CreditNoteRow
from allot.kit.clock import Clock
from allot.payment import repository as repo
from allot.payment.gateway import GatewayError, Refund
from allot.payment.models import AttemptState, RefundState
from allot.payment.repository import RefundRow
from allot.webhook.service import emit

LEASE = timedelta(minutes=5)


def refund_note(collector: Collector, *, number: str) -> RefundRow:
    """Give a credit note's total back to the card that paid its invoice (operator)."""
    with collector.db.transaction() as conn:
        refund, provider_ref = _begin(conn, collector.clock, number)
    if refund.state != RefundState.PENDING:
        return refund  # asked before: the first answer stands
    return _ask(collector, refund, provider_ref)


def payments_round(collector: Collector) -> Callable[[int], int]:
    """The worker's round of payments: charges (`Collector.round`), then the refunds a
    crash left pending."""

    def work(batch: int) -> int:
        return max(collector.round(batch), reconcile_refunds(collector, batch))

    return work


def reconcile_refunds(collector: Collector, batch: int) -> int:
    """Refunds left pending by a crash or an unanswered call, asked again with their keys
    once their lease runs out."""
    with collector.db.transaction() as conn:
        stale = repo.stale_refunds(
            conn, collector.clock.now(), batch, gateway=collector.gateway.name
        )
        for r in stale:  # the next round leaves them alone for a lease
            repo.renew_refund(conn, r.credit_note_id, collector.clock.now() + LEASE)
        refs = [repo.get_attempt(conn, r.attempt_id).provider_ref for r in stale]
    for refund, provider_ref in zip(stale, refs, strict=True):
        if provider_ref is not None:
            _ask(collector, refund, provider_ref)
    return len(stale)


def credit_note(
    conn: Connection,
    clock: Clock,
    *,
    invoice_id: int,
    reason: str,
    amounts: Mapping[int, Decimal | str] | None,
    issued_on: date,
    settle: str | None,
) -> CreditNoteRow:
    """A credit note (`allot.invoice.service.credit_note`); with `settle="refund"` its refund is
    recorded in the same transaction — refused, with the note, unless a card paid the
    invoice — and the provider is asked after the commit (`refund_note`, or the worker's
    round after a crash)."""
    note = invoice_service.credit_note(
        conn,
        clock,
        invoice_id=invoice_id,
        reason=reason,
        amounts=amounts,
        issued_on=issued_on,
        settle=settle,
    )
    if note.settled_as == NoteSettlement.REFUND:
        _begin(conn, clock, note.number)
    return note


def _begin(conn: Connection, clock: Clock, number: str) -> tuple[RefundRow, str]:
    """Record the refund of a note's paid part (once), under the account's lock: a note kept
    as credit leaves the balance for it, while the balance still holds it."""
    note = invoice_repo.credit_note_by_number(conn, number)
    if note is None:
        raise NotFound("credit_note_not_found", f"no credit note {number!r}", field="number")
    invoice = invoice_service.get_invoice(conn, note.invoice_id)
    if invoice.account_id is None:
        raise Conflict(
            "invoice_not_paid_by_card", "a partner's invoice is not paid by card", field="number"
        )
    get_account(conn, invoice.account_id, lock=True)
    if note.settled_as is None:
        raise Conflict(
            "credit_note_not_charged",
            f"nothing of {note.number} gave back money paid: it lowered what invoice "
            f"{invoice.number} asked for, and there is nothing to refund",
            field="number",
        )
    paid = [a for a in repo.attempts_of(conn, invoice.id) if a.state == AttemptState.SUCCEEDED]
    if not paid or paid[-1].provider_ref is None:
        raise Conflict(
            "invoice_not_paid_by_card",
            f"invoice {invoice.number} was not paid by card: what {note.number} gives back "
            "stays the account's credit",
            field="number",
        )
    payment = paid[-1]
    provider_ref = payment.provider_ref
    assert provider_ref is not None
    found = repo.get_refund(conn, note.id)
    if found is not None:
        return found, provider_ref
    left = payment.amount_minor - repo.refunded_of(conn, payment.id)
    if note.settled_minor > left:
        raise Conflict(
            "refund_exceeds_payment",
            f"{Money.from_minor(left, invoice.currency).amount} {invoice.currency} is left to "
            f"refund of that payment; keep the credit note as credit instead",
            field="number",
        )
    if note.settled_as == NoteSettlement.BALANCE:
        balance.to_refund(conn, clock, note=note, currency=invoice.currency)
    refund = repo.insert_refund(
        conn,
        credit_note_id=note.id,
        attempt_id=payment.id,
        account_id=invoice.account_id,
        amount_minor=note.settled_minor,
        key=f"allot-{note.number}",
        created_at=clock.now(),
        lease_until=clock.now() + LEASE,
    )
    audit.record(
        conn, clock, change="refund.requested", subject_kind="credit_note", subject_id=note.number,
        account_id=invoice.account_id,
        after={"amount_minor": refund.amount_minor, "currency": invoice.currency,
               "invoice": invoice.number, "payment_id": payment.id},
    )  # fmt: skip
    return refund, provider_ref


def _ask(collector: Collector, refund: RefundRow, provider_ref: str) -> RefundRow:
    try:
        answer = collector.gateway.refund(
            provider_ref=provider_ref, amount_minor=refund.amount_minor, key=refund.key
        )
    except GatewayError:
        return refund  # still pending: the round asks again with the same key
    with collector.db.transaction() as conn:
        get_account(conn, refund.account_id, lock=True)
        _record(conn, collector.clock, refund, answer)
        done = repo.get_refund(conn, refund.credit_note_id)
    assert done is not None
    return done


def _record(conn: Connection, clock: Clock, refund: RefundRow, answer: Refund) -> None:
    state = RefundState.SUCCEEDED if answer.succeeded else RefundState.FAILED
    if not repo.finish_refund(
        conn,
        refund.credit_note_id,
        state=state,
        provider_ref=answer.provider_ref,
        finished_at=clock.now(),
    ):
        return
    attempt = repo.get_attempt(conn, refund.attempt_id)
    if not answer.succeeded:
        note = invoice_repo.credit_note_by_id(conn, refund.credit_note_id)
        balance.refund_refused(conn, clock, note=note)
    emit(
        conn,
        clock,
        type="payment.refunded" if answer.succeeded else "payment.refund_failed",
        account_id=refund.account_id,
        payload={
            "payment_id": attempt.id,
            "invoice_id": attempt.invoice_id,
            "account_id": refund.account_id,
            "credit_note_id": refund.credit_note_id,
            "amount": str(Money.from_minor(refund.amount_minor, attempt.currency).amount),
            "currency": attempt.currency,
            "message": answer.message,
        },
    )
