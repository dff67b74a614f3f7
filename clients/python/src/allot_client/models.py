"""The API's request and response models, generated from `clients/python/openapi.json`.

Do not edit: run `make client` after a change to the API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
)
from typing_extensions import TypeAliasType


class AccountCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Annotated[str, Field(max_length=64, title="Id")]
    """
    The platform's own id for the business.
    """
    name: Annotated[str, Field(max_length=200, title="Name")]
    timezone: Annotated[str, Field(examples=["Europe/Kyiv"], max_length=64, title="Timezone")]
    currency: Annotated[str, Field(examples=["EUR"], max_length=3, title="Currency")]
    locale: Annotated[str | None, Field(max_length=16, title="Locale")] = "en"
    billing_channel: Annotated[str | None, Field(max_length=16, title="Billing Channel")] = "card"
    """
    card or external
    """
    tax_rate: Annotated[float | str | None, Field(title="Tax Rate")] = "0"
    """
    0.20 = 20 %, on every line.
    """
    billing_details: BillingDetailsBody | None = None
    referral_code: Annotated[
        Annotated[str, StringConstraints(max_length=40)] | None,
        Field(title="Referral Code"),
    ] = None
    """
    The code of the referral link the business signed up through (A4).
    """


class AccountPage(BaseModel):
    data: Annotated[list[AccountRead], Field(title="Data")]
    next_after: Annotated[str | None, Field(title="Next After")] = None
    """
    Pass as `after` for the next page.
    """


class AccountRead(BaseModel):
    id: Annotated[str, Field(title="Id")]
    name: Annotated[str, Field(title="Name")]
    timezone: Annotated[str, Field(title="Timezone")]
    """
    The account's time zone (from `timezone_since`, if set).
    """
    timezone_before: Annotated[str | None, Field(title="Timezone Before")] = None
    """
    A5: the zone that dates usage before `timezone_since`.
    """
    timezone_since: Annotated[AwareDatetime | None, Field(title="Timezone Since")] = None
    """
    A5: when the latest time zone change took (or takes) effect: the start of the month after it was asked for.
    """
    currency: Annotated[str, Field(title="Currency")]
    locale: Annotated[str, Field(title="Locale")]
    billing_channel: Annotated[str, Field(title="Billing Channel")]
    tax_rate: Annotated[str, Field(title="Tax Rate")]
    """
    A fraction: 0.2 = 20 %.
    """
    billing_details: BillingDetailsBody
    credit_balance: Annotated[str, Field(title="Credit Balance")]
    """
    P4: money paid and given back as credit, taken off the next invoices (`GET /v1/accounts/{id}/credit-balance` lists its moves).
    """
    created_at: Annotated[AwareDatetime, Field(title="Created At")]


class AccountUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[
        Annotated[str, StringConstraints(max_length=200)] | None, Field(title="Name")
    ] = None
    timezone: Annotated[
        Annotated[str, StringConstraints(max_length=64)] | None, Field(title="Timezone")
    ] = None
    locale: Annotated[
        Annotated[str, StringConstraints(max_length=16)] | None, Field(title="Locale")
    ] = None
    billing_channel: Annotated[
        Annotated[str, StringConstraints(max_length=16)] | None,
        Field(title="Billing Channel"),
    ] = None
    tax_rate: Annotated[float | str | None, Field(title="Tax Rate")] = None
    """
    From the next document on.
    """
    billing_details: BillingDetailsBody | None = None
    """
    Replaces the details whole (`{}` clears them), from the next document.
    """


class AckRead(BaseModel):
    acknowledged: Annotated[int, Field(title="Acknowledged")]
    not_acknowledged: Annotated[dict[str, str | None], Field(title="Not Acknowledged")]
    """
    Ids not to send, with their state (waiting, archived, sent, unknown).
    """


class AckWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    order_ids: Annotated[list[str], Field(max_length=10000, min_length=1, title="Order Ids")]


class ActionRead(BaseModel):
    kind: Annotated[str, Field(title="Kind")]
    """
    update_payment_method or confirm_payment
    """
    url: Annotated[str, Field(title="Url")]
    """
    The platform's page for it (ALLOT_PAYMENT_*_LINK).
    """
    payment_id: Annotated[int | None, Field(title="Payment Id")] = None
    client_secret: Annotated[str | None, Field(title="Client Secret")] = None
    """
    Stripe.js confirms the payment with it.
    """


class ActivationEmail(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    to: Annotated[str, Field(examples=["owner@corner-coffee.example"], max_length=320, title="To")]
    note: Annotated[
        Annotated[str, StringConstraints(max_length=1000)] | None, Field(title="Note")
    ] = None
    """
    A line from the partner, added to the message.
    """
    lang: Annotated[Literal["en", "ko", "th", "hi", "uk"] | None, Field(title="Lang")] = "en"
    """
    The language the business reads the e-mail in.
    """


AddAdditionalProperty = TypeAliasType(
    "AddAdditionalProperty", Annotated[int, Field(ge=-1000000000, le=1000000000)]
)


class AddressBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    line1: Annotated[str, Field(examples=["Khreshchatyk 1"], max_length=200, title="Line1")]
    line2: Annotated[
        Annotated[str, StringConstraints(max_length=200)] | None, Field(title="Line2")
    ] = None
    city: Annotated[str, Field(examples=["Kyiv"], max_length=200, title="City")]
    region: Annotated[
        Annotated[str, StringConstraints(max_length=200)] | None, Field(title="Region")
    ] = None
    postal_code: Annotated[
        Annotated[str, StringConstraints(max_length=20)] | None,
        Field(examples=["01001"], title="Postal Code"),
    ] = None
    country: Annotated[str, Field(examples=["UA"], max_length=2, title="Country")]
    """
    ISO 3166-1 alpha-2
    """


class AdviceOptionRead(BaseModel):
    plan: Annotated[str, Field(title="Plan")]
    plan_name: Annotated[str, Field(title="Plan Name")]
    current: Annotated[bool, Field(title="Current")]
    policy: Annotated[str | None, Field(title="Policy")]
    """
    Past the allowance; none: no terms for the metric.
    """
    included: Annotated[int, Field(title="Included")]
    units_over: Annotated[int, Field(title="Units Over")]
    plan_cost: Annotated[str | None, Field(title="Plan Cost")]
    """
    One month of the plan; none: by agreement.
    """
    over_charge: Annotated[str, Field(title="Over Charge")]
    """
    What the units over cost on this plan.
    """
    cost: Annotated[str | None, Field(title="Cost")]
    """
    plan_cost + over_charge; none: cannot be priced.
    """


AllowancesAdditionalProperty = TypeAliasType(
    "AllowancesAdditionalProperty", Annotated[int, Field(ge=1, le=1000000000)]
)


class Amount(RootModel[float]):
    root: Annotated[float, Field(gt=0.0, title="Amount")]
    """
    How much of the line to take back, before tax.
    """


class AttemptRead(BaseModel):
    at: Annotated[AwareDatetime, Field(title="At")]
    status_code: Annotated[int | None, Field(title="Status Code")]
    """
    None when no HTTP answer came back.
    """
    error: Annotated[str | None, Field(title="Error")]
    duration_ms: Annotated[int, Field(title="Duration Ms")]


class AuditEventRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    at: Annotated[AwareDatetime, Field(title="At")]
    actor_kind: Annotated[str, Field(title="Actor Kind")]
    """
    api_key, user, portal, cli or system
    """
    actor_id: Annotated[str, Field(title="Actor Id")]
    """
    The key's id, the user's name, the account, …
    """
    actor_role: Annotated[str, Field(title="Actor Role")]
    acting_for: Annotated[str | None, Field(title="Acting For")]
    """
    The partner or account the actor acts for.
    """
    change: Annotated[str, Field(examples=["code.paused"], title="Change")]
    subject_kind: Annotated[str, Field(examples=["code"], title="Subject Kind")]
    subject_id: Annotated[str, Field(examples=["agency-1/3"], title="Subject Id")]
    account_id: Annotated[str | None, Field(title="Account Id")]
    partner_id: Annotated[str | None, Field(title="Partner Id")]
    before: Annotated[dict[str, Any] | None, Field(title="Before")]
    """
    None: it did not exist before.
    """
    after: Annotated[dict[str, Any] | None, Field(title="After")]
    """
    None: it no longer exists.
    """


class AuditPage(BaseModel):
    data: Annotated[list[AuditEventRead], Field(title="Data")]
    next_before: Annotated[int | None, Field(title="Next Before")] = None
    """
    Pass as `before` for the next page.
    """


class BalanceEntryRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    move: Annotated[
        Literal[
            "credit_note",
            "overpayment",
            "applied",
            "unapplied",
            "refunded",
            "refund_failed",
        ],
        Field(title="Move"),
    ]
    """
    credit_note: a credit note's paid part kept as credit; overpayment: a charge that took more than was owed when it landed; applied: taken off an invoice; unapplied: that invoice voided, the credit back; refunded: a credit note's credit refunded to the card after all; refund_failed: the provider refused that refund, and the money is credit again.
    """
    amount: Annotated[str, Field(title="Amount")]
    """
    Signed: positive in, negative out.
    """
    credit_note: Annotated[str | None, Field(title="Credit Note")]
    invoice: Annotated[str | None, Field(title="Invoice")]
    at: Annotated[AwareDatetime, Field(title="At")]


class BatchAction(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    metric: Annotated[str, Field(examples=["card_operations"], max_length=64, title="Metric")]
    quantity: Annotated[int | None, Field(ge=1, le=1000000, title="Quantity")] = 1
    occurred_at: Annotated[AwareDatetime | None, Field(title="Occurred At")] = None
    """
    When it happened (decides the month); default now.
    """
    idempotency_key: Annotated[str, Field(max_length=255, min_length=1, title="Idempotency Key")]


class BatchProblem(BaseModel):
    status: Annotated[int, Field(title="Status")]
    code: Annotated[str, Field(title="Code")]
    detail: Annotated[str, Field(title="Detail")]
    errors: Annotated[list[dict[str, str]] | None, Field(title="Errors")] = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    actions: Annotated[list[BatchAction], Field(max_length=1000, min_length=1, title="Actions")]


class BatchResponse(BaseModel):
    results: Annotated[list[BatchResult], Field(title="Results")]


class BatchResult(BaseModel):
    idempotency_key: Annotated[str, Field(title="Idempotency Key")]
    decision: Decision | None = None
    problem: BatchProblem | None = None


class BillingDetailsBody(BaseModel):
    """
    A1: whom the invoices are addressed to (each is copied onto an invoice as it is
    finalized, B8). `email` receives failed-payment notices and usage alerts.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    legal_name: Annotated[
        Annotated[str, StringConstraints(max_length=200)] | None,
        Field(examples=["Kavarnia LLC"], title="Legal Name"),
    ] = None
    email: Annotated[
        Annotated[str, StringConstraints(max_length=320)] | None,
        Field(examples=["billing@kavarnia.example"], title="Email"),
    ] = None
    tax_id: Annotated[
        Annotated[str, StringConstraints(max_length=40)] | None,
        Field(examples=["UA1234567890"], title="Tax Id"),
    ] = None
    address: AddressBody | None = None


class BillingRunRead(BaseModel):
    as_of: Annotated[AwareDatetime, Field(title="As Of")]
    accounts: Annotated[int, Field(title="Accounts")]
    """
    Accounts that had something due.
    """
    issued: Annotated[int, Field(title="Issued")]
    counts: Annotated[dict[str, int], Field(title="Counts")]
    """
    Invoices issued per kind.
    """
    invoices: Annotated[list[str], Field(title="Invoices")]
    """
    Their numbers, in the order issued.
    """


class BillingStatusRead(BaseModel):
    """
    The billing page's banner (P2): what is past due, the next retry, what to do.
    """

    account_id: Annotated[str, Field(title="Account Id")]
    state: Annotated[str, Field(title="State")]
    """
    ok, past_due or action_required
    """
    past_due: Annotated[list[MoneyRead], Field(title="Past Due")]
    invoices: Annotated[list[OpenInvoiceRead], Field(title="Invoices")]
    next_retry_at: Annotated[AwareDatetime | None, Field(title="Next Retry At")]
    action: ActionRead | None
    card: CardRead | None


class CardRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    gateway: Annotated[str, Field(title="Gateway")]
    brand: Annotated[str, Field(title="Brand")]
    last4: Annotated[str, Field(title="Last4")]
    exp_month: Annotated[int, Field(title="Exp Month")]
    exp_year: Annotated[int, Field(title="Exp Year")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]


class CardSave(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    setup_ref: Annotated[str, Field(max_length=255, title="Setup Ref")]
    """
    The confirmed setup's `setup_ref`.
    """


class CardSetupRead(BaseModel):
    gateway: Annotated[str, Field(title="Gateway")]
    """
    sandbox or stripe
    """
    setup_ref: Annotated[str, Field(title="Setup Ref")]
    """
    The provider's setup (a Stripe SetupIntent's id).
    """
    client_secret: Annotated[str, Field(title="Client Secret")]
    """
    What Stripe.js confirms the setup with.
    """


class CatalogLoad(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    name: Annotated[str | None, Field(max_length=200, title="Name")] = "catalog.yaml"
    """
    Shown in error messages.
    """
    yaml: Annotated[str, Field(max_length=1000000, title="Yaml")]
    """
    The catalog file's text.
    """


class ClaimedRead(BaseModel):
    """
    What a business sees after claiming: the code's number and package, not its owner's.
    """

    label: Annotated[str, Field(title="Label")]
    allowances: Annotated[dict[str, int], Field(title="Allowances")]
    ends_at: Annotated[AwareDatetime | None, Field(title="Ends At")]


class ClockAdvance(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    months: Annotated[int | None, Field(ge=0, le=1200, title="Months")] = 0
    days: Annotated[int | None, Field(ge=0, le=36600, title="Days")] = 0
    hours: Annotated[int | None, Field(ge=0, le=876000, title="Hours")] = 0


class ClockRead(BaseModel):
    now: Annotated[AwareDatetime, Field(title="Now")]
    """
    The instant this API reads as now.
    """
    simulated: Annotated[bool, Field(title="Simulated")]
    """
    True while the database's clock is set.
    """
    stored: Annotated[AwareDatetime | None, Field(title="Stored")]
    """
    The database's clock; none: real time.
    """


class ClockSet(BaseModel):
    """
    Set the clock to `now`, or move it forward by `advance`: exactly one of the two.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    now: Annotated[AwareDatetime | None, Field(title="Now")] = None
    advance: Annotated[ClockAdvance | None, Field(examples=[{"days": 7, "months": 1}])] = None


class CodeAssign(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    account_id: Annotated[str, Field(max_length=64, title="Account Id")]


class CodeClaim(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    code: Annotated[str, Field(examples=["7K2M-9QXD-4HRT-PV0C-8"], max_length=64, title="Code")]


class CodeIssue(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    allowances: Annotated[
        dict[str, AllowancesAdditionalProperty],
        Field(examples=[{"card_operations": 18, "staff_seats": 36}], title="Allowances"),
    ]
    """
    The package: monthly allowance per metric.
    """
    starts_at: Annotated[AwareDatetime | None, Field(title="Starts At")] = None
    ends_at: Annotated[AwareDatetime | None, Field(title="Ends At")] = None
    """
    Fixed-term end; none: lifetime.
    """


class CodeMonthRead(BaseModel):
    number: Annotated[int, Field(title="Number")]
    label: Annotated[str, Field(title="Label")]
    account_id: Annotated[str | None, Field(title="Account Id")]
    billed: Annotated[bool, Field(title="Billed")]
    resources: Annotated[list[ResourceMonthRead], Field(title="Resources")]


class CodeRead(BaseModel):
    number: Annotated[int, Field(title="Number")]
    label: Annotated[str, Field(title="Label")]
    code: Annotated[str, Field(title="Code")]
    state: Annotated[str, Field(title="State")]
    """
    issued, claimed, paused, ended or revoked
    """
    account_id: Annotated[str | None, Field(title="Account Id")]
    allowances: Annotated[dict[str, int], Field(title="Allowances")]
    issued_at: Annotated[AwareDatetime, Field(title="Issued At")]
    claimed_at: Annotated[AwareDatetime | None, Field(title="Claimed At")]
    starts_at: Annotated[AwareDatetime | None, Field(title="Starts At")]
    ends_at: Annotated[AwareDatetime | None, Field(title="Ends At")]


class CollectionRead(BaseModel):
    invoice_id: Annotated[int, Field(title="Invoice Id")]
    state: Annotated[str, Field(title="State")]
    next_try_at: Annotated[AwareDatetime | None, Field(title="Next Try At")]


class ConsumeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    metric: Annotated[str, Field(examples=["card_operations"], max_length=64, title="Metric")]
    quantity: Annotated[int | None, Field(ge=1, le=1000000, title="Quantity")] = 1
    occurred_at: Annotated[AwareDatetime | None, Field(title="Occurred At")] = None
    """
    When it happened (decides the month); default now.
    """


class CreditBalanceRead(BaseModel):
    account_id: Annotated[str, Field(title="Account Id")]
    currency: Annotated[str, Field(title="Currency")]
    balance: Annotated[str, Field(title="Balance")]
    """
    Taken off the next invoices' totals, tax included.
    """
    entries: Annotated[list[BalanceEntryRead], Field(title="Entries")]
    next_after: Annotated[int | None, Field(title="Next After")] = None
    """
    Pass as `after` for the next (older) page.
    """


class CreditLine(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    position: Annotated[int, Field(ge=0, le=100000, title="Position")]
    """
    The invoice line (0 = the first).
    """
    amount: Annotated[Amount | str, Field(title="Amount")]
    """
    How much of the line to take back, before tax.
    """


class CreditNoteCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    reason: Annotated[
        str,
        Field(
            examples=["goodwill: outage on 3 May"],
            max_length=200,
            min_length=1,
            title="Reason",
        ),
    ]
    lines: Annotated[Lines | None, Field(title="Lines")] = None
    """
    Omit to take back all that is left.
    """
    settle: Annotated[Literal["refund", "balance"] | None, Field(title="Settle")] = None
    """
    For what gives back money paid (a note on a paid invoice): refund it to the card that paid, or keep it as the account's credit for its next invoices (the default).
    """


class CreditNoteLineRead(BaseModel):
    position: Annotated[int, Field(title="Position")]
    """
    The invoice line it takes back from.
    """
    amount: Annotated[str, Field(title="Amount")]


class CreditNoteRead(BaseModel):
    number: Annotated[str, Field(title="Number")]
    """
    CN-2026-000001: gap-free per year.
    """
    invoice_id: Annotated[int, Field(title="Invoice Id")]
    issued_on: Annotated[date, Field(title="Issued On")]
    reason: Annotated[str, Field(title="Reason")]
    subtotal: Annotated[str, Field(title="Subtotal")]
    tax: Annotated[str, Field(title="Tax")]
    total: Annotated[str, Field(title="Total")]
    taxes: Annotated[list[TaxRead], Field(title="Taxes")]
    lines: Annotated[list[CreditNoteLineRead], Field(title="Lines")]
    settled_as: Annotated[Literal["refund", "balance"] | None, Field(title="Settled As")]
    """
    What became of the part that gave back money paid: refunded to the card, or kept as the account's credit balance; null when it only lowered what the invoice asked for (or on a partner's invoice).
    """
    settled: Annotated[str, Field(title="Settled")]
    """
    That part: money paid given back (tax included).
    """


class Decision(BaseModel):
    """
    May this happen, and who pays for it.
    """

    event_id: Annotated[int, Field(title="Event Id")]
    account_id: Annotated[str, Field(title="Account Id")]
    action: Annotated[str, Field(title="Action")]
    metric: Annotated[str, Field(title="Metric")]
    quantity: Annotated[int, Field(title="Quantity")]
    period: Annotated[str, Field(title="Period")]
    occurred_at: Annotated[AwareDatetime, Field(title="Occurred At")]
    allowed: Annotated[bool, Field(title="Allowed")]
    outcome: Annotated[str, Field(title="Outcome")]
    reason: Annotated[str, Field(title="Reason")]
    draws: Annotated[list[DrawRead], Field(title="Draws")]
    prompt: Annotated[list[str], Field(title="Prompt")]
    """
    On a free plan past its limits: the choices to offer.
    """
    replayed: Annotated[bool, Field(title="Replayed")]
    holder: Annotated[str | None, Field(title="Holder")] = None


class DeliveryDetail(BaseModel):
    id: Annotated[int, Field(title="Id")]
    event_id: Annotated[int, Field(title="Event Id")]
    event_type: Annotated[str, Field(title="Event Type")]
    account_id: Annotated[str | None, Field(title="Account Id")]
    endpoint_id: Annotated[int, Field(title="Endpoint Id")]
    state: Annotated[str, Field(title="State")]
    """
    pending, delivered or failed
    """
    attempts: Annotated[int, Field(title="Attempts")]
    """
    Attempts since it was (re)scheduled.
    """
    next_attempt_at: Annotated[AwareDatetime | None, Field(title="Next Attempt At")]
    last_status_code: Annotated[int | None, Field(title="Last Status Code")]
    last_error: Annotated[str | None, Field(title="Last Error")]
    delivered_at: Annotated[AwareDatetime | None, Field(title="Delivered At")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    log: Annotated[list[AttemptRead], Field(title="Log")]


class DeliveryPage(BaseModel):
    data: Annotated[list[DeliveryRead], Field(title="Data")]
    next_before: Annotated[int | None, Field(title="Next Before")] = None
    """
    Pass as `before` for the next page.
    """


class DeliveryRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    event_id: Annotated[int, Field(title="Event Id")]
    event_type: Annotated[str, Field(title="Event Type")]
    account_id: Annotated[str | None, Field(title="Account Id")]
    endpoint_id: Annotated[int, Field(title="Endpoint Id")]
    state: Annotated[str, Field(title="State")]
    """
    pending, delivered or failed
    """
    attempts: Annotated[int, Field(title="Attempts")]
    """
    Attempts since it was (re)scheduled.
    """
    next_attempt_at: Annotated[AwareDatetime | None, Field(title="Next Attempt At")]
    last_status_code: Annotated[int | None, Field(title="Last Status Code")]
    last_error: Annotated[str | None, Field(title="Last Error")]
    delivered_at: Annotated[AwareDatetime | None, Field(title="Delivered At")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]


class DrawRead(BaseModel):
    source: Annotated[str, Field(title="Source")]
    """
    grant:N, plan:N, overage, free_overage, top_up or backlog
    """
    kind: Annotated[
        Literal["grant", "plan", "overage", "free_overage", "top_up", "backlog"],
        Field(title="SourceKind"),
    ]
    """
    Who paid: grant (an Access Code), plan (its allowance), overage (billed), free_overage (recorded past a free plan), top_up (Reviews: paid by the top-up limit) or backlog (Reviews: past the limit and any top-up).
    """
    quantity: Annotated[int, Field(title="Quantity")]


class EmailRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    to: Annotated[str, Field(title="To")]
    subject: Annotated[str, Field(title="Subject")]
    state: Annotated[str, Field(title="State")]
    """
    pending, sent or failed
    """
    attempts: Annotated[int, Field(title="Attempts")]
    next_attempt_at: Annotated[AwareDatetime | None, Field(title="Next Attempt At")]
    last_error: Annotated[str | None, Field(title="Last Error")]
    sent_at: Annotated[AwareDatetime | None, Field(title="Sent At")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    url: Annotated[
        str,
        Field(
            examples=["https://platform.example/hooks/allot"],
            max_length=2000,
            title="Url",
        ),
    ]
    event_types: Annotated[
        list[str],
        Field(
            examples=[["usage.threshold_reached"]],
            max_length=32,
            min_length=1,
            title="Event Types",
        ),
    ]
    secret: Annotated[
        Annotated[str, StringConstraints(max_length=100)] | None, Field(title="Secret")
    ] = None
    """
    A Standard Webhooks secret `whsec_…`; generated when left out.
    """
    description: Annotated[str | None, Field(max_length=200, title="Description")] = ""


class EndpointCreated(BaseModel):
    id: Annotated[int, Field(title="Id")]
    url: Annotated[str, Field(title="Url")]
    event_types: Annotated[list[str], Field(title="Event Types")]
    description: Annotated[str, Field(title="Description")]
    disabled: Annotated[bool, Field(title="Disabled")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    secret: Annotated[str, Field(title="Secret")]
    """
    Shown here once: verify signatures with it.
    """


class EndpointRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    url: Annotated[str, Field(title="Url")]
    event_types: Annotated[list[str], Field(title="Event Types")]
    description: Annotated[str, Field(title="Description")]
    disabled: Annotated[bool, Field(title="Disabled")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]


class EntryPage(BaseModel):
    data: Annotated[list[EntryRead], Field(title="Data")]
    next_after: Annotated[int | None, Field(title="Next After")] = None
    """
    Pass as `after` for the next page.
    """


class EntryRead(BaseModel):
    seq: Annotated[int, Field(title="Seq")]
    event_id: Annotated[int, Field(title="Event Id")]
    metric: Annotated[str, Field(title="Metric")]
    period: Annotated[str, Field(title="Period")]
    source: Annotated[str, Field(title="Source")]
    source_kind: Annotated[
        Literal["grant", "plan", "overage", "free_overage", "top_up", "backlog"],
        Field(title="SourceKind"),
    ]
    """
    Who paid: grant (an Access Code), plan (its allowance), overage (billed), free_overage (recorded past a free plan), top_up (Reviews: paid by the top-up limit) or backlog (Reviews: past the limit and any top-up).
    """
    quantity: Annotated[int, Field(title="Quantity")]
    occurred_at: Annotated[AwareDatetime, Field(title="Occurred At")]


class FieldProblem(BaseModel):
    field: Annotated[str, Field(title="Field")]
    code: Annotated[str, Field(title="Code")]
    detail: Annotated[str, Field(title="Detail")]


class GrantUseRead(BaseModel):
    grant_id: Annotated[int, Field(title="Grant Id")]
    label: Annotated[str, Field(title="Label")]
    ends_at: Annotated[AwareDatetime | None, Field(title="Ends At")]
    paused: Annotated[bool, Field(title="Paused")]
    resources: Annotated[list[ResourceRead], Field(title="Resources")]


class Health(BaseModel):
    status: Annotated[str, Field(title="Status")]
    database: Annotated[str, Field(title="Database")]
    version: Annotated[str, Field(title="Version")]


class IngestRead(BaseModel):
    received: Annotated[int, Field(title="Received")]
    new: Annotated[int, Field(title="New")]
    duplicates: Annotated[int, Field(title="Duplicates")]
    """
    Orders already reported: nothing changes for them.
    """
    outcomes: Annotated[dict[str, int], Field(title="Outcomes")]
    """
    New orders by fate: within, top_up, overage, waiting, archived, counted.
    """
    released: Annotated[int, Field(title="Released")]
    """
    Review requests to send now (also by webhook).
    """


class InventoryTopUp(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    add: Annotated[
        dict[str, AddAdditionalProperty],
        Field(examples=[{"card_operations": 500, "staff_seats": 100}], title="Add"),
    ]
    """
    Monthly units per resource; negative gives back units no code holds.
    """
    note: Annotated[str | None, Field(max_length=200, title="Note")] = ""


class InvoiceLineRead(BaseModel):
    position: Annotated[int, Field(title="Position")]
    kind: Annotated[str, Field(title="Kind")]
    """
    plan, proration, overage, late_overage (B7: an earlier month's usage reported after its invoice), extra_seats, top_up, referral_credit or wholesale
    """
    description: Annotated[str, Field(title="Description")]
    metric: Annotated[str | None, Field(title="Metric")]
    quantity: Annotated[int, Field(title="Quantity")]
    unit_price: Annotated[str, Field(title="Unit Price")]
    """
    Exact, as priced.
    """
    amount_exact: Annotated[str, Field(title="Amount Exact")]
    amount: Annotated[str, Field(title="Amount")]
    """
    Rounded once, when the invoice was frozen.
    """
    tax_rate: Annotated[str, Field(title="Tax Rate")]
    period_start: Annotated[date | None, Field(title="Period Start")]
    period_end: Annotated[date | None, Field(title="Period End")]


class InvoicePage(BaseModel):
    data: Annotated[list[InvoiceSummary], Field(title="Data")]
    next_after: Annotated[int | None, Field(title="Next After")] = None
    """
    Pass as `after` for the next (older) page.
    """


class InvoicePay(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    note: Annotated[str | None, Field(max_length=200, min_length=1, title="Note")] = (
        "marked paid by the operator"
    )


class InvoiceRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    number: Annotated[str | None, Field(title="Number")]
    """
    INV-2026-000001: gap-free per year.
    """
    kind: Annotated[str, Field(title="Kind")]
    """
    subscription, usage, proration or partner
    """
    state: Annotated[str, Field(title="State")]
    """
    finalized, paid, void or uncollectible
    """
    account_id: Annotated[str | None, Field(title="Account Id")]
    partner_id: Annotated[str | None, Field(title="Partner Id")]
    subscription_id: Annotated[int | None, Field(title="Subscription Id")]
    currency: Annotated[str, Field(title="Currency")]
    issued_on: Annotated[date, Field(title="Issued On")]
    period_start: Annotated[date | None, Field(title="Period Start")]
    period_end: Annotated[date | None, Field(title="Period End")]
    """
    Exclusive.
    """
    subtotal: Annotated[str, Field(title="Subtotal")]
    tax: Annotated[str, Field(title="Tax")]
    total: Annotated[str, Field(title="Total")]
    credit_applied: Annotated[str, Field(title="Credit Applied")]
    """
    The account's credit balance taken off the total when it was issued (P4); the card is charged the rest.
    """
    rounding: Annotated[str, Field(title="Rounding")]
    notes: Annotated[list[str], Field(title="Notes")]
    lines: Annotated[list[InvoiceLineRead], Field(title="Lines")]
    taxes: Annotated[list[TaxRead], Field(title="Taxes")]
    credit_notes: Annotated[list[CreditNoteRead], Field(title="Credit Notes")]
    finalized_at: Annotated[AwareDatetime | None, Field(title="Finalized At")]
    settled_at: Annotated[AwareDatetime | None, Field(title="Settled At")]
    settlement_note: Annotated[str | None, Field(title="Settlement Note")]


class InvoiceSettle(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    reason: Annotated[
        str,
        Field(examples=["issued by mistake"], max_length=200, min_length=1, title="Reason"),
    ]


class InvoiceSummary(BaseModel):
    id: Annotated[int, Field(title="Id")]
    number: Annotated[str | None, Field(title="Number")]
    """
    INV-2026-000001: gap-free per year.
    """
    kind: Annotated[str, Field(title="Kind")]
    """
    subscription, usage, proration or partner
    """
    state: Annotated[str, Field(title="State")]
    """
    finalized, paid, void or uncollectible
    """
    account_id: Annotated[str | None, Field(title="Account Id")]
    partner_id: Annotated[str | None, Field(title="Partner Id")]
    subscription_id: Annotated[int | None, Field(title="Subscription Id")]
    currency: Annotated[str, Field(title="Currency")]
    issued_on: Annotated[date, Field(title="Issued On")]
    period_start: Annotated[date | None, Field(title="Period Start")]
    period_end: Annotated[date | None, Field(title="Period End")]
    """
    Exclusive.
    """
    subtotal: Annotated[str, Field(title="Subtotal")]
    tax: Annotated[str, Field(title="Tax")]
    total: Annotated[str, Field(title="Total")]
    credit_applied: Annotated[str, Field(title="Credit Applied")]
    """
    The account's credit balance taken off the total when it was issued (P4); the card is charged the rest.
    """


class Lines(RootModel[list[CreditLine]]):
    root: Annotated[list[CreditLine], Field(max_length=1000, min_length=1, title="Lines")]
    """
    Omit to take back all that is left.
    """


class LoadReportRead(BaseModel):
    catalog: Annotated[str, Field(title="Catalog")]
    added: Annotated[list[str], Field(title="Added")]
    new_versions: Annotated[list[str], Field(title="New Versions")]
    unchanged: Annotated[list[str], Field(title="Unchanged")]


class MetricUseRead(BaseModel):
    metric: Annotated[str, Field(title="Metric")]
    name: Annotated[str, Field(title="Name")]
    kind: Annotated[str, Field(title="Kind")]
    included: Annotated[int, Field(title="Included")]
    used: Annotated[int, Field(title="Used")]
    from_grants: Annotated[int, Field(title="From Grants")]
    over: Annotated[int, Field(title="Over")]
    headline: Annotated[str, Field(examples=["Used: 9 / 100 included per month"], title="Headline")]
    extra_seat_days: Annotated[int, Field(title="Extra Seat Days")]
    reported_late: Annotated[int | None, Field(title="Reported Late")] = 0
    """
    B7: units of this month (once it is over) reported after it ended; past the allowance and after its usage invoice they go on the next usage invoice as a late line.
    """
    charge: Annotated[str | None, Field(title="Charge")] = None
    """
    Exact amount so far, before rounding.
    """
    currency: Annotated[str | None, Field(title="Currency")] = None
    split: Annotated[list[SourceUseRead], Field(title="Split")]


class MoneyRead(BaseModel):
    amount: Annotated[str, Field(title="Amount")]
    currency: Annotated[str, Field(title="Currency")]


class MonthAdviceRead(BaseModel):
    month: Annotated[str, Field(title="Month")]
    to_date: Annotated[bool, Field(title="To Date")]
    """
    True: the month is not over yet.
    """
    metric: Annotated[str, Field(title="Metric")]
    units: Annotated[int, Field(title="Units")]
    quantity: Annotated[int, Field(title="Quantity")]
    currency: Annotated[str, Field(title="Currency")]
    current: Annotated[str, Field(title="Current")]
    """
    The plan the subscription is on.
    """
    options: Annotated[list[AdviceOptionRead], Field(title="Options")]
    """
    The current plan, then the plans above.
    """
    cheapest: Annotated[str, Field(title="Cheapest")]
    upgrade: Annotated[bool, Field(title="Upgrade")]
    """
    True when a plan above costs less than staying.
    """
    saving: Annotated[str, Field(title="Saving")]
    """
    A month, by moving to the cheapest plan.
    """
    breakeven_units: Annotated[int | None, Field(title="Breakeven Units")]
    """
    The smallest usage at which the next plan up is cheaper than staying.
    """
    breakeven_share: Annotated[str | None, Field(title="Breakeven Share")]
    """
    breakeven_units / its allowance.
    """
    message: Annotated[str, Field(title="Message")]


class OpenInvoiceRead(BaseModel):
    invoice_id: Annotated[int, Field(title="Invoice Id")]
    number: Annotated[str, Field(title="Number")]
    amount_due: Annotated[str, Field(title="Amount Due")]
    currency: Annotated[str, Field(title="Currency")]
    state: Annotated[str, Field(title="State")]
    """
    collecting, waiting_for_card (a hard decline or no card), requires_action, exhausted (every retry failed: the final rule applied)
    """
    tries: Annotated[int, Field(title="Tries")]
    """
    Charges that failed since the schedule (re)started.
    """
    next_try_at: Annotated[AwareDatetime | None, Field(title="Next Try At")]
    confirm_by: Annotated[AwareDatetime | None, Field(title="Confirm By")]
    """
    requires_action: until when the payment waits for the cardholder; past it the payment is withdrawn and the final rule applies.
    """
    decline_code: Annotated[str | None, Field(title="Decline Code")]


class OrderWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Annotated[str, Field(max_length=128, min_length=1, title="Id")]
    """
    The platform's order id.
    """
    placed_at: Annotated[AwareDatetime, Field(title="Placed At")]
    """
    Decides the month it counts in (U5).
    """
    excluded: Annotated[bool | None, Field(title="Excluded")] = False
    """
    Excluded from review requests (still counted).
    """


class OrdersWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    orders: Annotated[list[OrderWrite], Field(max_length=10000, min_length=1, title="Orders")]


class PartnerCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Annotated[str, Field(max_length=64, title="Id")]
    name: Annotated[str, Field(max_length=200, title="Name")]
    kind: Annotated[str, Field(max_length=32, title="Kind")]
    """
    agency, consultant, pos_vendor, restaurant_consultant
    """
    contact: Annotated[str, Field(max_length=200, title="Contact")]
    currency: Annotated[str, Field(max_length=3, title="Currency")]
    wholesale_discount: Annotated[float | str, Field(title="Wholesale Discount")]
    """
    0.30 = 30 % off
    """
    prices: Annotated[dict[str, float | str] | None, Field(title="Prices")] = None
    """
    Price per resource per month, before the discount.
    """


class PartnerMonthRead(BaseModel):
    partner_id: Annotated[str, Field(title="Partner Id")]
    month: Annotated[str, Field(title="Month")]
    currency: Annotated[str, Field(title="Currency")]
    wholesale_discount: Annotated[str, Field(title="Wholesale Discount")]
    codes: Annotated[list[CodeMonthRead], Field(title="Codes")]
    total: Annotated[str, Field(title="Total")]
    """
    Exact total for the month.
    """
    total_rounded: Annotated[str, Field(title="Total Rounded")]


class PartnerRead(BaseModel):
    id: Annotated[str, Field(title="Id")]
    name: Annotated[str, Field(title="Name")]
    kind: Annotated[str, Field(title="Kind")]
    contact: Annotated[str, Field(title="Contact")]
    currency: Annotated[str, Field(title="Currency")]
    wholesale_discount: Annotated[str, Field(title="Wholesale Discount")]
    prices: Annotated[dict[str, str], Field(title="Prices")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]


class PaymentRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    invoice_id: Annotated[int, Field(title="Invoice Id")]
    state: Annotated[str, Field(title="State")]
    """
    pending, succeeded, failed, requires_action, processing
    """
    amount: Annotated[str, Field(title="Amount")]
    currency: Annotated[str, Field(title="Currency")]
    decline_code: Annotated[str | None, Field(title="Decline Code")]
    hard: Annotated[bool, Field(title="Hard")]
    """
    A hard decline: not retried until the card changes.
    """
    message: Annotated[str | None, Field(title="Message")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    finished_at: Annotated[AwareDatetime | None, Field(title="Finished At")]


class PlanChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    plan: Annotated[str, Field(examples=["loyalty-professional"], max_length=64, title="Plan")]


class PlanChangePreviewRead(BaseModel):
    subscription_id: Annotated[int, Field(title="Subscription Id")]
    from_plan: Annotated[str, Field(title="From Plan")]
    to_plan: Annotated[str, Field(title="To Plan")]
    direction: Annotated[str, Field(title="Direction")]
    """
    upgrade or downgrade
    """
    immediate: Annotated[bool, Field(title="Immediate")]
    """
    An upgrade applies now; a downgrade at the renewal.
    """
    effective_on: Annotated[date, Field(title="Effective On")]
    period_start: Annotated[date | None, Field(title="Period Start")]
    """
    The period the proration covers.
    """
    period_end: Annotated[date | None, Field(title="Period End")]
    """
    Exclusive.
    """
    days_left: Annotated[int, Field(title="Days Left")]
    days_in_period: Annotated[int, Field(title="Days In Period")]
    currency: Annotated[str, Field(title="Currency")]
    charge: Annotated[str, Field(title="Charge")]
    """
    The prorated charge, exact.
    """
    charge_rounded: Annotated[str, Field(title="Charge Rounded")]
    """
    What the invoice will say.
    """
    waived_months: Annotated[list[str], Field(title="Waived Months")]
    """
    Months whose overage the upgrade waives (B3).
    """


class PlanChangeRead(BaseModel):
    subscription_id: Annotated[int, Field(title="Subscription Id")]
    from_plan: Annotated[str, Field(title="From Plan")]
    to_plan: Annotated[str, Field(title="To Plan")]
    direction: Annotated[str, Field(title="Direction")]
    """
    upgrade or downgrade
    """
    immediate: Annotated[bool, Field(title="Immediate")]
    """
    An upgrade applies now; a downgrade at the renewal.
    """
    effective_on: Annotated[date, Field(title="Effective On")]
    period_start: Annotated[date | None, Field(title="Period Start")]
    """
    The period the proration covers.
    """
    period_end: Annotated[date | None, Field(title="Period End")]
    """
    Exclusive.
    """
    days_left: Annotated[int, Field(title="Days Left")]
    days_in_period: Annotated[int, Field(title="Days In Period")]
    currency: Annotated[str, Field(title="Currency")]
    charge: Annotated[str, Field(title="Charge")]
    """
    The prorated charge, exact.
    """
    charge_rounded: Annotated[str, Field(title="Charge Rounded")]
    """
    What the invoice will say.
    """
    waived_months: Annotated[list[str], Field(title="Waived Months")]
    """
    Months whose overage the upgrade waives (B3).
    """
    invoice: InvoiceRead | None
    """
    The proration invoice, if any was issued.
    """


class PlanLineRead(BaseModel):
    product_line: Annotated[str, Field(title="Product Line")]
    plan: Annotated[str, Field(title="Plan")]
    plan_name: Annotated[str, Field(title="Plan Name")]
    version: Annotated[int, Field(title="Version")]
    quantity: Annotated[int, Field(title="Quantity")]
    """
    In force now.
    """
    started_on: Annotated[str, Field(title="Started On")]
    free: Annotated[bool, Field(title="Free")]
    tip: Annotated[str, Field(title="Tip")]
    pending_quantity: Annotated[int | None, Field(title="Pending Quantity")] = None
    """
    A decrease scheduled for the renewal on `pending_quantity_on`.
    """
    pending_quantity_on: Annotated[str | None, Field(title="Pending Quantity On")] = None


class PlanRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    definition: Annotated[dict[str, Any], Field(title="Definition")]
    details: Annotated[dict[str, Any], Field(title="Details")]


class PortalLinkRead(BaseModel):
    url: Annotated[str, Field(title="Url")]
    """
    Open it in the business's browser: it works once.
    """
    expires_at: Annotated[AwareDatetime, Field(title="Expires At")]
    """
    15 minutes from now; the session it opens, 8 h.
    """


class Problem(BaseModel):
    """
    RFC 9457 problem details, with a stable `code` and the fields at fault.
    """

    type: Annotated[str, Field(title="Type")]
    title: Annotated[str, Field(title="Title")]
    status: Annotated[int, Field(title="Status")]
    code: Annotated[str, Field(title="Code")]
    detail: Annotated[str, Field(title="Detail")]
    errors: Annotated[list[FieldProblem] | None, Field(title="Errors")] = None


class QuantityChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    quantity: Annotated[int, Field(ge=1, le=100000, title="Quantity")]
    """
    Locations, on per-location plans.
    """


class QuantityChangePreviewRead(BaseModel):
    subscription_id: Annotated[int, Field(title="Subscription Id")]
    plan: Annotated[str, Field(title="Plan")]
    from_quantity: Annotated[int, Field(title="From Quantity")]
    """
    The quantity in force now.
    """
    to_quantity: Annotated[int, Field(title="To Quantity")]
    direction: Annotated[str, Field(title="Direction")]
    """
    increase, decrease, or none (the quantity in force)
    """
    changes: Annotated[bool, Field(title="Changes")]
    """
    False: the subscription already does this; no-op.
    """
    immediate: Annotated[bool, Field(title="Immediate")]
    """
    An increase applies now; a decrease at the renewal.
    """
    effective_on: Annotated[date, Field(title="Effective On")]
    period_start: Annotated[date | None, Field(title="Period Start")]
    """
    The period the proration covers.
    """
    period_end: Annotated[date | None, Field(title="Period End")]
    """
    Exclusive.
    """
    days_left: Annotated[int, Field(title="Days Left")]
    days_in_period: Annotated[int, Field(title="Days In Period")]
    currency: Annotated[str, Field(title="Currency")]
    charge: Annotated[str, Field(title="Charge")]
    """
    The prorated charge, exact.
    """
    charge_rounded: Annotated[str, Field(title="Charge Rounded")]
    """
    What the invoice will say.
    """
    pending_quantity: Annotated[int | None, Field(title="Pending Quantity")]
    """
    The decrease scheduled after the change.
    """
    pending_on: Annotated[date | None, Field(title="Pending On")]
    """
    The renewal it takes effect on.
    """
    replaced_pending: Annotated[int | None, Field(title="Replaced Pending")]
    """
    The scheduled decrease this change replaces or cancels.
    """


class QuantityChangeRead(BaseModel):
    subscription_id: Annotated[int, Field(title="Subscription Id")]
    plan: Annotated[str, Field(title="Plan")]
    from_quantity: Annotated[int, Field(title="From Quantity")]
    """
    The quantity in force now.
    """
    to_quantity: Annotated[int, Field(title="To Quantity")]
    direction: Annotated[str, Field(title="Direction")]
    """
    increase, decrease, or none (the quantity in force)
    """
    changes: Annotated[bool, Field(title="Changes")]
    """
    False: the subscription already does this; no-op.
    """
    immediate: Annotated[bool, Field(title="Immediate")]
    """
    An increase applies now; a decrease at the renewal.
    """
    effective_on: Annotated[date, Field(title="Effective On")]
    period_start: Annotated[date | None, Field(title="Period Start")]
    """
    The period the proration covers.
    """
    period_end: Annotated[date | None, Field(title="Period End")]
    """
    Exclusive.
    """
    days_left: Annotated[int, Field(title="Days Left")]
    days_in_period: Annotated[int, Field(title="Days In Period")]
    currency: Annotated[str, Field(title="Currency")]
    charge: Annotated[str, Field(title="Charge")]
    """
    The prorated charge, exact.
    """
    charge_rounded: Annotated[str, Field(title="Charge Rounded")]
    """
    What the invoice will say.
    """
    pending_quantity: Annotated[int | None, Field(title="Pending Quantity")]
    """
    The decrease scheduled after the change.
    """
    pending_on: Annotated[date | None, Field(title="Pending On")]
    """
    The renewal it takes effect on.
    """
    replaced_pending: Annotated[int | None, Field(title="Replaced Pending")]
    """
    The scheduled decrease this change replaces or cancels.
    """
    invoice: InvoiceRead | None
    """
    The proration invoice, if any was issued.
    """


class ReferralRead(BaseModel):
    account_id: Annotated[str, Field(title="Account Id")]
    enabled: Annotated[bool, Field(title="Enabled")]
    code: Annotated[str, Field(examples=["7K2M-9QXD-4HRT-PV0C-8"], title="Code")]
    link: Annotated[str, Field(title="Link")]
    """
    The personal referral link (the platform's sign-up page).
    """
    currency: Annotated[str, Field(title="Currency")]
    earned: Annotated[str, Field(title="Earned")]
    credited: Annotated[str, Field(title="Credited")]
    balance: Annotated[str, Field(title="Balance")]
    """
    Earned and not yet credited: taken off the next invoice.
    """
    referred: Annotated[list[ReferredRead], Field(title="Referred")]


class ReferredRead(BaseModel):
    account_id: Annotated[str, Field(title="Account Id")]
    name: Annotated[str, Field(title="Name")]
    signed_up_at: Annotated[AwareDatetime, Field(title="Signed Up At")]
    state: Annotated[str, Field(title="State")]
    """
    signed_up, or rewarded once it paid its first paid invoice
    """
    rewarded_at: Annotated[AwareDatetime | None, Field(title="Rewarded At")]
    reward: Annotated[str | None, Field(title="Reward")]
    """
    Earned at the first paid invoice; null before.
    """
    credited: Annotated[str, Field(title="Credited")]
    """
    How much of the reward is credited on invoices so far.
    """


class RefundRead(BaseModel):
    credit_note: Annotated[str, Field(title="Credit Note")]
    payment_id: Annotated[int, Field(title="Payment Id")]
    amount: Annotated[str, Field(title="Amount")]
    currency: Annotated[str, Field(title="Currency")]
    state: Annotated[str, Field(title="State")]
    """
    pending (the provider is asked again), succeeded, failed
    """
    provider_ref: Annotated[str | None, Field(title="Provider Ref")]
    created_at: Annotated[AwareDatetime, Field(title="Created At")]
    finished_at: Annotated[AwareDatetime | None, Field(title="Finished At")]


class RequestPage(BaseModel):
    data: Annotated[list[RequestRead], Field(title="Data")]
    next_after: Annotated[str | None, Field(title="Next After")] = None
    """
    Pass as `after` for the next page.
    """


class RequestRead(BaseModel):
    order_id: Annotated[str, Field(title="Order Id")]
    placed_at: Annotated[AwareDatetime, Field(title="Placed At")]
    month: Annotated[str, Field(title="Month")]
    place: Annotated[int, Field(title="Place")]
    """
    The order's place in its month's count.
    """
    state: Annotated[str, Field(title="State")]
    paid_by: Annotated[str | None, Field(title="Paid By")]
    released_month: Annotated[str | None, Field(title="Released Month")]
    released_at: Annotated[AwareDatetime | None, Field(title="Released At")]
    sent_at: Annotated[AwareDatetime | None, Field(title="Sent At")]


class ResourceMonthRead(BaseModel):
    metric: Annotated[str, Field(title="Metric")]
    used: Annotated[int, Field(title="Used")]
    available: Annotated[int, Field(title="Available")]
    unit_price: Annotated[str, Field(title="Unit Price")]
    amount: Annotated[str, Field(title="Amount")]
    """
    Exact, after the wholesale discount; rounded on invoices.
    """


class ResourceRead(BaseModel):
    metric: Annotated[str, Field(title="Metric")]
    name: Annotated[str, Field(title="Name")]
    used: Annotated[int, Field(title="Used")]
    available: Annotated[int, Field(title="Available")]


class ReviewsRead(BaseModel):
    """
    The Reviews page: this month's orders against the limit, the top-up, the requests.
    """

    month: Annotated[str, Field(title="Month")]
    plan: Annotated[str, Field(title="Plan")]
    order_limit: Annotated[int, Field(title="Order Limit")]
    orders: Annotated[int, Field(title="Orders")]
    """
    Every order placed this month, excluded or not (U5).
    """
    within: Annotated[int, Field(title="Within")]
    """
    Places used within the limit (backlog released included).
    """
    topped_up: Annotated[int, Field(title="Topped Up")]
    top_up_spent: Annotated[str, Field(title="Top Up Spent")]
    """
    This month's top-up charge so far, exact.
    """
    top_up: Annotated[str, Field(title="Top Up")]
    """
    none, defined or unlimited
    """
    top_up_cap: Annotated[str | None, Field(title="Top Up Cap")]
    top_up_orders: Annotated[int | None, Field(title="Top Up Orders")]
    """
    What the cap buys in a month; null: no cap.
    """
    requests: Annotated[dict[str, int], Field(title="Requests")]
    """
    Requests by state: to_send, waiting, ...
    """


class SandboxCard(BaseModel):
    """
    A sandbox test card, entered at the sandbox's side (its number is not kept).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    number: Annotated[str, Field(examples=["4242 4242 4242 4242"], max_length=23, title="Number")]
    exp_month: Annotated[int, Field(ge=1, le=12, title="Exp Month")]
    exp_year: Annotated[int, Field(ge=2000, le=2099, title="Exp Year")]


class SandboxConfirm(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    success: Annotated[bool | None, Field(title="Success")] = True
    """
    The cardholder passes (or fails) authentication.
    """


class SeatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    holder: Annotated[str, Field(max_length=200, min_length=1, title="Holder")]
    """
    The staff login.
    """
    metric: Annotated[str | None, Field(max_length=64, title="Metric")] = "staff_seats"


class SourceUseRead(BaseModel):
    source: Annotated[str, Field(title="Source")]
    kind: Annotated[
        Literal["grant", "plan", "overage", "free_overage", "top_up", "backlog"],
        Field(title="SourceKind"),
    ]
    """
    Who paid: grant (an Access Code), plan (its allowance), overage (billed), free_overage (recorded past a free plan), top_up (Reviews: paid by the top-up limit) or backlog (Reviews: past the limit and any top-up).
    """
    label: Annotated[str, Field(title="Label")]
    used: Annotated[int, Field(title="Used")]
    available: Annotated[int | None, Field(title="Available")]


class StockRead(BaseModel):
    metric: Annotated[str, Field(title="Metric")]
    bought: Annotated[int, Field(title="Bought")]
    """
    Monthly units bought for the partner's codes.
    """
    held: Annotated[int, Field(title="Held")]
    """
    Held by its live codes (issued, claimed or paused).
    """
    left: Annotated[int, Field(title="Left")]
    """
    What the next codes may hold.
    """


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    plan: Annotated[str, Field(examples=["full-suite-business"], max_length=64, title="Plan")]
    quantity: Annotated[int | None, Field(ge=1, le=100000, title="Quantity")] = 1
    """
    Locations, on per-location plans.
    """
    started_on: Annotated[date | None, Field(title="Started On")] = None
    """
    Contract date; default today, locally.
    """


class SubscriptionRead(BaseModel):
    id: Annotated[int, Field(title="Id")]
    account_id: Annotated[str, Field(title="Account Id")]
    product_line: Annotated[str, Field(title="Product Line")]
    plan: Annotated[str, Field(title="Plan")]
    plan_version: Annotated[int, Field(title="Plan Version")]
    plan_name: Annotated[str, Field(title="Plan Name")]
    quantity: Annotated[int, Field(title="Quantity")]
    """
    In force now (C3: the allowances follow it).
    """
    started_on: Annotated[date, Field(title="Started On")]
    state: Annotated[str, Field(title="State")]
    pending_quantity: Annotated[int | None, Field(title="Pending Quantity")] = None
    """
    A decrease scheduled for the renewal (B4); none: nothing pending.
    """
    pending_quantity_on: Annotated[date | None, Field(title="Pending Quantity On")] = None
    """
    The renewal from which `pending_quantity` is in force.
    """


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    quantity: Annotated[int, Field(ge=1, le=100000, title="Quantity")]
    """
    An increase now, prorated; a decrease at the renewal (as `quantity-change`).
    """


class TaxRead(BaseModel):
    rate: Annotated[str, Field(title="Rate")]
    base: Annotated[str, Field(title="Base")]
    tax: Annotated[str, Field(title="Tax")]


class TopUpWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    mode: Annotated[str, Field(max_length=16, title="Mode")]
    """
    none, defined (a cap per month) or unlimited
    """
    cap: Annotated[float | str | None, Field(title="Cap")] = None
    """
    With mode 'defined': e.g. 150.
    """


class UsageRead(BaseModel):
    account_id: Annotated[str, Field(title="Account Id")]
    name: Annotated[str, Field(title="Name")]
    month: Annotated[str, Field(title="Month")]
    timezone: Annotated[str, Field(title="Timezone")]
    plans: Annotated[list[PlanLineRead], Field(title="Plans")]
    grants: Annotated[list[GrantUseRead], Field(title="Grants")]
    metrics: Annotated[list[MetricUseRead], Field(title="Metrics")]
    prompt: Annotated[list[str], Field(title="Prompt")]
