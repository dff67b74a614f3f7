"""Routes of payments: the card on file, the billing status (the banner), payments, the
sandbox's own card form and confirmation page, Stripe's webhooks, and cancelling.

The account itself may do what its billing page does (save a card, confirm a payment,
read its status); the operator may do everything, and retry a charge now.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from allot.account.schemas import SubscriptionRead
from allot.account.service import get_account
from allot.api_context import Caller, Db, IdempotencyKey, Now, PathId
from allot.billing import payments, refunds
from allot.billing.collect import Collector
from allot.billing.payment_schemas import (
    BillingStatusRead,
    CardRead,
    CardSave,
    CardSetupRead,
    CollectionRead,
    PaymentRead,
    RefundRead,
    SandboxCard,
    SandboxConfirm,
    card_read,
    payment_read,
    refund_read,
    status_read,
)
from allot.billing.refunds import refund_note
from allot.core.errors import Conflict, NotFound
from allot.core.periods import zone
from allot.invoice.api import operator_action, visible
from allot.invoice.repository import InvoiceRow
from allot.invoice.schemas import CreditNoteCreate, CreditNoteRead, credit_note_read
from allot.payment import repository as repo
from allot.subscription.api import subscription_read

router = APIRouter(prefix="/accounts/{account_id}", tags=["payments"])
providers = APIRouter(tags=["payments"])


def _collector(request: Request) -> Collector:
    found: Collector | None = request.app.state.collector
    if found is None:
        raise Conflict("payments_not_configured", "this API was started without a payment gateway")
    return found


@router.get("/billing-status", response_model=BillingStatusRead)
def get_billing_status(
    account_id: str, request: Request, db: Db, caller: Caller
) -> BillingStatusRead:
    """What the billing page's banner shows: the amount past due, its invoices, the next
    retry, and the action (update the card, or confirm a payment) with its link."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        status = payments.billing_status(
            conn, account_id=account_id, links=_collector(request).links
        )
    return status_read(status)


@router.post("/payment-method/setup", response_model=CardSetupRead)
def post_card_setup(
    account_id: str, request: Request, db: Db, now: Now, caller: Caller
) -> CardSetupRead:
    """Begin saving a card at the provider; the page confirms it (Stripe.js), then PUT it."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
    gateway = _collector(request).gateway
    setup = payments.start_card_setup(db, now, gateway, account_id=account_id)
    return CardSetupRead(
        gateway=gateway.name, setup_ref=setup.setup_ref, client_secret=setup.client_secret
    )


@router.put("/payment-method", response_model=CardRead)
def put_card(
    account_id: str, body: CardSave, request: Request, db: Db, now: Now, caller: Caller
) -> CardRead:
    """The card a confirmed setup saved becomes the account's; every open invoice is tried
    again in the next worker round."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
    gateway = _collector(request).gateway
    return card_read(
        payments.save_card(db, now, gateway, account_id=account_id, setup_ref=body.setup_ref)
    )


@router.get("/payment-method", response_model=CardRead)
def get_card(account_id: str, db: Db, caller: Caller) -> CardRead:
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        card = repo.active_method(conn, account_id)
    if card is None:
        raise NotFound("payment_method_not_found", "no card on file", field="account_id")
    return card_read(card)


@router.post("/payment-method/sandbox-card", response_model=CardRead)
def post_sandbox_card(
    account_id: str, body: SandboxCard, request: Request, db: Db, now: Now, caller: Caller
) -> CardRead:
    """The sandbox provider's card form (sandbox only): a test card, saved at once."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
    method = payments.sandbox_card(
        db, now, _collector(request).gateway, account_id=account_id, number=body.number,
        exp_month=body.exp_month, exp_year=body.exp_year,
    )  # fmt: skip
    return card_read(method)


@router.get("/payments", response_model=list[PaymentRead])
def get_payments(account_id: str, db: Db, caller: Caller) -> list[PaymentRead]:
    """Every charge attempt of the account, newest first."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
        return [payment_read(a) for a in repo.attempts_of_account(conn, account_id)]


@router.post("/payments/{payment_id}/sandbox-confirm", response_model=PaymentRead)
def post_sandbox_confirm(
    account_id: str,
    payment_id: PathId,
    body: SandboxConfirm,
    request: Request,
    db: Db,
    caller: Caller,
) -> PaymentRead:
    """The sandbox's confirmation page (3-D Secure): the cardholder passes or fails."""
    with db.read() as conn:
        caller.check(conn).require_account(account_id)
    done = payments.confirm_in_sandbox(
        _collector(request), account_id=account_id, payment_id=payment_id, success=body.success
    )
    return payment_read(done)


@router.post("/subscriptions/{subscription_id}/cancel", response_model=SubscriptionRead)
def post_cancel(
    account_id: str, subscription_id: PathId, db: Db, now: Now, caller: Caller
) -> SubscriptionRead:
    """End the subscription now: nothing is charged after this (P4), its open invoices
    included; no refund (issue a credit note for one)."""
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        done = payments.cancel(conn, now, account_id=account_id, subscription_id=subscription_id)
        return subscription_read(done)


@providers.post("/invoices/{invoice_id}/collect", response_model=CollectionRead)
def post_collect(invoice_id: PathId, db: Db, now: Now, caller: Caller) -> CollectionRead:
    """Charge the invoice in the next worker round, whatever its schedule says (operator)."""
    with db.transaction() as conn:
        principal = caller.check(conn)
        visible(conn, principal, invoice_id)  # another tenant's invoice: the 404 of a missing one
        principal.require_operator()
        done = payments.retry_now(conn, now, invoice_id=invoice_id)
    return CollectionRead(
        invoice_id=done.invoice_id, state=done.state, next_try_at=done.next_try_at
    )


@providers.post(
    "/invoices/{invoice_id}/credit-notes",
    status_code=201,
    response_model=CreditNoteRead,
    tags=["invoices"],
)
def post_credit_note(
    invoice_id: PathId,
    body: CreditNoteCreate,
    request: Request,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """Take back part (`lines`: amounts before tax) or all that is left of an invoice (operator).

    Dated today in the account's time zone; tax follows each line's rate. What it gives back
    of money paid is kept as the account's credit balance, or with `settle: "refund"`
    refunded to the card that paid (P4).
    """
    amounts = None if body.lines is None else {c.position: c.amount for c in body.lines}
    collector = _collector(request) if body.settle == "refund" else None

    def correct(conn: Connection, invoice: InvoiceRow) -> CreditNoteRead:
        tz = get_account(conn, invoice.account_id).timezone if invoice.account_id else "UTC"
        note = refunds.credit_note(
            conn,
            now,
            invoice_id=invoice.id,
            reason=body.reason,
            amounts=amounts,
            issued_on=now.now().astimezone(zone(tz)).date(),
            settle=body.settle,
        )
        return credit_note_read(invoice, note)

    answer = operator_action(
        db, now, caller, key, invoice_id, body.model_dump(mode="json"), correct, 201
    )
    if collector is not None and answer.status_code == 201:  # a replay too: it may be pending
        refund_note(collector, number=json.loads(bytes(answer.body))["number"])  # after the commit
    return answer


@providers.post("/credit-notes/{number}/refund", response_model=RefundRead)
def post_refund(number: str, request: Request, db: Db, caller: Caller) -> RefundRead:
    """Refund to the card what a credit note gave back of money paid, which was kept as the
    account's credit until now (operator): once, whatever is retried; refused once later
    invoices took that credit (`credit_already_applied`)."""
    with db.read() as conn:
        caller.check(conn).require_operator()
    done = refund_note(_collector(request), number=number)
    with db.read() as conn:
        currency = repo.get_attempt(conn, done.attempt_id).currency
    return refund_read(done, number, currency)


@providers.post(
    "/providers/stripe/webhook", status_code=204, response_class=Response, include_in_schema=False
)
async def post_stripe_webhook(request: Request) -> Response:
    """Stripe's events (payment_intent.*), verified with ALLOT_STRIPE_WEBHOOK_SECRET; no API
    key: the signature is the proof. A redelivery changes nothing."""
    import anyio.to_thread

    payload = await request.body()
    headers = dict(request.headers)
    collector = _collector(request)
    await anyio.to_thread.run_sync(
        lambda: payments.provider_event(collector, payload=payload, headers=headers)
    )
    return Response(status_code=204)
