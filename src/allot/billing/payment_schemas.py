"""Cards, payments and the billing status on the wire (money: exact decimal strings)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from allot.billing.payments import BillingStatus
from allot.core.money import Money
from allot.payment.repository import AttemptRow, MethodRow, RefundRow

_STRICT = ConfigDict(extra="forbid")


class CardSetupRead(BaseModel):
    gateway: str = Field(description="sandbox or stripe")
    setup_ref: str = Field(description="The provider's setup (a Stripe SetupIntent's id).")
    client_secret: str = Field(description="What Stripe.js confirms the setup with.")


class CardSave(BaseModel):
    model_config = _STRICT
    setup_ref: str = Field(max_length=255, description="The confirmed setup's `setup_ref`.")


class SandboxCard(BaseModel):
    """A sandbox test card, entered at the sandbox's side (its number is not kept)."""

    model_config = _STRICT
    number: str = Field(max_length=23, examples=["4242 4242 4242 4242"])
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2099)


class CardRead(BaseModel):
    id: int
    gateway: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    created_at: datetime


class PaymentRead(BaseModel):
    id: int
    invoice_id: int
    state: str = Field(description="pending, succeeded, failed, requires_action, processing")
    amount: str
    currency: str
    decline_code: str | None
    hard: bool = Field(description="A hard decline: not retried until the card changes.")
    message: str | None
    created_at: datetime
    finished_at: datetime | None


class CollectionRead(BaseModel):
    invoice_id: int
    state: str
    next_try_at: datetime | None


class RefundRead(BaseModel):
    credit_note: str
    payment_id: int
    amount: str
    currency: str
    state: str = Field(description="pending (the provider is asked again), succeeded, failed")
    provider_ref: str | None
    created_at: datetime
    finished_at: datetime | None


class SandboxConfirm(BaseModel):
    model_config = _STRICT
    success: bool = Field(True, description="The cardholder passes (or fails) authentication.")


class MoneyRead(BaseModel):
    amount: str
    currency: str


class OpenInvoiceRead(BaseModel):
    invoice_id: int
    number: str
    amount_due: str
    currency: str
    state: str = Field(
        description="collecting, waiting_for_card (a hard decline or no card), "
        "requires_action, exhausted (every retry failed: the final rule applied)"
    )
    tries: int = Field(description="Charges that failed since the schedule (re)started.")
    next_try_at: datetime | None
    confirm_by: datetime | None = Field(
        description="requires_action: until when the payment waits for the cardholder; past "
        "it the payment is withdrawn and the final rule applies."
    )
    decline_code: str | None


class ActionRead(BaseModel):
    kind: str = Field(description="update_payment_method or confirm_payment")
    url: str = Field(description="The platform's page for it (ALLOT_PAYMENT_*_LINK).")
    payment_id: int | None = None
    client_secret: str | None = Field(None, description="Stripe.js confirms the payment with it.")


class BillingStatusRead(BaseModel):
    """The billing page's banner (P2): what is past due, the next retry, what to do."""

    account_id: str
    state: str = Field(description="ok, past_due or action_required")
    past_due: list[MoneyRead]
    invoices: list[OpenInvoiceRead]
    next_retry_at: datetime | None
    action: ActionRead | None
    card: CardRead | None


def money_read(m: Money) -> MoneyRead:
    return MoneyRead(amount=str(m.amount), currency=m.currency)


def card_read(m: MethodRow) -> CardRead:
    return CardRead(
        id=m.id, gateway=m.gateway, brand=m.brand, last4=m.last4, exp_month=m.exp_month,
        exp_year=m.exp_year, created_at=m.created_at,
    )  # fmt: skip


def payment_read(a: AttemptRow) -> PaymentRead:
    return PaymentRead(
        id=a.id,
        invoice_id=a.invoice_id,
        state=a.state,
        amount=str(Money.from_minor(a.amount_minor, a.currency).amount),
        currency=a.currency,
        decline_code=a.decline_code,
        hard=a.hard,
        message=a.message,
        created_at=a.created_at,
        finished_at=a.finished_at,
    )


def status_read(s: BillingStatus) -> BillingStatusRead:
    return BillingStatusRead(
        account_id=s.account_id,
        state=s.state,
        past_due=[money_read(m) for m in s.past_due],
        invoices=[
            OpenInvoiceRead(
                invoice_id=i.invoice_id,
                number=i.number,
                amount_due=str(Money.from_minor(i.owed_minor, i.currency).amount),
                currency=i.currency,
                state=i.state,
                tries=i.tries,
                next_try_at=i.next_try_at,
                confirm_by=i.confirm_by,
                decline_code=i.decline_code,
            )
            for i in s.invoices
        ],
        next_retry_at=s.next_retry_at,
        action=None
        if s.action is None
        else ActionRead(
            kind=s.action.kind,
            url=s.action.url,
            payment_id=s.action.payment_id,
            client_secret=s.action.client_secret,
        ),
        card=None if s.card is None else card_read(s.card),
    )


def refund_read(r: RefundRow, number: str, currency: str) -> RefundRead:
    return RefundRead(
        credit_note=number,
        payment_id=r.attempt_id,
        amount=str(Money.from_minor(r.amount_minor, currency).amount),
        currency=currency,
        state=r.state,
        provider_ref=r.provider_ref,
        created_at=r.created_at,
        finished_at=r.finished_at,
    )
