"""Payment use cases that span domains: saving a card (and what it retries), what the billing
page's banner shows, confirming a payment, a provider's webhook, cancelling a subscription.

The provider is called outside the database transactions here too: a card is saved at the
provider first and then recorded; an outcome the provider reports is recorded by
`allot.billing.collect.settle`, the one place that reacts to an outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from allot import audit
from allot.account.service import get_account
from allot.billing import collect
from allot.billing.collect import Collector, Links
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.core.money import Money
from allot.invoice import service as invoice_service
from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.payment import repository as repo
from allot.payment.gateway import CardSetup, GatewayError, PaymentGateway
from allot.payment.models import AttemptState, CollectionState
from allot.payment.repository import AttemptRow, CollectionRow, MethodRow
from allot.subscription import repository as sub_repo
from allot.subscription.repository import LiveSubscription
from allot.subscription.service import announce


def _provider(exc: GatewayError, field: str) -> InvalidInput:
    return InvalidInput("payment_provider_refused", str(exc)[:300], field=field)


# --- the card on file -----------------------------------------------------------------------


def start_card_setup(
    db: Database, clock: Clock, gateway: PaymentGateway, *, account_id: str
) -> CardSetup:
    """A card setup at the provider (its customer made on first use); the page confirms it."""
    with db.read() as conn:
        account = get_account(conn, account_id)
        customer = repo.customer_ref(conn, account_id, gateway.name)
    try:
        if customer is None:
            customer = gateway.customer(
                account_id=account_id, email=account.details.email, name=account.name
            )
            with db.transaction() as conn:
                if repo.customer_ref(conn, account_id, gateway.name) is None:
                    repo.insert_customer(conn, account_id, gateway.name, customer, clock.now())
        return gateway.start_card_setup(customer_ref=customer)
    except GatewayError as exc:
        raise _provider(exc, "account_id") from None


def save_card(
    db: Database, clock: Clock, gateway: PaymentGateway, *, account_id: str, setup_ref: str
) -> MethodRow:
    """The card a confirmed setup saved becomes the account's card, and every open invoice
    is tried again in the next round (P2: "Update my payment method")."""
    with db.read() as conn:
        get_account(conn, account_id)
        customer = repo.customer_ref(conn, account_id, gateway.name)
    if customer is None:
        raise NotFound("card_setup_not_found", "start a card setup first", field="setup_ref")
    try:
        card = gateway.finish_card_setup(customer_ref=customer, setup_ref=setup_ref)
    except GatewayError as exc:
        raise _provider(exc, "setup_ref") from None
    with db.transaction() as conn:
        get_account(conn, account_id, lock=True)
        same = repo.active_method(conn, account_id)
        if same is not None and same.method_ref == card.method_ref:
            return same  # the card on file again: nothing changes, nothing is retried (P4)
        method_id = repo.replace_method(
            conn,
            account_id,
            {
                "gateway": gateway.name,
                "method_ref": card.method_ref,
                "brand": card.brand,
                "last4": card.last4,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "created_at": clock.now(),
            },
        )
        collect.card_changed(conn, clock, account_id=account_id)
        saved = repo.get_method(conn, method_id)
        audit.record(
            conn, clock, change="payment_method.saved", subject_kind="payment_method",
            subject_id=method_id, account_id=account_id,
            before=None if same is None else _card(same), after=_card(saved),
        )  # fmt: skip
        return saved


def _card(card: MethodRow) -> dict[str, object]:
    """A card as the audit log keeps it: its brand, last four digits and expiry (P3)."""
    return {"brand": card.brand, "last4": card.last4, "exp": f"{card.exp_month}/{card.exp_year}"}


def sandbox_card(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    account_id: str,
    number: str,
    exp_month: int,
    exp_year: int,
) -> MethodRow:
    """The whole card form of the sandbox at once: a setup, a test card entered at the
    sandbox's side (the number goes no further), and the card saved."""
    from allot.payment.sandbox import SandboxGateway

    if not isinstance(gateway, SandboxGateway):
        raise Conflict(
            "not_the_sandbox",
            f"cards are entered at {gateway.name}'s own page, not through allot",
            field="number",
        )
    setup = start_card_setup(db, clock, gateway, account_id=account_id)
    try:
        gateway.enter_card(
            setup_ref=setup.setup_ref, number=number, exp_month=exp_month, exp_year=exp_year
        )
    except GatewayError as exc:
        raise InvalidInput("invalid_test_card", str(exc), field="number") from None
    return save_card(db, clock, gateway, account_id=account_id, setup_ref=setup.setup_ref)


# --- outcomes reported by the provider ------------------------------------------------------


def confirm_in_sandbox(
    collector: Collector, *, account_id: str, payment_id: int, success: bool
) -> AttemptRow:
    """The cardholder on the sandbox's confirmation page (3-D Secure), then the outcome."""
    from allot.payment.sandbox import SandboxGateway

    gateway = collector.gateway
    attempt = payment_of(collector.db, account_id=account_id, payment_id=payment_id)
    with collector.db.read() as conn:
        collection = repo.get_collection(conn, attempt.invoice_id)
    if collection is None or collection.state != CollectionState.REQUIRES_ACTION:
        raise Conflict(
            "payment_not_waiting",
            "the invoice of this payment is no longer waiting for it (paid, canceled or voided)",
            field="payment",
        )
    if not isinstance(gateway, SandboxGateway) or attempt.provider_ref is None:
        raise Conflict(
            "not_the_sandbox", "this payment is confirmed on the provider's page", field="payment"
        )
    try:
        outcome = gateway.authenticate(provider_ref=attempt.provider_ref, success=success)
    except GatewayError as exc:
        raise Conflict("payment_not_waiting", str(exc), field="payment") from None
    collector.record(attempt.id, outcome)
    return payment_of(collector.db, account_id=account_id, payment_id=payment_id)


def provider_event(collector: Collector, *, payload: bytes, headers: Mapping[str, str]) -> bool:
    """A provider webhook (Stripe's), verified, recorded if it concerns one of allot's
    payments; False if it concerned none. A redelivery changes nothing."""
    try:
        event = collector.gateway.verify_event(payload=payload, headers=headers)
    except GatewayError as exc:
        raise InvalidInput("invalid_signature", str(exc)[:300], field="Stripe-Signature") from None
    if event.provider_ref is None or event.outcome is None:
        return False
    with collector.db.read() as conn:
        attempt = repo.attempt_by_provider_ref(conn, event.provider_ref)
    if attempt is None:
        return False
    collector.record(attempt.id, event.outcome)
    return True


def waiting_payment(conn: Connection, *, account_id: str, payment_id: int) -> AttemptRow:
    """The account's payment `payment_id`, if its invoice still waits for its cardholder's
    confirmation; NotFound (another account's, or none) or Conflict otherwise."""
    found = repo.find_attempt(conn, payment_id)
    if found is None or found.account_id != account_id:
        raise NotFound("payment_not_found", f"no payment {payment_id}", field="payment")
    collection = repo.get_collection(conn, found.invoice_id)
    if (
        found.state != AttemptState.REQUIRES_ACTION
        or collection is None
        or collection.state != CollectionState.REQUIRES_ACTION
    ):
        raise Conflict(
            "payment_not_waiting",
            "this payment is no longer waiting for a confirmation",
            field="payment",
        )
    return found


def payment_of(db: Database, *, account_id: str, payment_id: int) -> AttemptRow:
    with db.read() as conn:
        found = repo.find_attempt(conn, payment_id)
    if found is None or found.account_id != account_id:
        raise NotFound("payment_not_found", f"no payment {payment_id}", field="payment_id")
    return found


def dunning_queue(conn: Connection, *, limit: int = 200) -> list[CollectionRow]:
    """Invoices waiting for a card payment across accounts — collecting, waiting for a card,
    waiting for the cardholder's confirmation — the next to be tried first."""
    return repo.collections_in(conn, limit=limit)


def retry_now(conn: Connection, clock: Clock, *, invoice_id: int) -> CollectionRow:
    """The operator asks for a charge in the next round, whatever the schedule says (an
    invoice the round has not seen yet is opened for collection now)."""
    invoice = invoice_service.get_invoice(conn, invoice_id)
    if invoice.account_id is not None:
        get_account(conn, invoice.account_id, lock=True)
        if repo.get_collection(conn, invoice_id) is None:
            collect.open_collections(conn, clock, limit=1, invoice_id=invoice_id)
    collection = repo.get_collection(conn, invoice_id)
    if collection is None or collection.state not in (
        CollectionState.COLLECTING,
        CollectionState.WAITING_FOR_CARD,
        CollectionState.EXHAUSTED,
    ):
        raise Conflict(
            "invoice_not_collectible",
            f"invoice {invoice_id} is not waiting for a card payment",
            field="invoice_id",
        )
    repo.update_collection(
        conn,
        invoice_id,
        state=CollectionState.COLLECTING,
        next_try_at=clock.now(),
        updated_at=clock.now(),
    )
    done = repo.get_collection(conn, invoice_id)
    assert done is not None
    audit.record(
        conn, clock, change="collection.retry_now", subject_kind="invoice", subject_id=invoice_id,
        account_id=invoice.account_id,
        before={"state": collection.state, "next_try_at": collection.next_try_at},
        after={"state": done.state, "next_try_at": done.next_try_at},
    )  # fmt: skip
    return done


# --- cancelling -----------------------------------------------------------------------------


def cancel(
    conn: Connection, clock: Clock, *, account_id: str, subscription_id: int
) -> LiveSubscription:
    """End a subscription now (P4: nothing is charged after this, not even its open invoices,
    which stay for the operator to settle). No refund: a credit note does that."""
    get_account(conn, account_id, lock=True)
    sub = sub_repo.by_id(conn, subscription_id)
    if sub is None or sub.account_id != account_id:
        raise NotFound(
            "subscription_not_found", f"no subscription {subscription_id}", field="subscription_id"
        )
    collect.stop_collecting(conn, clock, subscription_id=sub.id)  # also after the dunning's
    if sub.state == "canceled":
        return sub
    sub_repo.set_state(conn, sub.id, "canceled", at=clock.now())
    done = sub_repo.by_id(conn, sub.id)
    assert done is not None
    announce(conn, clock, done, change="canceled", before=sub)
    return done


# --- what the billing page's banner shows (P2) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    invoice_id: int
    number: str
    currency: str
    owed_minor: int
    state: str  # the collection's
    tries: int
    next_try_at: datetime | None
    decline_code: str | None
    confirm_by: datetime | None = None  # requires_action: withdrawn past it


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # update_payment_method | confirm_payment
    url: str
    payment_id: int | None = None
    client_secret: str | None = None  # Stripe.js confirms the payment with it


@dataclass(frozen=True, slots=True)
class BillingStatus:
    account_id: str
    state: str  # ok | past_due | action_required
    past_due: tuple[Money, ...]  # by currency
    invoices: tuple[OpenInvoice, ...]
    next_retry_at: datetime | None
    action: Action | None
    card: MethodRow | None


_OVERDUE = (
    CollectionState.WAITING_FOR_CARD,
    CollectionState.REQUIRES_ACTION,
    CollectionState.EXHAUSTED,
)


def billing_status(conn: Connection, *, account_id: str, links: Links) -> BillingStatus:
    """The banner's state: what is past due, what happens next, and what the business can do."""
    get_account(conn, account_id)
    open_invoices = []
    for c in repo.open_collections(conn, account_id):
        if c.state not in _OVERDUE and c.tries == 0:
            continue  # due and not failed yet: not past due
        invoice = invoice_service.get_invoice(conn, c.invoice_id)
        last = repo.attempts_of(conn, c.invoice_id)
        confirming = c.state == CollectionState.REQUIRES_ACTION
        open_invoices.append(
            OpenInvoice(
                c.invoice_id,
                invoice.number or "",
                invoice.currency,
                collect.owed(conn, invoice),
                c.state,
                c.tries,
                None if confirming else c.next_try_at,
                last[-1].decline_code if last else "no_payment_method",
                c.next_try_at if confirming else None,
            )
        )
    totals: dict[str, int] = {}
    for i in open_invoices:
        totals[i.currency] = totals.get(i.currency, 0) + i.owed_minor
    waiting = [i for i in open_invoices if i.state == CollectionState.REQUIRES_ACTION]
    action = _action(conn, account_id, waiting, bool(open_invoices), links)
    retries = [i.next_try_at for i in open_invoices if i.next_try_at is not None]
    return BillingStatus(
        account_id=account_id,
        state="action_required" if waiting else "past_due" if open_invoices else "ok",
        past_due=tuple(Money.from_minor(m, c) for c, m in sorted(totals.items())),
        invoices=tuple(open_invoices),
        next_retry_at=min(retries) if retries else None,
        action=action,
        card=repo.active_method(conn, account_id),
    )


def _action(
    conn: Connection, account_id: str, waiting: list[OpenInvoice], overdue: bool, links: Links
) -> Action | None:
    if waiting:
        attempt = repo.open_attempt(conn, waiting[0].invoice_id)
        if attempt is not None:
            return Action(
                "confirm_payment",
                links.payment_action.format(account=account_id, payment=attempt.id),
                attempt.id,
                attempt.client_secret,
            )
    if overdue:
        return Action("update_payment_method", links.payment_method.format(account=account_id))
    return None
