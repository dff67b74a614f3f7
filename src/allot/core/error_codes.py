"""Every error code the API or the command line answers, in one registry.

A code is stable: callers branch on it, so it never changes once shipped. Each
entry says which family raises it — a `DomainError` subclass of
`allot.core.errors`, or, for the codes `allot.http` answers itself, the HTTP
status — and, in one plain line, what it means for the caller and what to do.

`docs/errors.md` is generated from here (a table per family); regenerate it with

    uv run --no-sync python -m allot.core.error_codes > docs/errors.md

`tests/core/test_error_codes.py` checks the registry against the source: every
code raised in `src/allot` is here under the family it is raised with, and
every code here is raised somewhere (the few built at run time name their site
in `built_by`).

>>> CODES_BY_NAME["period_closed"].status
422
>>> CODES_BY_NAME["not_found"].family
404
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Seen(StrEnum):
    """Who meets a code."""

    API = "api"  # the HTTP API (and the command that does the same thing)
    CLI = "cli"  # the command line only
    SETTINGS = "settings"  # a setting (an ALLOT_* variable) is wrong: the operator fixes it
    CATALOG = "catalog"  # a catalog file's problem, reported inside `invalid_catalog`
    INTERNAL = "internal"  # the engine checking its own arguments: a caller should never see it


@dataclass(frozen=True, slots=True)
class Family:
    name: str | int  # a DomainError subclass's name, or the HTTP status allot.http answers
    status: int
    summary: str


# The DomainError families with the status `allot.http.STATUS` gives each (a test compares them),
# then the statuses of the codes allot.http answers itself.
FAMILIES: tuple[Family, ...] = (
    Family("InvalidInput", 422, "A value is malformed or out of range; `errors` names the field."),
    Family(
        "IdempotencyMismatch",
        422,
        "An Idempotency-Key was reused with a different body (a `Conflict` answered as 422).",
    ),
    Family("NotFound", 404, "No such object for this key: missing, or not this key's to see."),
    Family("Conflict", 409, "The request clashes with the current state of the object."),
    Family("Refused", 409, "The rules say no, however the request is written."),
    Family("Unauthenticated", 401, "No valid API key (sent with `WWW-Authenticate: Bearer`)."),
    Family("Forbidden", 403, "A valid key whose role may not do this."),
    Family(
        "TooLarge", 413, "A request past a size limit; bodies over 2 MB answer `request_too_large`."
    ),
    Family("RateLimited", 429, "Too many requests just now (sent with `Retry-After`)."),
    Family(422, 422, "Answered by `allot.http`: the request did not pass the schema or storage."),
    Family(404, 404, "Answered by `allot.http`: no route has this path."),
    Family(405, 405, "Answered by `allot.http`: the path has no route for this method."),
    Family(409, 409, "Answered by `allot.http`: a concurrent request won a race."),
    Family(413, 413, "Answered by `allot.http`: the body is over the size limit."),
    Family(400, 400, "Answered by `allot.http`: any other HTTP error of the framework."),
)

FAMILY: dict[str | int, Family] = {f.name: f for f in FAMILIES}


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    family: str | int  # a key of FAMILY
    meaning: str  # for the caller: what happened and, where useful, what to do
    rule: str | None = None  # the SPEC rule id(s) behind it
    seen: Seen = Seen.API
    built_by: str | None = None  # a code built at run time: the site that builds it

    @property
    def status(self) -> int:
        return FAMILY[self.family].status


_I, _N, _C, _R = "InvalidInput", "NotFound", "Conflict", "Refused"
_CLI, _SET, _CAT, _INT = Seen.CLI, Seen.SETTINGS, Seen.CATALOG, Seen.INTERNAL
_COUNT = "allot/core/backlog.py: _check_count"


def _e(
    code: str,
    family: str | int,
    meaning: str,
    rule: str | None = None,
    seen: Seen = Seen.API,
    built_by: str | None = None,
) -> ErrorCode:
    return ErrorCode(code, family, meaning, rule, seen, built_by)


CODES: tuple[ErrorCode, ...] = (
    # --- InvalidInput (422): any input ----------------------------------------------------
    _e(
        "required",
        _I,
        "A required value is empty (a name, a URL, a webhook's event types; a CSV row's "
        "account_id); fill it in.",
    ),
    _e("too_long", _I, "A text is longer than its limit (the message gives it); shorten it."),
    _e("invalid_character", _I, "A text contains a NUL character; remove it."),
    _e("invalid_text", _I, "A webhook endpoint's description must be printable text on one line."),
    _e(
        "invalid_identifier",
        _I,
        "An id (an account's, a partner's) must be 1-64 letters, digits, '_', '.', ':' or '-', "
        "starting with a letter or digit.",
    ),
    _e("not_positive_integer", _I, "A count such as `quantity` must be a whole number above zero."),
    _e(
        "too_large",
        _I,
        "A number is above its maximum (the message gives it), e.g. a subscription's quantity.",
    ),
    _e(
        "invalid_limit",
        _I,
        "`limit` is out of range: 1-1000 for accounts, ledger entries and webhook deliveries, "
        "1-10000 for review requests.",
        built_by=_COUNT,  # also the Reviews gate's order limit, checked by the engine
    ),
    _e(
        "invalid_state",
        _I,
        "`state` is not one of the listed states (the message names them): review requests or "
        "webhook deliveries.",
    ),
    _e(
        "invalid_idempotency_key",
        _I,
        "An Idempotency-Key must be 1-255 printable characters.",
        "U1",
    ),
    _e(
        "idempotency_key_required",
        _I,
        "Consume and seat calls need an `Idempotency-Key` header so that a retry never counts "
        "twice; send one (e.g. your own event id).",
        "U1",
    ),
    # accounts and money
    _e(
        "unknown_currency",
        _I,
        "Not a known ISO 4217 currency code in upper case (EUR, USD, ...).",
        "A1",
    ),
    _e("invalid_locale", _I, "Not a locale like 'en' or 'th_TH'.", "A1, W2"),
    _e("invalid_language", _I, "Not a language allot writes in: en, ko, th, hi or uk.", "W2"),
    _e("invalid_billing_channel", _I, "`billing_channel` must be card or external.", "A1"),
    _e(
        "unknown_time_zone",
        _I,
        "Not an IANA time zone name (e.g. Europe/Paris, Asia/Bangkok).",
        "A1, A5",
    ),
    _e(
        "invalid_number",
        _I,
        "A form field of the billing page that takes a whole number (a payment, a subscription) "
        "holds something else.",
        "W1",
    ),
    _e(
        "invalid_outcome",
        _I,
        "The sandbox's 3-D Secure step takes 'pass' or 'fail'.",
        "P4",
    ),
    _e(
        "invalid_settlement",
        _I,
        "What becomes of the part of a credit note that gives back money paid: 'refund' (to "
        "the card) or 'balance' (the account's credit for its next invoices).",
        "P4",
    ),
    _e(
        "invalid_tax_rate",
        _I,
        "A tax rate is a fraction from 0 up to, not including, 1: 0.2 for 20 %.",
        "B5",
    ),
    _e(
        "invalid_amount",
        _I,
        "Not a finite decimal amount; send a decimal string or an integer.",
        "B5",
    ),
    _e(
        "too_many_decimals",
        _I,
        "An amount has more decimals than its currency has (e.g. 0.001 EUR): a credit-note line "
        "or a top-up cap.",
        "B5",
    ),
    _e(
        "currency_mismatch",
        _I,
        "The plan is priced in another currency than the account pays in; pick a plan in the "
        "account's currency.",
        "A1, C2",
    ),
    _e(
        "float_money",
        _I,
        "An amount reached the engine as a binary float, which loses cents. Amounts are decimal "
        "strings: over HTTP the schema converts them first, and a catalog's floats are "
        "reported inside invalid_catalog.",
        "B5",
        _INT,
    ),
    _e(
        "invalid_factor",
        _I,
        "Money was scaled by something other than an int or a Decimal.",
        "B5",
        _INT,
    ),
    _e("division_by_zero", _I, "Money was divided by zero.", "B5", _INT),
    _e(
        "unknown_rounding",
        _I,
        "A rounding mode the engine does not know was asked for.",
        "B5",
        _INT,
    ),
    _e("empty_split", _I, "An amount was split among no weights.", "B5", _INT),
    _e("negative_weight", _I, "An amount was split with a negative weight.", "B5", _INT),
    _e("zero_weights", _I, "An amount was split among weights that are all zero.", "B5", _INT),
    # time
    _e(
        "date_out_of_range",
        _I,
        "A date, instant or month lies outside the years 2000-2099 the engine handles; `field` "
        "names the input (e.g. `orders[3].placed_at`). In a body with other faults before it, "
        "it is one of invalid_request's `errors`.",
        "U8",
    ),
    _e("invalid_month", _I, "A month must be YYYY-MM, with a month from 01 to 12."),
    _e(
        "occurred_in_future",
        _I,
        "The action is dated more than the tolerance (5 minutes unless ALLOT_FUTURE_TOLERANCE "
        "says otherwise) after the server's clock; check the sender's clock, or leave the date "
        "out to mean now.",
        "U8",
    ),
    _e(
        "before_plan_started",
        _I,
        "The action is dated before the subscription that meters it (or the account) started, "
        "so nothing can count it.",
        "U8",
    ),
    _e(
        "period_closed",
        _I,
        "The action's month was invoiced and its late-usage grace window (35 days after the "
        "month by default) is over: it can no longer be billed.",
        "B7",
    ),
    _e(
        "clock_out_of_range",
        _I,
        "The simulated clock would leave the years 2000-2099; move it by less.",
        "S2, U8",
    ),
    _e(
        "naive_datetime",
        _I,
        "An instant has no UTC offset; add one, e.g. 2026-03-01T09:00+02:00 or ...Z. Over HTTP "
        "the schema refuses a naive instant as invalid_request.",
        "U8",
        _CLI,
    ),
    _e(
        "invalid_datetime",
        _I,
        "Not an ISO 8601 date and time (e.g. 2026-03-01T09:00+02:00).",
        None,
        _CLI,
    ),
    _e("invalid_date", _I, "Not a YYYY-MM-DD date.", None, _CLI),
    _e(
        "outside_period",
        _I,
        "A proration was asked for a day outside its billing period.",
        "B4",
        _INT,
    ),
    _e(
        "invalid_proration",
        _I,
        "A proration was asked with days left outside the period.",
        "B4",
        _INT,
    ),
    # catalog, plans and subscriptions
    _e(
        "invalid_catalog",
        _I,
        "The catalog file cannot be loaded; `detail` lists every problem found, one per line, "
        "with file, line and field. Fix them and load again.",
        "C5",
    ),
    _e("negative_allowance", _I, "A plan's included allowance is negative.", "C2", _CAT),
    _e(
        "missing_overage_price",
        _I,
        "A rule with policy 'bill' has no overage price.",
        "C2, U4",
        _CAT,
    ),
    _e(
        "missing_top_up_price",
        _I,
        "A rule with policy 'top_up_then_backlog' has no top-up price.",
        "R2",
        _CAT,
    ),
    _e(
        "quantity_not_supported",
        _I,
        "The plan is not sold per location, so its quantity stays 1 (this also applies to the "
        "plan a renewal will move to).",
        "C3",
    ),
    _e(
        "plan_by_agreement",
        _I,
        "The plan is priced by agreement, so no one subscribes to it as it is; the operator "
        "adds a plan with the agreed price.",
        "C6",
    ),
    _e(
        "plan_not_on_line",
        _I,
        "The new plan is on another product line's ladder; subscribe to it separately instead "
        "of changing plan.",
        "C4, B4",
    ),
    _e(
        "metric_not_on_plan",
        _I,
        "Upgrade advice was asked for a metric the current plan has no terms for.",
        "V1",
        _INT,
    ),
    _e(
        "duplicate_plan",
        _I,
        "A plan appears twice in the ladder upgrade advice compares.",
        "V1",
        _INT,
    ),
    _e(
        "unknown_plan",
        _I,
        "Upgrade advice was asked for a plan that is not on the ladder.",
        "V1",
        _INT,
    ),
    _e(
        "invalid_units",
        _I,
        "Upgrade advice was given a usage that is not a whole number >= 0.",
        "V1",
        _INT,
    ),
    _e(
        "invalid_quantity",
        _I,
        "A quantity is not a whole number of units, or is 0: an inventory top-up's (A3; at "
        "most 1,000,000,000 at a time), or one the engine was given to allocate or advise on.",
        "A3",
    ),
    # consumption, seats and the Reviews gate
    _e(
        "wrong_metric_kind",
        _I,
        "The metric is of the other kind: a gauge (seats) is taken and released, a counter is "
        "consumed.",
        "C1, U6",
    ),
    _e(
        "no_plan_for_metric",
        _I,
        "Backlogged orders were to be released into a plan, and no plan meters the metric.",
        "R4",
        _INT,
    ),
    _e(
        "invalid_release",
        _I,
        "Backlogged units to release do not add up to what leaves the backlog.",
        "R4",
        _INT,
    ),
    _e("not_boolean", _I, "An order's `excluded` must be true or false.", "R1"),
    _e(
        "invalid_batch",
        _I,
        "Send 1-10000 orders, or order ids to acknowledge, at a time.",
        "R1, R5",
    ),
    _e("invalid_top_up", _I, "A top-up `mode` must be none, defined or unlimited.", "R2"),
    _e("invalid_top_up_cap", _I, "A `cap` goes with mode 'defined', and only with it.", "R2"),
    _e(
        "not_positive",
        _I,
        "A top-up cap must be more than zero; to buy no top-up, use mode none.",
        "R2",
    ),
    _e(
        "invalid_top_up_limit",
        _I,
        "A top-up limit is a finite amount >= 0, or unlimited; a negative `cap` is answered "
        "with this code (field `top_up_limit`).",
        "R2",
    ),
    _e(
        "invalid_top_up_price",
        _I,
        "The plan's top-up price is not above zero. This is a catalog error that shows when "
        "orders are counted: the operator fixes the catalog.",
        "R2",
    ),
    _e(
        "invalid_backlog_limit",
        _I,
        "The Reviews gate was built with a backlog size that is not a whole number >= 0.",
        "R3",
        _INT,
        _COUNT,
    ),
    _e(
        "invalid_within",
        _I,
        "The Reviews gate's count of orders within the limit is not a whole number >= 0.",
        "R1",
        _INT,
        _COUNT,
    ),
    _e(
        "invalid_topped_up",
        _I,
        "The Reviews gate's count of topped-up orders is not a whole number >= 0.",
        "R2",
        _INT,
        _COUNT,
    ),
    _e(
        "invalid_waiting",
        _I,
        "The Reviews gate's count of waiting requests is not a whole number >= 0.",
        "R3",
        _INT,
        _COUNT,
    ),
    # invoices and credit notes
    _e("empty_credit", _I, "A credit note must take back at least one amount.", "B5"),
    _e(
        "unknown_line",
        _I,
        "The credit note names an invoice line that cannot be credited (no such position, or "
        "nothing on it to credit).",
        "B5",
    ),
    _e("negative_credit", _I, "Credit-note amounts are positive.", "B5"),
    _e(
        "credit_exceeds_line",
        _I,
        "The amount is more than is still creditable on that line (earlier credit notes count).",
        "B5",
    ),
    _e(
        "credit_exceeds_invoice",
        _I,
        "The credit note takes back more than the invoice still asks for before tax.",
        "B5",
    ),
    # partners, Access Codes and e-mail
    _e(
        "invalid_partner_kind",
        _I,
        "A partner's kind must be agency, consultant, pos_vendor or restaurant_consultant.",
        "A3",
    ),
    _e(
        "invalid_discount",
        _I,
        "`wholesale_discount` is a fraction from 0 to below 1 (0.30 for 30 % off).",
        "A3",
    ),
    _e("negative_price", _I, "A partner's price per resource cannot be negative.", "A3"),
    _e("empty_package", _I, "A code's package must give at least one resource.", "K1"),
    _e(
        "ends_before_start",
        _I,
        "A fixed-term code's `ends_at` must be after its `starts_at`.",
        "K3",
    ),
    _e(
        "invalid_code_format",
        _I,
        "This does not look like an Access Code (wrong length, letters or check symbol): check "
        "it for a typo.",
        "K2",
    ),
    _e("invalid_note", _I, "The note for an activation e-mail is over 1000 characters.", "K2"),
    _e(
        "invalid_country",
        _I,
        "Not an ISO 3166-1 alpha-2 country code (`UA`, `US`, `GB`); regions such as `EU` are "
        "not countries.",
    ),
    _e("invalid_address", _I, "An address must be an object: line1, city and country at least."),
    _e("invalid_billing_details", _I, "Billing details must be an object (see the schema)."),
    _e(
        "unknown_field",
        _I,
        "A field that billing details or an address do not have (the message lists those they do).",
    ),
    _e(
        "invalid_email",
        _I,
        "Not an e-mail address a mail server would take (the message says why). For "
        "ALLOT_MAIL_FROM, the operator fixes the setting.",
    ),
    _e(
        "invalid_subject",
        _I,
        "An e-mail's subject is not one line of 1-300 characters. The activation e-mail's "
        "subject starts with the partner's name, so a name with a line break gets this answer.",
        "K2",
    ),
    _e("invalid_email_kind", _I, "An e-mail of a kind allot does not send was queued.", None, _INT),
    _e(
        "invalid_activation_link",
        _I,
        "ALLOT_ACTIVATION_LINK must contain {code}; the operator fixes the setting.",
        "K2",
        _SET,
    ),
    _e(
        "invalid_payment_gateway",
        _I,
        "ALLOT_PAYMENT_GATEWAY names no payment provider: use sandbox or stripe.",
        None,
        _SET,
    ),
    _e(
        "missing_stripe_key",
        _I,
        "ALLOT_PAYMENT_GATEWAY=stripe needs ALLOT_STRIPE_SECRET_KEY.",
        None,
        _SET,
    ),
    _e(
        "payment_provider_refused",
        _I,
        "The payment provider refused the request or could not be reached (its message "
        "says which); try again, or check the card setup.",
    ),
    _e(
        "invalid_expiry",
        _I,
        "A card's expiry: MM/YYYY on the command line; a month 1-12 and a year on the billing "
        "page's card form.",
        "P2",
    ),
    _e(
        "invalid_test_card",
        _I,
        "The sandbox takes its own test cards only (4242 4242 4242 4242 and the others in the "
        "README), with a month 1-12 and a four-digit year.",
    ),
    _e(
        "invalid_signature",
        _I,
        "A provider webhook whose signature does not verify with ALLOT_STRIPE_WEBHOOK_SECRET; "
        "it is ignored.",
    ),
    _e(
        "invalid_smtp_url",
        _I,
        "ALLOT_SMTP_URL must be smtp://host[:port] or smtps://host[:port], with no option but "
        "?starttls=true or ?starttls=false.",
        None,
        _SET,
    ),
    _e(
        "invalid_referral_code",
        _I,
        "Not a referral code (wrong length, letters or check symbol): check it for a typo.",
        "A4",
    ),
    # webhooks
    _e(
        "invalid_url",
        _I,
        "The webhook URL is not a URL with a host, or contains spaces or control characters.",
    ),
    _e(
        "webhook_url_not_allowed",
        _I,
        "Webhook URLs are http or https and resolve to public addresses only (no loopback, "
        "private or link-local address).",
    ),
    _e(
        "webhook_url_unresolvable",
        _I,
        "The webhook URL's host name does not resolve; check it, or register the endpoint once "
        "DNS has it.",
    ),
    _e(
        "unknown_event_type",
        _I,
        "An event type a webhook endpoint asks for does not exist (the message lists them).",
    ),
    _e(
        "invalid_webhook_secret",
        _I,
        "A signing secret is 'whsec_' followed by 24-64 random bytes in base64; or send none "
        "and allot makes one.",
    ),
    # the command line
    _e("invalid_role", _I, "A key's role must be operator, account or partner.", None, _CLI),
    _e("subject_not_allowed", _I, "An operator key acts for nobody: leave out --for.", None, _CLI),
    _e(
        "subject_required",
        _I,
        "An account or partner key needs --for ID: whom it acts for.",
        None,
        _CLI,
    ),
    _e("invalid_pair", _I, "An option's value must be name=value.", None, _CLI),
    _e(
        "invalid_allowance",
        _I,
        "A package allowance must be metric=whole number (e.g. card_operations=100).",
        "K1",
        _CLI,
    ),
    _e(
        "invalid_line",
        _I,
        "A credit-note line must be POSITION=AMOUNT (e.g. --line 1=10.00).",
        "B5",
        _CLI,
    ),
    _e("one_of", _I, "Give exactly one of --cap, --unlimited and --none.", "R2", _CLI),
    _e(
        "missing_columns",
        _I,
        "The orders CSV lacks header columns: order_id, placed_at, and account_id unless "
        "--account is given.",
        "R1",
        _CLI,
    ),
    # --- IdempotencyMismatch (422) --------------------------------------------------------
    _e(
        "idempotency_key_reused",
        "IdempotencyMismatch",
        "This Idempotency-Key was already used with a different body; use a new key for a new "
        "request, or resend the first body to get the first answer.",
        "U1, S3",
    ),
    # --- NotFound (404) -------------------------------------------------------------------
    _e("card_setup_not_found", _N, "No card setup for this account: start one first."),
    _e("payment_method_not_found", _N, "The account has no card on file."),
    _e("credit_note_not_found", _N, "No credit note with that number."),
    _e("payment_not_found", _N, "No such payment of this account."),
    _e(
        "seller_not_set", _N, "The operator has not set its seller identity yet (`PUT /v1/seller`)."
    ),
    _e(
        "account_not_found",
        _N,
        "No such account, or not one this key may see (both answer the same).",
    ),
    _e(
        "partner_not_found",
        _N,
        "No such partner, or not one this key may see (both answer the same).",
        "A3",
    ),
    _e("plan_not_found", _N, "No plan with this code in the catalog.", "C2"),
    _e(
        "metric_not_found",
        _N,
        "No metric with this code in the catalog: the metric of an action or a seat, of a "
        "code's package or of a partner's prices.",
        "C1",
    ),
    _e("subscription_not_found", _N, "The account has no live subscription with this id.", "A2"),
    _e("invoice_not_found", _N, "No such invoice, or not one this key may see.", "B5"),
    _e("key_not_found", _N, "No API key with this id.", None, _CLI),
    _e("grant_not_found", _N, "No grant with this id.", "K1", _CLI),
    _e(
        "code_not_found",
        _N,
        "No claimable Access Code matches: it is mistyped, already claimed by another business, "
        "or revoked; check it with the partner who gave it. For a partner, the code number is "
        "not one of its own.",
        "K2",
    ),
    _e(
        "seat_not_held",
        _N,
        "This holder holds no seat of the metric, so there is nothing to release.",
        "U6",
    ),
    _e(
        "referral_not_enabled",
        _N,
        "Referral is not switched on for this account; the operator switches it on.",
        "A4",
    ),
    _e(
        "referral_code_not_found",
        _N,
        "No referral program has this code, or its referral was switched off.",
        "A4",
    ),
    _e("webhook_endpoint_not_found", _N, "No webhook endpoint with this id."),
    _e("webhook_delivery_not_found", _N, "No webhook delivery with this id."),
    # --- Conflict (409) -------------------------------------------------------------------
    _e(
        "credit_note_not_charged",
        _C,
        "Nothing of the credit note gave back money paid: it lowered what its invoice asked "
        "for, so there is nothing of it to refund or to keep as credit.",
        "P4",
    ),
    _e(
        "invoice_not_paid_by_card",
        _C,
        "A credit note refunds to a card only when its invoice was paid by card; otherwise "
        "what it gives back is kept as the account's credit balance.",
        "P4",
    ),
    _e(
        "credit_already_applied",
        _C,
        "The credit note was kept as credit, and the balance no longer holds it all (later "
        "invoices took it): it cannot be refunded to the card now.",
        "P4",
    ),
    _e(
        "refund_exceeds_payment",
        _C,
        "More than is left to refund of the card payment (the message says how much is left).",
    ),
    _e(
        "payments_not_configured",
        _C,
        "The API was started without a payment gateway (`create_app(gateway=…)`; `allot serve` "
        "always has one: ALLOT_PAYMENT_GATEWAY).",
    ),
    _e(
        "not_the_sandbox",
        _C,
        "Only the built-in sandbox provider takes test cards and confirmations through allot; "
        "with Stripe the card and the confirmation go through Stripe's own page.",
    ),
    _e(
        "payment_not_waiting",
        _C,
        "The payment is not waiting for the cardholder's confirmation (it succeeded, failed "
        "or was never asked).",
    ),
    _e(
        "invoice_not_collectible",
        _C,
        "The invoice is not waiting for a card payment: paid, closed, billed elsewhere, or "
        "waiting for the cardholder's confirmation.",
    ),
    _e(
        "account_exists",
        _C,
        "An account with this id exists already; pick another id, or read that one.",
        "A1",
    ),
    _e("partner_exists", _C, "A partner with this id exists already.", "A3"),
    _e(
        "already_subscribed",
        _C,
        "The account already has a plan on this product line; change that plan instead.",
        "A2",
    ),
    _e(
        "metric_already_metered",
        _C,
        "Another of the account's plans already meters one of this plan's metrics: one plan per "
        "metric.",
        "A2",
    ),
    _e("same_plan", _C, "The subscription is already on this plan.", "B4"),
    _e(
        "metric_kind_changed",
        _C,
        "The catalog would change a metric's kind (counter or gauge); define a new metric instead.",
        "C1, C5",
    ),
    _e("seat_already_held", _C, "This holder already holds a seat of the metric.", "U6"),
    _e(
        "code_not_available",
        _C,
        "The code is claimed or revoked, so it can no longer be assigned or e-mailed.",
        "K2",
    ),
    _e("code_ended", _C, "The fixed-term code has ended; its activation link is not sent.", "K3"),
    _e(
        "inventory_exceeded",
        _R,
        "The code's package asks for more of a resource than the partner's inventory has left "
        "(the message says how much); the operator tops it up, or an unused code is revoked.",
        "A3",
    ),
    _e(
        "inventory_held",
        _C,
        "An inventory cannot go below what the partner's live codes hold.",
        "A3",
    ),
    _e("empty_top_up", _I, "An inventory top-up names at least one resource.", "A3"),
    _e(
        "weak_password",
        _I,
        "A user's password has 12 to 256 characters, more than a few of them different.",
        "W3",
        _CLI,
    ),
    _e("partner_required", _I, "A partner user needs --partner.", "W3", _CLI),
    _e("partner_not_allowed", _I, "An operator user acts for no partner.", "W3", _CLI),
    _e(
        "password_required",
        _I,
        "A user needs a password; a partner's user with an e-mail address may go without one "
        "(it signs in by e-mailed link).",
        "W3",
        _CLI,
    ),
    _e("user_exists", _C, "A user of that name exists already.", "W3", _CLI),
    _e("user_not_found", _N, "No user of that name.", "W3", _CLI),
    _e(
        "page_not_found",
        _N,
        "No such page for this user: a partner's pages are a partner's, the admin an operator's.",
        "W3",
    ),
    _e("code_revoked", _C, "The code was revoked: it can no longer be paused or resumed.", "K5"),
    _e(
        "code_in_use",
        _C,
        "The code has been used by its business, so it cannot be revoked; pause it instead.",
        "K5",
    ),
    _e("self_referral", _C, "An account cannot sign up through its own referral link.", "A4"),
    _e(
        "referral_currency_mismatch",
        _C,
        "The referrer bills in another currency; a reward is credited in the currency it was "
        "earned in, so this referral cannot be recorded.",
        "A4",
    ),
    _e("already_referred", _C, "The account was already referred by someone.", "A4"),
    _e(
        "invoice_not_open",
        _C,
        "The invoice's state does not allow this settlement (e.g. paying a void invoice).",
        "B5",
    ),
    _e(
        "invoice_not_creditable",
        _C,
        "Only a finalized (or paid, or uncollectible) invoice is corrected by a credit note.",
        "B5",
    ),
    _e("invoice_fully_credited", _C, "The invoice is already fully credited.", "B5"),
    _e(
        "webhook_endpoint_disabled",
        _C,
        "The delivery's endpoint was removed, so it cannot be sent again.",
        None,
    ),
    _e(
        "webhook_delivery_in_flight",
        _C,
        "This delivery is being sent right now; look at it again once the attempt is over.",
        None,
    ),
    # --- Refused (409) --------------------------------------------------------------------
    _e(
        "top_up_not_on_free_plan",
        _R,
        "Top-ups are not sold on a free plan; upgrade to a paid plan.",
        "R2",
    ),
    _e(
        "top_up_not_offered",
        _R,
        "This plan has no top-up price, so it sells no top-up.",
        "R2",
    ),
    _e(
        "no_orders_plan",
        _R,
        "The account is on no plan that counts orders; subscribe it to one first (in the "
        "reviews-loyalty preset: a Reviews, Loyalty or Full Suite plan).",
        "R1",
    ),
    _e(
        "sign_in_not_configured",
        _R,
        "Sign-in links by e-mail need ALLOT_SMTP_URL and ALLOT_PUBLIC_URL: the link is made "
        "with the public address, never with the request's Host header.",
        "W1",
    ),
    _e(
        "email_not_configured",
        _R,
        "This allot sends no e-mail: the operator sets ALLOT_SMTP_URL (and runs allot worker). "
        "Assign the code instead.",
        "K2",
    ),
    _e(
        "too_many_emails",
        _R,
        "The code's activation link was e-mailed 5 times already; assign the code to the "
        "business instead.",
        "K2",
    ),
    # --- Unauthenticated (401), Forbidden (403), RateLimited (429) ------------------------
    _e("missing_api_key", "Unauthenticated", "Send `Authorization: Bearer <API key>`."),
    _e(
        "invalid_api_key",
        "Unauthenticated",
        "This API key is unknown or revoked; ask the operator for a key.",
    ),
    _e("operator_only", "Forbidden", "Only an operator key may do this."),
    _e(
        "portal_session_required",
        "Unauthenticated",
        "The billing page needs a session: open it from the link the platform gives (its "
        "session lasts 8 hours).",
        "W1",
    ),
    _e(
        "portal_link_invalid",
        "Forbidden",
        "A billing-page link works once, within 15 minutes of being asked for: ask for a new one.",
        "W1",
    ),
    _e(
        "csrf_token_invalid",
        "Forbidden",
        "A form of the billing page was sent without its session's CSRF token (or another's).",
        "W1",
    ),
    _e(
        "sign_in_failed",
        "Unauthenticated",
        "The name, password or TOTP code is wrong, or the user is locked (5 failures in a row: "
        "15 minutes; `allot users unlock`) or disabled. Every case reads the same.",
        "W3",
    ),
    _e(
        "user_session_required",
        "Unauthenticated",
        "The partner portal or the admin needs a signed-in user: sign in at /sign-in.",
        "W3",
    ),
    _e(
        "sign_in_link_invalid",
        "Forbidden",
        "A partner's sign-in link works once, within 15 minutes: ask for a new one.",
        "W3",
    ),
    _e("read_only", "Forbidden", "operator-support reads the admin and changes nothing.", "W3"),
    _e(
        "rate_limited",
        "RateLimited",
        "Too many requests for this key just now (ALLOT_RATE_LIMIT; claiming a code: 10 a "
        "minute per key and per account, SPEC K2); retry after `Retry-After` seconds.",
    ),
    # --- answered by allot.http itself ----------------------------------------------------
    _e(
        "invalid_request",
        422,
        "The body, query or a header does not match the schema; `errors` lists each field at "
        "fault with Pydantic's error type as its code (e.g. `missing`, `string_too_long`).",
    ),
    _e(
        "invalid_value",
        422,
        "A value cannot be stored (e.g. a NUL character in a text); nothing was written.",
    ),
    _e(
        "concurrent_change",
        409,
        "Another request changed the same thing first; nothing was written: retry.",
    ),
    _e("not_found", 404, "No route has this path; check it against the OpenAPI document."),
    _e(
        "method_not_allowed",
        405,
        "The path exists, not with this method; the `Allow` header lists its methods.",
    ),
    _e(
        "request_too_large",
        413,
        "Request bodies are limited to 2 MB; send less at once (e.g. smaller batches).",
    ),
    _e(
        "http_error",
        400,
        "Any other HTTP error the framework raises, in practice a 400 for a body that cannot be "
        "read; `status` says which.",
    ),
)

CODES_BY_NAME: dict[str, ErrorCode] = {c.code: c for c in CODES}

DYNAMIC_SITES: dict[str, str] = {
    # The places that raise a code not written where they raise it, and what they can raise.
    _COUNT: "f'invalid_{field}', for each count of the Reviews gate it checks",
    "allot/core/periods.py: Month.from_input": "re-raises Month.parse's code (invalid_month)",
    "allot/cli/reviews.py: _on_line": "re-raises the code of an order's refusal, on its line",
    "allot/kit/validate.py: on_the_wire.run": "a body rule's InvalidInput code (date_out_of_range)",
}


_SEEN_NOTE = {
    Seen.API: "",
    Seen.CLI: "*Command line only.* ",
    Seen.SETTINGS: "*A setting.* ",
    Seen.CATALOG: "*Inside `invalid_catalog`.* ",
    Seen.INTERNAL: "*Internal check: report it if you see it.* ",
}

_INTRO = """\
# Error codes

<!-- Generated from src/allot/core/error_codes.py; do not edit by hand. Regenerate with:
     uv run --no-sync python -m allot.core.error_codes > docs/errors.md -->

Every refusal of the HTTP API is an RFC 9457 `application/problem+json` answer:

```json
{"type": "https://allot.dev/problems/unknown_time_zone", "title": "Unknown time zone",
 "status": 422, "code": "unknown_time_zone", "detail": "'Mars/Olympus' is not an IANA time zone",
 "errors": [{"field": "timezone", "code": "unknown_time_zone", "detail": "..."}]}
```

* **`code`** is stable: branch on it. `title` and `detail` are for people and may change.
* **`status`** follows the code's family (the tables below): a code never changes status.
* **`errors`** names the fields at fault: for a domain error, one entry with the same code;
  for `invalid_request`, one entry per field with Pydantic's error type as its code
  (<https://docs.pydantic.dev/latest/errors/validation_errors/>).
* **`type`** is `https://allot.dev/problems/` followed by the code. It identifies the
  problem type, as RFC 9457 asks, and is not a page allot serves: RFC 9457 asks
  clients not to dereference it automatically. What a type means is written here:
  each code below is an anchor of its own name, so `type`'s last segment `X` is
  described at `docs/errors.md#X`. The `type` is not pointed at this file instead:
  clients may compare it, so changing it would change every answer, and a relative
  reference would resolve against the request's URL, which serves no such page.
* In a batch (`POST /v1/accounts/{id}/consume/batch`) a failed action's `problem` is
  `{"status", "code", "detail", "errors"}` with the same codes.
* The command line prints `error: CODE [FIELD]: MESSAGE` and exits with status 2 (an
  invalid catalog prints its problems instead, one per line).

Some codes are marked: *Command line only*; *A setting* (an `ALLOT_*` variable is
wrong, found at start-up or by the command that reads it); *Inside `invalid_catalog`*
(a catalog file's problem, listed in that error's `detail`); *Internal check* (the
engine checking its own arguments: an answer with one of these is a bug to report).
Rule ids (U8, B7, …) are those of the product specification.
"""


def _heading(family: Family) -> str:
    if isinstance(family.name, int):
        return f"HTTP {family.name} (allot.http)"
    return f"{family.name} ({family.status})"


def _cell(entry: ErrorCode) -> str:
    rule = f" (SPEC {entry.rule})" if entry.rule else ""
    return f"{_SEEN_NOTE[entry.seen]}{entry.meaning}{rule}"


def markdown(codes: Sequence[ErrorCode] = CODES) -> str:
    """docs/errors.md: the introduction, then a table per family."""
    out = [_INTRO]
    for family in FAMILIES:
        mine = sorted((c for c in codes if c.family == family.name), key=lambda c: c.code)
        out.append(f"\n## {_heading(family)}\n\n{family.summary}\n")
        if not mine:
            out.append("\nNo code is raised with this family today.\n")
            continue
        out.append("\n| code | HTTP status | meaning |\n|---|---|---|\n")
        out.extend(f'| <a id="{c.code}"></a>`{c.code}` | {c.status} | {_cell(c)} |\n' for c in mine)
    return "".join(out)


def main() -> int:
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
