"""Collecting card invoices (P1, P2, P4): charge when finalized, retry on a schedule, and
never charge twice.

Every invoice of a card-channel account gets a *collection* (its dunning state), opened
by the round that first sees it finalized. Charging one is three steps, and only the
middle one talks to the provider — outside any database transaction:

1. under the account's lock, check that the invoice is still owed and may be charged
   (finalized, its subscription not canceled, a card on file), and record an attempt
   with the key the provider will keep, `pending`, leased for a few minutes; commit;
2. call the provider with that key;
3. under the lock again, record the outcome and react to it (`settle`).

A crash after 1 leaves a pending attempt whose lease runs out: the next round calls the
provider again *with the same key*, which returns the first outcome if the first call got
through and charges once if it did not (`reconcile`). A crash after 3 has nothing left to
do. So whatever is killed, and wherever, each invoice is charged once.

What an outcome does (`settle`):

* succeeded: the invoice is paid, the subscription active again, and a final rule that
  had been applied is undone (the plan comes back; a canceled subscription resumes);
* failed: at the first failure the subscription goes past_due and the business gets an
  e-mail with the "Update my payment method" link; the next try follows the product
  line's schedule (`allot.core.dunning`), a hard decline waits for a new card, and
  after the last retry the final rule applies (downgrade, cancel, keep);
* requires action: the cardholder must confirm the payment — an e-mail with the link,
  never counted as a failure; the provider's answer comes later (a webhook, the
  sandbox's confirmation, or the round asking the provider again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot import audit
from allot.account.models import accounts
from allot.account.repository import AccountRow
from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core import calendar
from allot.core.dunning import FinalRule, confirm_by, next_try
from allot.core.money import Money
from allot.invoice import balance
from allot.invoice import repository as invoice_repo
from allot.invoice import service as invoice_service
from allot.invoice.models import invoices
from allot.invoice.pdf import format_money
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.kit.i18n import N_, gettext, language
from allot.notify.letters import Letter, compose
from allot.notify.models import EmailKind
from allot.notify.service import queue_email
from allot.payment import repository as repo
from allot.payment.gateway import ChargeStatus, GatewayError, Outcome, PaymentGateway
from allot.payment.models import AttemptState, CollectionState, collections
from allot.payment.repository import AttemptRow, CollectionRow, MethodRow
from allot.subscription import repository as sub_repo
from allot.subscription.repository import LiveSubscription
from allot.subscription.service import announce, seen
from allot.webhook.service import emit

LEASE = timedelta(minutes=5)  # how long a pending attempt is presumed in flight
MAX_CALLS = 12  # unanswered calls (an hour of leases) before a charge is only looked up
POLL = timedelta(minutes=10)  # how often a payment the provider is still processing is asked


@dataclass(frozen=True, slots=True)
class Links:
    """The platform's pages the e-mails point to ({account}, {payment} filled in)."""

    payment_method: str = "/billing?account={account}"
    payment_action: str = "/billing/confirm?account={account}&payment={payment}"


@dataclass(frozen=True)
class Collector:
    db: Database
    clock: Clock
    gateway: PaymentGateway
    links: Links = Links()

    def round(self, batch: int) -> int:
        """One round of the worker: open new collections, finish what crashes left, charge
        what is due. Returns how many invoices it worked on (a full batch: more to do)."""
        with self.db.transaction() as conn:
            opened = open_collections(conn, self.clock, limit=batch)
            closed = close_settled(conn, self.clock, limit=batch)
            expired = expire_confirmations(conn, self.clock, limit=batch, links=self.links)
        now = self.clock.now()
        with self.db.read() as conn:
            stale = repo.stale_attempts(conn, now, batch, gateway=self.gateway.name)
            waiting = repo.attempts_to_poll(conn, now, batch, gateway=self.gateway.name)
            due = repo.due_collections(conn, now, batch)
        for attempt in stale:
            self.reconcile(attempt)
        for attempt in waiting:
            self.poll(attempt)
        for collection in due:
            self.charge(collection.invoice_id)
        return max(opened, closed, expired, len(stale), len(waiting), len(due))

    def charge(self, invoice_id: int) -> Outcome | None:
        """Charge a due invoice once (steps 1-3 above); None if there was nothing to do."""
        with self.db.transaction() as conn:
            begun = _begin(conn, self.clock, self.gateway, invoice_id, self.links)
            if begun is None:
                return None
            attempt, customer, method, number = begun
        try:
            outcome = self._charge(attempt, customer, method, number)
        except GatewayError as exc:
            self._unreachable(attempt, exc)
            return None
        self.record(attempt.id, outcome)
        return outcome

    def _charge(
        self, attempt: AttemptRow, customer: str, method: MethodRow, number: str
    ) -> Outcome:
        """Step 2: the provider charges the card, once for the attempt's key."""
        return self.gateway.charge(
            customer_ref=customer,
            method_ref=method.method_ref,
            amount_minor=attempt.amount_minor,
            currency=attempt.currency,
            key=attempt.key,
            description=f"Invoice {number}",
            metadata={"invoice": number, "account": attempt.account_id},
        )

    def reconcile(self, attempt: AttemptRow) -> Outcome | None:
        """A pending attempt whose process died (or whose provider did not answer): asked
        again with its key, which never charges twice. If the invoice may no longer be
        charged (canceled, paid by hand, voided since), or the provider has kept refusing
        to answer, it is only looked up: a charge the provider never saw is withdrawn."""
        with self.db.transaction() as conn:
            get_account(conn, attempt.account_id, lock=True)
            if not repo.renew_lease(conn, attempt.id, self.clock.now() + LEASE):
                return None  # another round got to it
            chargeable = _chargeable(conn, attempt)
            customer = repo.customer_ref(conn, attempt.account_id, attempt.gateway)
            method = repo.get_method(conn, attempt.method_id)
            number = _invoice(conn, attempt.invoice_id).number or ""
        assert customer is not None
        try:
            if chargeable and attempt.calls < MAX_CALLS:
                outcome = self._charge(attempt, customer, method, number)
            else:
                found = self.gateway.find(customer_ref=customer, key=attempt.key)
                if found is None:
                    self._withdraw(attempt, chargeable=chargeable)
                    return None
                outcome = found
        except GatewayError as exc:
            self._unreachable(attempt, exc)
            return None
        self.record(attempt.id, outcome)
        return outcome

    def _withdraw(self, attempt: AttemptRow, *, chargeable: bool) -> None:
        """The provider never saw this attempt: withdrawn if the invoice may not be charged any
        more; a failure of the charge (retried on the schedule) if the provider kept refusing."""
        if chargeable:
            refused = Outcome(
                ChargeStatus.FAILED,
                decline_code="provider_refused",
                message=(attempt.message or "the provider refused the request")[:300],
            )
            self.record(attempt.id, refused)
            return
        with self.db.transaction() as conn:
            get_account(conn, attempt.account_id, lock=True)
            repo.finish_attempt(
                conn,
                attempt.id,
                state=AttemptState.CANCELED,
                lease_until=None,
                finished_at=self.clock.now(),
                message="withdrawn before the provider saw it: the invoice is no longer charged",
            )

    def poll(self, attempt: AttemptRow) -> Outcome | None:
        """Ask the provider how a payment waiting on the cardholder (or itself) stands. One
        its invoice no longer waits for (paid some other way, voided, credited, its
        subscription canceled) is withdrawn at the provider, so that the cardholder's
        confirming it later charges nothing."""
        with self.db.read() as conn:
            wanted = _still_waited_for(conn, attempt)
        outcome = None
        if attempt.provider_ref is not None:
            try:
                if not wanted and attempt.state == AttemptState.REQUIRES_ACTION:
                    outcome = self.gateway.withdraw(provider_ref=attempt.provider_ref)
                else:
                    outcome = self.gateway.payment(provider_ref=attempt.provider_ref)
            except GatewayError:
                outcome = None
        if outcome is None or outcome.status.value == attempt.state:
            with self.db.transaction() as conn:
                repo.set_poll(conn, attempt.id, self.clock.now() + POLL)
            return outcome
        self.record(attempt.id, outcome)
        return outcome

    def record(self, attempt_id: int, outcome: Outcome) -> None:
        """Step 3: the outcome, under the account's lock, with everything it sets off."""
        with self.db.transaction() as conn:
            attempt = repo.get_attempt(conn, attempt_id)
            get_account(conn, attempt.account_id, lock=True)
            settle(conn, self.clock, attempt_id, outcome, links=self.links)

    def _unreachable(self, attempt: AttemptRow, exc: GatewayError) -> None:
        """The provider did not answer: the attempt stays pending, to be asked again with its
        key once its lease runs out."""
        with self.db.transaction() as conn:
            repo.renew_lease(conn, attempt.id, self.clock.now() + LEASE)
            repo.note_attempt(conn, attempt.id, message=str(exc)[:300])


# --- step 0: which invoices are collected -------------------------------------------------
#
# The two statements below read invoices, accounts and collections together: two domains
# side by side (invoice | payment) whose only common layer is this one, so they live here.


def open_collections(
    conn: Connection, clock: Clock, *, limit: int, invoice_id: int | None = None
) -> int:
    """A collection for each finalized account invoice that has none yet (or for
    `invoice_id` alone): charged now on a card account, `external` on an account billed
    elsewhere (never charged)."""
    stmt = (
        sa.select(
            invoices.c.id,
            invoices.c.account_id,
            invoices.c.subscription_id,
            accounts.c.billing_channel,
        )
        .join(accounts, accounts.c.id == invoices.c.account_id)
        .where(
            invoices.c.state == "finalized",  # ix_invoices_open
            invoices.c.account_id.is_not(None),
            ~sa.exists().where(collections.c.invoice_id == invoices.c.id),
        )
        .order_by(invoices.c.id)
        .limit(limit)
    )
    if invoice_id is not None:
        stmt = stmt.where(invoices.c.id == invoice_id)
    rows = conn.execute(stmt).all()
    now = clock.now()
    for invoice_id, account_id, subscription_id, channel in rows:
        external = channel != "card"
        repo.insert_collection(
            conn,
            invoice_id=invoice_id,
            account_id=account_id,
            subscription_id=subscription_id,
            state=CollectionState.EXTERNAL if external else CollectionState.COLLECTING,
            next_try_at=None if external else now,
            created_at=now,
            updated_at=now,
        )
    return len(rows)


def close_settled(conn: Connection, clock: Clock, *, limit: int) -> int:
    """Collections whose invoice was settled some other way (paid by transfer, voided,
    written off, credited in full): paid ones clear the banner and undo the final rule like
    a card payment."""
    rows = conn.execute(
        sa.select(collections.c.invoice_id, invoices.c.state)
        .join(invoices, invoices.c.id == collections.c.invoice_id)
        .where(
            collections.c.state.in_([s.value for s in repo.OPEN_STATES]),
            invoices.c.state != "finalized",
        )
        .limit(limit)
    ).all()
    credited = conn.execute(
        sa.select(collections.c.invoice_id, invoices.c.state)
        .join(invoices, invoices.c.id == collections.c.invoice_id)
        .where(
            collections.c.state.in_([s.value for s in repo.OPEN_STATES]),
            invoices.c.state == "finalized",
            invoices.c.total_minor - invoices.c.credit_applied_minor
            <= invoice_repo.lowered_by_notes(),
        )
        .limit(limit)
    ).all()
    for invoice_id, state in [*rows, *credited]:
        collection = repo.get_collection(conn, invoice_id)
        assert collection is not None
        get_account(conn, collection.account_id, lock=True)
        if state == "paid":
            _paid(conn, clock, collection)
        else:  # voided, written off, or credited in full: nothing left to collect
            _close(conn, clock, collection, CollectionState.CLOSED)
    return len(rows) + len(credited)


# --- step 1 ---------------------------------------------------------------------------------


def _begin(
    conn: Connection, clock: Clock, gateway: PaymentGateway, invoice_id: int, links: Links
) -> tuple[AttemptRow, str, MethodRow, str] | None:
    """The attempt to make now, recorded, with the customer, the card and the invoice's
    number to charge it with; None when there is none to make."""
    now = clock.now()
    collection = repo.get_collection(conn, invoice_id)
    if collection is None:
        return None
    account = get_account(conn, collection.account_id, lock=True)
    collection = repo.get_collection(conn, invoice_id)  # as it is under the lock
    assert collection is not None
    due = collection.next_try_at is not None and collection.next_try_at <= now
    if collection.state != CollectionState.COLLECTING or not due:
        return None
    invoice = _invoice(conn, invoice_id)
    if _closed_instead(conn, clock, collection, invoice, account):
        return None
    if repo.open_attempt(conn, invoice_id) is not None:
        repo.update_collection(conn, invoice_id, next_try_at=None, updated_at=now)
        return None  # in flight: the provider answers it, or `poll` and `reconcile` ask
    method = repo.active_method(conn, account.id)
    customer = repo.customer_ref(conn, account.id, gateway.name)
    if method is None or customer is None or method.gateway != gateway.name:
        _failed(
            conn, clock, collection, invoice, decline_code="no_payment_method", hard=True,
            links=links,
        )  # fmt: skip
        return None
    tries = repo.count_attempts(conn, invoice_id)
    attempt = repo.insert_attempt(
        conn,
        invoice_id=invoice_id,
        account_id=account.id,
        method_id=method.id,
        gateway=gateway.name,
        key=f"allot-{invoice.number}-{tries + 1}",
        amount_minor=owed(conn, invoice),
        currency=invoice.currency,
        created_at=now,
        lease_until=now + LEASE,
    )
    return attempt, customer, method, invoice.number or ""


def _invoice(conn: Connection, invoice_id: int) -> InvoiceRow:
    """The invoice's header (its lines are not needed to collect it)."""
    found = invoice_repo.get(conn, invoice_id, lines=False)
    assert found is not None
    return found


def _chargeable(conn: Connection, attempt: AttemptRow) -> bool:
    """May this attempt's invoice still be charged (P4)? Its collection still collecting, the
    invoice still owed, the account still on the card channel, the subscription live (or
    stopped by the dunning, whose invoice the business may still pay)."""
    collection = repo.get_collection(conn, attempt.invoice_id)
    invoice = _invoice(conn, attempt.invoice_id)
    account = get_account(conn, attempt.account_id)
    if collection is None or collection.state != CollectionState.COLLECTING:
        return False
    sub = None if invoice.subscription_id is None else sub_repo.by_id(conn, invoice.subscription_id)
    return (
        invoice.state in ("finalized", "uncollectible")
        and owed(conn, invoice) > 0
        and account.billing_channel == "card"
        and not (sub is not None and sub.state == "canceled" and collection.final_rule is None)
    )


def _closed_instead(
    conn: Connection,
    clock: Clock,
    collection: CollectionRow,
    invoice: InvoiceRow,
    account: AccountRow,
) -> bool:
    """Close a collection that must not be charged: settled otherwise, nothing owed, billed
    elsewhere now, or its subscription canceled (P4: nothing is charged after a cancel)."""
    if invoice.state == "paid":
        _paid(conn, clock, collection)
        return True
    sub = None if invoice.subscription_id is None else sub_repo.by_id(conn, invoice.subscription_id)
    if (
        invoice.state != "finalized"
        or owed(conn, invoice) <= 0
        or account.billing_channel != "card"
        or (sub is not None and sub.state == "canceled" and collection.final_rule is None)
    ):
        _close(conn, clock, collection, CollectionState.CLOSED)
        return True
    return False


def _still_waited_for(conn: Connection, attempt: AttemptRow) -> bool:
    """Whether the invoice of a payment waiting on its cardholder still waits for it: not
    once it was settled some other way, nor past the time to confirm it (`confirm_by`)."""
    collection = repo.get_collection(conn, attempt.invoice_id)
    return collection is not None and collection.state == CollectionState.REQUIRES_ACTION


def _reacts(collection: CollectionRow, was: str) -> bool:
    """Whether a failure reported now sets off the dunning: not for an invoice settled some
    other way, nor for a payment that waited on its cardholder and is no longer waited for
    (withdrawn)."""
    if collection.state not in repo.OPEN_STATES:
        return False
    return was != AttemptState.REQUIRES_ACTION or (
        collection.state == CollectionState.REQUIRES_ACTION
    )


def expire_confirmations(
    conn: Connection, clock: Clock, *, limit: int, links: Links = Links()
) -> int:
    """Payments whose cardholder did not confirm them in time (`confirm_by`): the invoice is
    overdue — past_due, the business told as at a failure, and the final rule as after the
    last retry — and the payment is withdrawn at the provider in this round (P2). A new
    card, or paying, undoes it."""
    now = clock.now()
    due = repo.expired_confirmations(conn, now, limit)
    for collection in due:
        get_account(conn, collection.account_id, lock=True)
        fresh = repo.get_collection(conn, collection.invoice_id)
        if fresh is None or fresh.state != CollectionState.REQUIRES_ACTION:
            continue  # confirmed (or settled) meanwhile
        repo.update_collection(
            conn,
            fresh.invoice_id,
            state=CollectionState.EXHAUSTED,
            next_try_at=None,
            first_failed_at=fresh.first_failed_at or now,
            updated_at=now,
        )
        repo.poll_waiting_now(conn, fresh.invoice_id, now)
        invoice = _invoice(conn, fresh.invoice_id)
        _past_due(conn, clock, fresh)
        _tell_failed(conn, clock, invoice, "authentication_required", links)
        if fresh.final_rule is None:
            line = _line_of(conn, fresh)
            rule = line.final_rule if line is not None else FinalRule.KEEP
            _exhausted(conn, clock, fresh, invoice, rule)
    return len(due)


def owed(conn: Connection, invoice: InvoiceRow) -> int:
    """What is still owed (`allot.invoice.repository.owed_minor`)."""
    return invoice_repo.owed_minor(conn, invoice.id)


# --- step 3 ---------------------------------------------------------------------------------

_WAITING = (AttemptState.REQUIRES_ACTION, AttemptState.PROCESSING)


def settle(
    conn: Connection, clock: Clock, attempt_id: int, outcome: Outcome, *, links: Links
) -> bool:
    """Record what the provider said of an attempt and react; False if it was known already
    (a provider webhook and a round may both report it)."""
    now = clock.now()
    state = AttemptState(outcome.status.value)
    was = repo.get_attempt(conn, attempt_id).state
    if not repo.finish_attempt(
        conn,
        attempt_id,
        state=state,
        provider_ref=outcome.provider_ref,
        decline_code=outcome.decline_code,
        hard=outcome.hard,
        message=outcome.message[:300] or None,
        client_secret=outcome.client_secret,
        lease_until=now + POLL if state in _WAITING else None,  # when `poll` asks next
        finished_at=None if state in _WAITING else now,
    ):
        return False
    attempt = repo.get_attempt(conn, attempt_id)
    collection = repo.get_collection(conn, attempt.invoice_id)
    assert collection is not None
    invoice = _invoice(conn, attempt.invoice_id)
    if state is not AttemptState.SUCCEEDED and not _reacts(collection, was):
        return True  # a payment withdrawn (or failed) once its invoice stopped waiting for it
    if state is AttemptState.SUCCEEDED:
        _event(conn, clock, "payment.succeeded", attempt, invoice)
        _paid(conn, clock, collection, attempt, invoice)
    elif state is AttemptState.REQUIRES_ACTION:
        line = _line_of(conn, collection)
        repo.update_collection(
            conn,
            invoice.id,
            state=CollectionState.REQUIRES_ACTION,
            next_try_at=confirm_by(now, retry_days=line.retry_days if line else ()),
            updated_at=now,
        )
        _event(conn, clock, "payment.requires_action", attempt, invoice)
        _tell_action_required(conn, clock, attempt, invoice, links)
    elif state is AttemptState.PROCESSING:
        repo.update_collection(conn, invoice.id, next_try_at=None, updated_at=now)
    else:
        _event(conn, clock, "payment.failed", attempt, invoice)
        card = repo.active_method(conn, attempt.account_id)
        if card is not None and card.id != attempt.method_id:
            if collection.state == CollectionState.REQUIRES_ACTION:
                # the old card's payment the invoice waited on: try the new card now
                repo.update_collection(
                    conn, invoice.id, state=CollectionState.COLLECTING, next_try_at=now,
                    updated_at=now,
                )  # fmt: skip
            return True  # the old card's: the new one is tried as `card_changed` set it
        code = outcome.decline_code or "card_declined"
        _failed(conn, clock, collection, invoice, decline_code=code, hard=outcome.hard, links=links)
    return True


def _failed(
    conn: Connection,
    clock: Clock,
    collection: CollectionRow,
    invoice: InvoiceRow,
    *,
    decline_code: str,
    hard: bool,
    links: Links = Links(),
) -> None:
    """A failed charge (or no card to charge): past_due and the e-mail at the first failure,
    then the next try on the schedule, a wait for a new card, or the final rule."""
    now = clock.now()
    first = collection.first_failed_at or now
    tries = collection.tries + 1
    if collection.tries == 0:
        _past_due(conn, clock, collection)
        _tell_failed(conn, clock, invoice, decline_code, links)
    line = _line_of(conn, collection)
    retry_days = line.retry_days if line is not None else ()
    at = None if hard else next_try(first, failures=tries, retry_days=retry_days)
    state = CollectionState.WAITING_FOR_CARD if hard else CollectionState.COLLECTING
    if at is None and not hard:
        state = CollectionState.EXHAUSTED
    repo.update_collection(
        conn,
        invoice.id,
        state=state,
        tries=tries,
        first_failed_at=first,
        next_try_at=at,
        updated_at=now,
    )
    if state is CollectionState.EXHAUSTED and collection.final_rule is None:
        _exhausted(conn, clock, collection, invoice, line.final_rule if line else FinalRule.KEEP)


def _paid(
    conn: Connection,
    clock: Clock,
    collection: CollectionRow,
    attempt: AttemptRow | None = None,
    invoice: InvoiceRow | None = None,
) -> None:
    """The invoice is paid: its collection closes, the final rule is undone, and the
    subscription is active again once nothing else of it is overdue."""
    invoice = invoice or _invoice(conn, collection.invoice_id)
    open_ = invoice.state in ("finalized", "uncollectible")
    if attempt is not None and invoice.account_id is not None:
        # A charge that took more than is owed as it lands (a credit note was issued while
        # it was in flight, or the invoice was paid or voided some other way meanwhile):
        # the difference is the account's credit (P4), never lost.
        balance.overpaid(
            conn,
            clock,
            account_id=invoice.account_id,
            invoice_id=invoice.id,
            amount=attempt.amount_minor - (owed(conn, invoice) if open_ else 0),
        )
    if open_:
        note = "paid by card" if attempt is None else f"paid by card ({attempt.provider_ref})"
        invoice_service.mark_paid(conn, clock, invoice_id=invoice.id, note=note)
    now = clock.now()
    repo.update_collection(
        conn, invoice.id, state=CollectionState.PAID, next_try_at=None, updated_at=now
    )
    repo.poll_waiting_now(conn, invoice.id, now)  # another payment still waiting: withdrawn
    _undo_final_rule(conn, clock, collection)
    _back_in_good_standing(conn, clock, collection)


def _close(conn: Connection, clock: Clock, collection: CollectionRow, state: str) -> None:
    repo.update_collection(
        conn, collection.invoice_id, state=state, next_try_at=None, updated_at=clock.now()
    )
    repo.poll_waiting_now(conn, collection.invoice_id, clock.now())  # to be withdrawn
    _back_in_good_standing(conn, clock, collection)


# --- the subscription's standing ------------------------------------------------------------


def _line_of(conn: Connection, collection: CollectionRow) -> Any:
    sub = _subscription(conn, collection)
    return None if sub is None else catalog_repo.get_product_line(conn, sub.product_line)


def _subscription(conn: Connection, collection: CollectionRow) -> LiveSubscription | None:
    if collection.subscription_id is None:
        return None
    return sub_repo.by_id(conn, collection.subscription_id)


OVERDUE = (
    CollectionState.WAITING_FOR_CARD,
    CollectionState.REQUIRES_ACTION,
    CollectionState.EXHAUSTED,
)


def _past_due(conn: Connection, clock: Clock, collection: CollectionRow) -> None:
    sub = _subscription(conn, collection)
    if sub is None or sub.state != "active":
        return
    sub_repo.set_state(conn, sub.id, "past_due", at=clock.now())
    audit.record(
        conn, clock, change="subscription.past_due", subject_kind="subscription",
        subject_id=sub.id, account_id=sub.account_id, before=seen(sub),
        after=seen(sub_repo.by_id(conn, sub.id) or sub),
    )  # fmt: skip
    emit(
        conn,
        clock,
        type="subscription.past_due",
        account_id=sub.account_id,
        payload={
            "subscription_id": sub.id,
            "account_id": sub.account_id,
            "product_line": sub.product_line,
            "plan": sub.plan.code,
            "invoice_id": collection.invoice_id,
        },
    )


def _back_in_good_standing(conn: Connection, clock: Clock, collection: CollectionRow) -> None:
    """past_due → active once no collection of the subscription is overdue any more."""
    sub = _subscription(conn, collection)
    if sub is None or sub.state != "past_due":
        return
    overdue = [
        c
        for c in repo.open_collections(conn, sub.account_id)
        if c.subscription_id == sub.id
        and c.invoice_id != collection.invoice_id
        and (c.state in OVERDUE or c.tries > 0)
    ]
    if not overdue:
        sub_repo.set_state(conn, sub.id, "active", at=clock.now())
        announce(
            conn, clock, sub_repo.by_id(conn, sub.id) or sub, change="payment_recovered", before=sub
        )


def _exhausted(
    conn: Connection, clock: Clock, collection: CollectionRow, invoice: InvoiceRow, rule: FinalRule
) -> None:
    """Every retry failed: the product line's final rule (P2), remembered so that paying the
    invoice later undoes it."""
    sub = _subscription(conn, collection)
    restore: int | None = None
    if sub is not None and sub.state != "canceled":
        if rule is FinalRule.DOWNGRADE:
            restore = _downgrade(conn, clock, sub)
        elif rule is FinalRule.CANCEL:
            sub_repo.set_state(conn, sub.id, "canceled", at=clock.now())
            announce(
                conn, clock, sub_repo.by_id(conn, sub.id) or sub, change="canceled", before=sub
            )
    repo.update_collection(conn, invoice.id, final_rule=rule, restore_plan_id=restore)
    emit(
        conn,
        clock,
        type="dunning.exhausted",
        account_id=invoice.account_id,
        payload={
            "invoice_id": invoice.id,
            "number": invoice.number,
            "account_id": invoice.account_id,
            "subscription_id": invoice.subscription_id,
            "final_rule": rule.value,
            "amount_due": str(Money.from_minor(owed(conn, invoice), invoice.currency).amount),
        },
    )


def _downgrade(conn: Connection, clock: Clock, sub: LiveSubscription) -> int | None:
    """To the ladder's first plan (free) at once; the plan it leaves, to restore later."""
    line = catalog_repo.get_product_line(conn, sub.product_line)
    found = None if line is None else catalog_repo.latest_plan(conn, line.ladder[0])
    if found is None or found[0] == sub.plan_id:
        return None
    _move_plan(conn, clock, sub, found[0], direction="downgrade")
    return sub.plan_id


def _move_plan(
    conn: Connection, clock: Clock, sub: LiveSubscription, plan_id: int, *, direction: str
) -> None:
    """A plan change made by the dunning, in force at once and charged nothing: the invoice it
    follows from paid (or did not pay) the period already."""
    now = clock.now()
    account = get_account(conn, sub.account_id)
    for change in sub_repo.changes(conn, sub.id):
        if change.state == "scheduled":
            sub_repo.set_change_state(conn, change.id, "superseded")
    sub_repo.insert_change(
        conn,
        subscription_id=sub.id,
        account_id=sub.account_id,
        from_plan_id=sub.plan_id,
        to_plan_id=plan_id,
        direction=direction,
        requested_at=now,
        effective_on=now.astimezone(account.zones.at(now)).date(),
        state="applied",
    )
    sub_repo.set_plan(conn, sub.id, plan_id=plan_id, pending_plan_id=None)
    changed = sub_repo.by_id(conn, sub.id)
    assert changed is not None
    announce(conn, clock, changed, change=direction, before=sub)


def _undo_final_rule(conn: Connection, clock: Clock, collection: CollectionRow) -> None:
    """Paying after the final rule gives back what it took: the plan, or the subscription."""
    if collection.final_rule is None:
        return  # as it was read under the account's lock: no rule was applied since
    fresh = repo.get_collection(conn, collection.invoice_id)
    sub = _subscription(conn, collection)
    if fresh is None or fresh.final_rule is None or sub is None:
        return
    if fresh.final_rule == FinalRule.DOWNGRADE and fresh.restore_plan_id is not None:
        if sub.state != "canceled" and sub.plan_id != fresh.restore_plan_id:
            _move_plan(conn, clock, sub, fresh.restore_plan_id, direction="upgrade")
    elif fresh.final_rule == FinalRule.CANCEL and sub.state == "canceled":
        _resume(conn, clock, sub)
    repo.update_collection(conn, collection.invoice_id, restore_plan_id=None)


def _resume(conn: Connection, clock: Clock, sub: LiveSubscription) -> None:
    """A subscription the dunning canceled, live again — unless the line has another now."""
    if any(s.product_line == sub.product_line for s in sub_repo.live(conn, sub.account_id)):
        return
    account = get_account(conn, sub.account_id)
    now = clock.now()
    today = now.astimezone(account.zones.at(now)).date()
    months = calendar.resumed(sub.started_on, sub.billed_months, sub.plan.interval.months, today)
    next_on = calendar.billing_period(sub.started_on, months, sub.plan.interval.months)[0]
    sub_repo.resume(conn, sub.id, billed_months=months, next_bill_on=next_on)
    resumed = sub_repo.by_id(conn, sub.id)
    assert resumed is not None
    announce(conn, clock, resumed, change="resumed", before=sub)


# --- telling the business -------------------------------------------------------------------


def _event(
    conn: Connection, clock: Clock, type_: str, attempt: AttemptRow, invoice: InvoiceRow
) -> None:
    fresh = attempt
    emit(
        conn,
        clock,
        type=type_,
        account_id=invoice.account_id,
        payload={
            "payment_id": fresh.id,
            "invoice_id": invoice.id,
            "number": invoice.number,
            "account_id": invoice.account_id,
            "amount": str(Money.from_minor(fresh.amount_minor, fresh.currency).amount),
            "currency": fresh.currency,
            "state": fresh.state,
            "decline_code": fresh.decline_code,
            "hard": fresh.hard,
        },
    )


def _tell(
    conn: Connection,
    clock: Clock,
    account_id: str,
    kind: EmailKind,
    letter: Callable[[AccountRow, str], Letter],
) -> None:
    """An e-mail to the account's billing address, if it gave one (A1), in its language."""
    account = get_account(conn, account_id)
    to = account.details.email
    if to is None:
        return
    lang = language(account.locale)
    queue_email(conn, clock, kind=kind, to=to, letter=letter(account, lang), account_id=account_id)


# Why a card was declined, as the e-mail says it (the provider's decline codes).
DECLINES = {
    "card_declined": N_("the card was declined"),
    "insufficient_funds": N_("the card has insufficient funds"),
    "processing_error": N_("the card could not be processed"),
    "lost_card": N_("the card was reported lost"),
    "stolen_card": N_("the card was reported stolen"),
    "expired_card": N_("the card has expired"),
    "authentication_required": N_("the payment was not confirmed with the bank in time"),
    "authentication_failed": N_("the payment was not confirmed with the bank"),
}


def _tell_failed(
    conn: Connection, clock: Clock, invoice: InvoiceRow, decline_code: str, links: Links
) -> None:
    assert invoice.account_id is not None
    owes = owed(conn, invoice)

    def letter(account: AccountRow, lang: str) -> Letter:
        _ = gettext(lang)
        reason = DECLINES.get(decline_code)
        return compose(
            "payment_failed", lang, name=account.name, number=invoice.number,
            amount=format_money(owes, invoice.currency, lang),
            decline=None if decline_code == "no_payment_method" else (
                _(reason) if reason else _("the card was declined (%(code)s)", code=decline_code)
            ),
            url=links.payment_method.format(account=invoice.account_id),
        )  # fmt: skip

    _tell(conn, clock, invoice.account_id, EmailKind.PAYMENT_FAILED, letter)


def _tell_action_required(
    conn: Connection, clock: Clock, attempt: AttemptRow, invoice: InvoiceRow, links: Links
) -> None:
    assert invoice.account_id is not None
    url = links.payment_action.format(account=invoice.account_id, payment=attempt.id)

    def letter(account: AccountRow, lang: str) -> Letter:
        return compose(
            "payment_action", lang, name=account.name, number=invoice.number,
            amount=format_money(attempt.amount_minor, attempt.currency, lang), url=url,
        )  # fmt: skip

    _tell(conn, clock, invoice.account_id, EmailKind.PAYMENT_ACTION, letter)


# --- a new card -----------------------------------------------------------------------------


def card_changed(conn: Connection, clock: Clock, *, account_id: str) -> int:
    """Every open invoice of the account is tried again in the next round (P2, P4: a hard
    decline waits for exactly this), its schedule started afresh. A payment waiting for the
    cardholder's confirmation keeps waiting: its link still pays it."""
    now = clock.now()
    retried = 0
    for c in repo.open_collections(
        conn,
        account_id,
        (CollectionState.COLLECTING, CollectionState.WAITING_FOR_CARD, CollectionState.EXHAUSTED),
    ):
        repo.update_collection(
            conn,
            c.invoice_id,
            state=CollectionState.COLLECTING,
            tries=0,
            first_failed_at=None,
            next_try_at=now,
            updated_at=now,
        )
        retried += 1
    return retried


def stop_collecting(conn: Connection, clock: Clock, *, subscription_id: int) -> None:
    """A subscription canceled by its business or the operator: none of its invoices is
    charged after this (P4); they stay open for the operator to settle."""
    for c in repo.open_collections_of_subscription(conn, subscription_id):
        repo.update_collection(
            conn, c, state=CollectionState.CLOSED, next_try_at=None, updated_at=clock.now()
        )
        repo.poll_waiting_now(conn, c, clock.now())  # a payment waiting on its cardholder
