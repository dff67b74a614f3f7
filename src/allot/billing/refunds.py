"""Refunds (P4): a credit note on an invoice paid by card, given back to the card, once.

The operator chooses per credit note: refund it to the card (`refund_note`), or leave it,
and the credit stays the account's. A refund is made as a charge is: the refund is
recorded first, with the key the provider keeps (`allot-<credit note number>`), the
provider is called outside any transaction, and the result is recorded; a refund a crash
left pending is asked for again with the same key by the worker's round
(`reconcile_refunds`), which the provider answers with the first refund.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Connection

from allot.account.service import get_account
from allot.billing.collect import Collector
from allot.core.errors import Conflict, NotFound
from allot.core.money import Money
from allot.invoice import repository as invoice_repo
from allot.invoice import service as invoice_service
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
        stale = repo.stale_refunds(conn, collector.clock.now(), batch)
        for r in stale:  # the next round leaves them alone for a lease
            repo.renew_refund(conn, r.credit_note_id, collector.clock.now() + LEASE)
        refs = [repo.get_attempt(conn, r.attempt_id).provider_ref for r in stale]
    for refund, provider_ref in zip(stale, refs, strict=True):
        if provider_ref is not None:
            _ask(collector, refund, provider_ref)
    return len(stale)


def _begin(conn: Connection, clock: Clock, number: str) -> tuple[RefundRow, str]:
    note = invoice_repo.credit_note_by_number(conn, number)
    if note is None:
        raise NotFound("credit_note_not_found", f"no credit note {number!r}", field="number")
    invoice = invoice_service.get_invoice(conn, note.invoice_id)
    if invoice.account_id is None:
        raise Conflict(
            "invoice_not_paid_by_card", "a partner's invoice is not paid by card", field="number"
        )
    get_account(conn, invoice.account_id, lock=True)
    paid = [a for a in repo.attempts_of(conn, invoice.id) if a.state == AttemptState.SUCCEEDED]
    if invoice.state != "paid" or not paid or paid[-1].provider_ref is None:
        raise Conflict(
            "invoice_not_paid_by_card",
            f"invoice {invoice.number} was not paid by card: the credit stays the account's",
            field="number",
        )
    payment = paid[-1]
    provider_ref = payment.provider_ref
    assert provider_ref is not None
    amount = _charged_part(conn, invoice.id, invoice.total_minor, payment.amount_minor, note)
    if amount <= 0:
        raise Conflict(
            "credit_note_not_charged",
            f"{note.number} was issued before the card was charged, which charged the rest: "
            "there is nothing of it to refund",
            field="number",
        )
    found = repo.get_refund(conn, note.id)
    if found is not None:
        return found, provider_ref
    left = payment.amount_minor - repo.refunded_of(conn, payment.id)
    if amount > left:
        raise Conflict(
            "refund_exceeds_payment",
            f"{Money.from_minor(left, invoice.currency).amount} {invoice.currency} is left to "
            f"refund of that payment",
            field="number",
        )
    refund = repo.insert_refund(
        conn,
        credit_note_id=note.id,
        attempt_id=payment.id,
        account_id=invoice.account_id,
        amount_minor=amount,
        key=f"allot-{note.number}",
        created_at=clock.now(),
        lease_until=clock.now() + LEASE,
    )
    return refund, provider_ref


def _charged_part(
    conn: Connection, invoice_id: int, total_minor: int, charged_minor: int, note: CreditNoteRow
) -> int:
    """What of a credit note the card actually paid. A charge takes what is owed then, so the
    notes issued before it were left out of it: they come first, in order, up to what the
    charge left out (`total - charged`), and only the rest of a note was paid by the card.

    """
    left_out = total_minor - charged_minor
    before = sum(
        n.total_minor for n in invoice_repo.credit_notes_of(conn, invoice_id) if n.id < note.id
    )
    return max(0, min(note.total_minor, before + note.total_minor - left_out))


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
