"""`Client`: one method for each operation of the allot API.

The methods are kept by hand, named in the business's words, with options as
keyword-only arguments; what they answer are the models generated from the
server's OpenAPI document (`allot_client.models`). A refused request raises
`AllotError`. `tests/client/test_coverage.py` sends every method through a
recording transport and checks that together they make every operation of
the document, each exactly once.

A body is plain JSON built here, not a request model: the server alone judges
a request, so a refusal is always the server's `AllotError` with the field named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from allot_client.errors import AllotError
from allot_client.models import (
    AccountPage,
    AccountRead,
    AckRead,
    AuditPage,
    BatchAction,
    BatchResponse,
    BillingDetailsBody,
    BillingRunRead,
    BillingStatusRead,
    CardRead,
    CardSetupRead,
    ClaimedRead,
    ClockRead,
    CodeRead,
    CollectionRead,
    CreditBalanceRead,
    CreditNoteRead,
    Decision,
    DeliveryDetail,
    DeliveryPage,
    DeliveryRead,
    EmailRead,
    EndpointCreated,
    EndpointRead,
    EntryPage,
    Health,
    IngestRead,
    InvoicePage,
    InvoiceRead,
    LoadReportRead,
    MonthAdviceRead,
    OrderWrite,
    PartnerMonthRead,
    PartnerRead,
    PaymentRead,
    PlanChangePreviewRead,
    PlanChangeRead,
    PlanRead,
    PortalLinkRead,
    QuantityChangePreviewRead,
    QuantityChangeRead,
    ReferralRead,
    RefundRead,
    RequestPage,
    ReviewsRead,
    StockRead,
    SubscriptionRead,
    UsageRead,
)

M = TypeVar("M", bound=BaseModel)

#: An exact amount: a Decimal, or its text ("19.90"); never a float.
Amount = Decimal | str | int


class Client:
    """The allot API at `base_url` (the server's root, e.g. `http://127.0.0.1:8000`).

    Thread-safe: one client may serve many threads. Close it, or use it as a
    context manager.
    """

    #: Methods that are another way to call an operation another method already makes.
    shortcuts = ("advance_clock",)

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------

    def _send(
        self,
        method: str,
        template: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        **path: str | int,
    ) -> httpx.Response:
        url = template.format_map({k: quote(str(v), safe="") for k, v in path.items()})
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else None
        body = None if json is None else _plain({k: v for k, v in json.items() if v is not None})
        query = None if params is None else {k: v for k, v in params.items() if v is not None}
        response = self._http.request(method, url, json=body, params=query, headers=headers)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": "http_error", "detail": response.text}
            if not isinstance(problem, dict):
                problem = {"code": "http_error", "detail": response.text}
            if "retry-after" in response.headers:
                problem["retry_after"] = response.headers["retry-after"]
            raise AllotError(response.status_code, problem)
        return response

    def _one(self, model: type[M], method: str, template: str, **kwargs: Any) -> M:
        return model.model_validate_json(self._send(method, template, **kwargs).content)

    def _many(self, model: type[M], method: str, template: str, **kwargs: Any) -> list[M]:
        items = self._send(method, template, **kwargs).json()
        return [model.model_validate(item) for item in items]

    # -- health and catalog ---------------------------------------------------

    def health(self) -> Health:
        return self._one(Health, "GET", "/v1/health")

    def catalog(self) -> list[PlanRead]:
        """Every plan of every catalog, with its definition."""
        return self._many(PlanRead, "GET", "/v1/catalog")

    def load_catalog(
        self, yaml: str, *, name: str = "catalog.yaml", idempotency_key: str | None = None
    ) -> LoadReportRead:
        """Load a catalog file's text; `name` is shown in its error messages."""
        return self._one(
            LoadReportRead,
            "POST",
            "/v1/catalog",
            json={"name": name, "yaml": yaml},
            idempotency_key=idempotency_key,
        )

    # -- payments (P1-P4) -------------------------------------------------------

    def billing_status(self, account_id: str) -> BillingStatusRead:
        """The billing page's banner: what is past due, the next retry, the action."""
        return self._one(
            BillingStatusRead, "GET", "/v1/accounts/{account_id}/billing-status",
            account_id=account_id,
        )  # fmt: skip

    def credit_balance(
        self, account_id: str, *, limit: int = 100, after: int | None = None
    ) -> CreditBalanceRead:
        """The account's credit balance and its moves, newest first (P4)."""
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        return self._one(
            CreditBalanceRead, "GET", "/v1/accounts/{account_id}/credit-balance",
            account_id=account_id, params=params,
        )  # fmt: skip

    def portal_link(self, account_id: str) -> PortalLinkRead:
        """A single-use link (15 minutes) to the account's billing page, for its browser."""
        return self._one(
            PortalLinkRead, "POST", "/v1/accounts/{account_id}/portal-sessions",
            account_id=account_id,
        )  # fmt: skip

    def start_card_setup(self, account_id: str) -> CardSetupRead:
        """A card setup at the provider; Stripe.js confirms it with `client_secret`."""
        return self._one(
            CardSetupRead, "POST", "/v1/accounts/{account_id}/payment-method/setup",
            account_id=account_id,
        )  # fmt: skip

    def save_card(self, account_id: str, setup_ref: str) -> CardRead:
        """The card a confirmed setup saved; every open invoice is retried next round."""
        return self._one(
            CardRead, "PUT", "/v1/accounts/{account_id}/payment-method",
            account_id=account_id, json={"setup_ref": setup_ref},
        )  # fmt: skip

    def card(self, account_id: str) -> CardRead:
        return self._one(
            CardRead, "GET", "/v1/accounts/{account_id}/payment-method", account_id=account_id
        )

    def sandbox_card(
        self, account_id: str, number: str, *, exp_month: int = 12, exp_year: int = 2030
    ) -> CardRead:
        """A sandbox test card (4242 4242 4242 4242, …), saved at once (sandbox only)."""
        return self._one(
            CardRead, "POST", "/v1/accounts/{account_id}/payment-method/sandbox-card",
            account_id=account_id,
            json={"number": number, "exp_month": exp_month, "exp_year": exp_year},
        )  # fmt: skip

    def payments(self, account_id: str) -> list[PaymentRead]:
        """Every charge attempt of the account, newest first."""
        return self._many(
            PaymentRead, "GET", "/v1/accounts/{account_id}/payments", account_id=account_id
        )

    def sandbox_confirm(
        self, account_id: str, payment_id: int, *, success: bool = True
    ) -> PaymentRead:
        """The sandbox's confirmation page: the cardholder authenticates (or fails)."""
        return self._one(
            PaymentRead, "POST", "/v1/accounts/{account_id}/payments/{payment_id}/sandbox-confirm",
            account_id=account_id, payment_id=payment_id, json={"success": success},
        )  # fmt: skip

    def cancel_subscription(self, account_id: str, subscription_id: int) -> SubscriptionRead:
        """Now: nothing is charged after this."""
        return self._one(
            SubscriptionRead, "POST",
            "/v1/accounts/{account_id}/subscriptions/{subscription_id}/cancel",
            account_id=account_id, subscription_id=subscription_id,
        )  # fmt: skip

    def refund_credit_note(self, number: str) -> RefundRead:
        """Give a credit note back to the card that paid its invoice, once (operator)."""
        return self._one(RefundRead, "POST", "/v1/credit-notes/{number}/refund", number=number)

    def collect_invoice(self, invoice_id: int) -> CollectionRead:
        """Charge the invoice in the next worker round (operator)."""
        return self._one(
            CollectionRead, "POST", "/v1/invoices/{invoice_id}/collect", invoice_id=invoice_id
        )

    # -- the seller -------------------------------------------------------------

    def seller(self) -> BillingDetailsBody:
        """The operator's identity that documents are issued under now."""
        return self._one(BillingDetailsBody, "GET", "/v1/seller")

    def set_seller(
        self,
        *,
        legal_name: str,
        address: Mapping[str, str],
        email: str | None = None,
        tax_id: str | None = None,
    ) -> BillingDetailsBody:
        """On every invoice and credit note issued from now on (address: line1, city, country,
        and line2, region, postal_code if any)."""
        body = {"legal_name": legal_name, "address": address, "email": email, "tax_id": tax_id}
        return self._one(BillingDetailsBody, "PUT", "/v1/seller", json=body)

    # -- accounts and subscriptions -------------------------------------------

    def accounts(self, *, after: str | None = None, limit: int = 100) -> AccountPage:
        """Accounts by id; pass `next_after` as `after` for the next page."""
        return self._one(
            AccountPage, "GET", "/v1/accounts", params={"after": after, "limit": limit}
        )

    def create_account(
        self,
        account_id: str,
        *,
        name: str,
        timezone: str,
        currency: str,
        locale: str = "en",
        billing_channel: str = "card",
        tax_rate: Amount | None = None,
        billing_details: Mapping[str, Any] | None = None,
        referral_code: str | None = None,
        idempotency_key: str | None = None,
    ) -> AccountRead:
        """`billing_details`: legal_name, email, tax_id, address {line1, line2, city, region,
        postal_code, country} — printed on its invoices."""
        body = {
            "id": account_id,
            "name": name,
            "timezone": timezone,
            "currency": currency,
            "locale": locale,
            "billing_channel": billing_channel,
            "tax_rate": tax_rate,
            "billing_details": billing_details,
            "referral_code": referral_code,
        }
        return self._one(
            AccountRead, "POST", "/v1/accounts", json=body, idempotency_key=idempotency_key
        )

    def account(self, account_id: str) -> AccountRead:
        return self._one(AccountRead, "GET", "/v1/accounts/{account_id}", account_id=account_id)

    def update_account(
        self,
        account_id: str,
        *,
        name: str | None = None,
        timezone: str | None = None,
        locale: str | None = None,
        billing_channel: str | None = None,
        tax_rate: Amount | None = None,
        billing_details: Mapping[str, Any] | None = None,
    ) -> AccountRead:
        """Change what is given; a new time zone takes effect from the next month, new
        `billing_details` replace the old whole (`{}` clears them)."""
        body = {
            "name": name,
            "timezone": timezone,
            "locale": locale,
            "billing_channel": billing_channel,
            "tax_rate": tax_rate,
            "billing_details": billing_details,
        }
        return self._one(
            AccountRead, "PATCH", "/v1/accounts/{account_id}", account_id=account_id, json=body
        )

    def subscriptions(self, account_id: str) -> list[SubscriptionRead]:
        return self._many(
            SubscriptionRead,
            "GET",
            "/v1/accounts/{account_id}/subscriptions",
            account_id=account_id,
        )

    def subscribe(
        self,
        account_id: str,
        plan: str,
        *,
        quantity: int = 1,
        started_on: date | None = None,
        idempotency_key: str | None = None,
    ) -> SubscriptionRead:
        """Put the account on `plan` from `started_on` (default: today, locally)."""
        return self._one(
            SubscriptionRead,
            "POST",
            "/v1/accounts/{account_id}/subscriptions",
            account_id=account_id,
            json={"plan": plan, "quantity": quantity, "started_on": started_on},
            idempotency_key=idempotency_key,
        )

    def change_quantity(
        self,
        account_id: str,
        subscription_id: int,
        quantity: int,
        *,
        idempotency_key: str | None = None,
    ) -> SubscriptionRead:
        """The operator's PATCH: the same change as `quantity_change`, answered with the
        subscription."""
        return self._one(
            SubscriptionRead,
            "PATCH",
            "/v1/accounts/{account_id}/subscriptions/{subscription_id}",
            account_id=account_id,
            subscription_id=subscription_id,
            json={"quantity": quantity},
            idempotency_key=idempotency_key,
        )

    def preview_quantity_change(
        self, account_id: str, subscription_id: int, quantity: int
    ) -> QuantityChangePreviewRead:
        """What `quantity_change` would do and charge; changes nothing."""
        return self._one(
            QuantityChangePreviewRead,
            "POST",
            "/v1/accounts/{account_id}/subscriptions/{subscription_id}/quantity-change/preview",
            account_id=account_id,
            subscription_id=subscription_id,
            json={"quantity": quantity},
        )

    def quantity_change(
        self,
        account_id: str,
        subscription_id: int,
        quantity: int,
        *,
        idempotency_key: str | None = None,
    ) -> QuantityChangeRead:
        """An increase now with its prorated invoice, or a decrease at the renewal."""
        return self._one(
            QuantityChangeRead,
            "POST",
            "/v1/accounts/{account_id}/subscriptions/{subscription_id}/quantity-change",
            account_id=account_id,
            subscription_id=subscription_id,
            json={"quantity": quantity},
            idempotency_key=idempotency_key,
        )

    def preview_plan_change(
        self, account_id: str, subscription_id: int, plan: str
    ) -> PlanChangePreviewRead:
        """What `change_plan` would do and charge; changes nothing."""
        return self._one(
            PlanChangePreviewRead,
            "POST",
            "/v1/accounts/{account_id}/subscriptions/{subscription_id}/plan-change/preview",
            account_id=account_id,
            subscription_id=subscription_id,
            json={"plan": plan},
        )

    def change_plan(
        self,
        account_id: str,
        subscription_id: int,
        plan: str,
        *,
        idempotency_key: str | None = None,
    ) -> PlanChangeRead:
        """An upgrade now with its prorated invoice, or a downgrade at the renewal."""
        return self._one(
            PlanChangeRead,
            "POST",
            "/v1/accounts/{account_id}/subscriptions/{subscription_id}/plan-change",
            account_id=account_id,
            subscription_id=subscription_id,
            json={"plan": plan},
            idempotency_key=idempotency_key,
        )

    def advice(self, account_id: str, *, month: str | None = None) -> list[MonthAdviceRead]:
        """The cost of staying against each plan above, for `month` (YYYY-MM) or the last two."""
        return self._many(
            MonthAdviceRead,
            "GET",
            "/v1/accounts/{account_id}/advice",
            account_id=account_id,
            params={"month": month},
        )

    # -- usage ----------------------------------------------------------------

    def consume(
        self,
        account_id: str,
        metric: str,
        quantity: int = 1,
        *,
        idempotency_key: str,
        occurred_at: datetime | None = None,
    ) -> Decision:
        """`quantity` units of `metric`: allowed or refused, and which source paid for each.

        The key makes a retry safe: the same key answers the first decision.
        """
        return self._one(
            Decision,
            "POST",
            "/v1/accounts/{account_id}/consume",
            account_id=account_id,
            json={"metric": metric, "quantity": quantity, "occurred_at": occurred_at},
            idempotency_key=idempotency_key,
        )

    def consume_batch(
        self, account_id: str, actions: Sequence[BatchAction | Mapping[str, Any]]
    ) -> BatchResponse:
        """Many actions, each with its own `idempotency_key`; one result each, in order."""
        return self._one(
            BatchResponse,
            "POST",
            "/v1/accounts/{account_id}/consume/batch",
            account_id=account_id,
            json={"actions": actions},
        )

    def take_seat(
        self, account_id: str, holder: str, *, idempotency_key: str, metric: str = "staff_seats"
    ) -> Decision:
        return self._one(
            Decision,
            "POST",
            "/v1/accounts/{account_id}/seats/take",
            account_id=account_id,
            json={"holder": holder, "metric": metric},
            idempotency_key=idempotency_key,
        )

    def release_seat(
        self, account_id: str, holder: str, *, idempotency_key: str, metric: str = "staff_seats"
    ) -> Decision:
        return self._one(
            Decision,
            "POST",
            "/v1/accounts/{account_id}/seats/release",
            account_id=account_id,
            json={"holder": holder, "metric": metric},
            idempotency_key=idempotency_key,
        )

    def usage(self, account_id: str, *, month: str | None = None) -> UsageRead:
        """The billing page's figures for `month` (YYYY-MM; default this month)."""
        return self._one(
            UsageRead,
            "GET",
            "/v1/accounts/{account_id}/usage",
            account_id=account_id,
            params={"month": month},
        )

    def ledger(
        self,
        account_id: str,
        *,
        month: str | None = None,
        metric: str | None = None,
        source: str | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> EntryPage:
        """The usage entries behind the counters, oldest first; page with `next_after`."""
        return self._one(
            EntryPage,
            "GET",
            "/v1/accounts/{account_id}/ledger",
            account_id=account_id,
            params={
                "month": month,
                "metric": metric,
                "source": source,
                "after": after,
                "limit": limit,
            },
        )

    # -- referral -------------------------------------------------------------

    def referral(self, account_id: str) -> ReferralRead:
        """The account's referral link, what it earned and whom it brought."""
        return self._one(
            ReferralRead, "GET", "/v1/accounts/{account_id}/referral", account_id=account_id
        )

    def enable_referral(self, account_id: str) -> ReferralRead:
        """Switch the account's referral link on (the same code as before, if it had one)."""
        return self._one(
            ReferralRead, "PUT", "/v1/accounts/{account_id}/referral", account_id=account_id
        )

    def disable_referral(self, account_id: str) -> ReferralRead:
        return self._one(
            ReferralRead, "DELETE", "/v1/accounts/{account_id}/referral", account_id=account_id
        )

    # -- orders and review requests -------------------------------------------

    def report_orders(
        self, account_id: str, orders: Sequence[OrderWrite | Mapping[str, Any]]
    ) -> IngestRead:
        """The store's orders (`id`, `placed_at`, `excluded`); a known id counts once."""
        return self._one(
            IngestRead,
            "POST",
            "/v1/accounts/{account_id}/orders",
            account_id=account_id,
            json={"orders": orders},
        )

    def reviews(self, account_id: str) -> ReviewsRead:
        """The Reviews page: orders, those within the plan, topped up, and requests."""
        return self._one(
            ReviewsRead, "GET", "/v1/accounts/{account_id}/reviews", account_id=account_id
        )

    def set_top_up(self, account_id: str, mode: str, *, cap: Amount | None = None) -> ReviewsRead:
        """`mode` none, defined (with a `cap` per month) or unlimited."""
        return self._one(
            ReviewsRead,
            "PUT",
            "/v1/accounts/{account_id}/top-up",
            account_id=account_id,
            json={"mode": mode, "cap": cap},
        )

    def review_requests(
        self,
        account_id: str,
        *,
        state: str = "to_send",
        after: str | None = None,
        limit: int = 1000,
    ) -> RequestPage:
        """The review requests in `state` (to_send, waiting, …); page with `next_after`."""
        return self._one(
            RequestPage,
            "GET",
            "/v1/accounts/{account_id}/review-requests",
            account_id=account_id,
            params={"state": state, "after": after, "limit": limit},
        )

    def ack_review_requests(self, account_id: str, order_ids: Sequence[str]) -> AckRead:
        """Say these requests were sent; the answer names those that were not to be."""
        return self._one(
            AckRead,
            "POST",
            "/v1/accounts/{account_id}/review-requests/ack",
            account_id=account_id,
            json={"order_ids": order_ids},
        )

    # -- partners and Access Codes --------------------------------------------

    def enroll_partner(
        self,
        partner_id: str,
        *,
        name: str,
        kind: str,
        contact: str,
        currency: str,
        wholesale_discount: Amount,
        prices: Mapping[str, Amount] | None = None,
        idempotency_key: str | None = None,
    ) -> PartnerRead:
        """`kind`: agency, consultant, pos_vendor or restaurant_consultant; `prices` per
        resource per month, before the `wholesale_discount` (0.30 = 30 % off)."""
        body = {
            "id": partner_id,
            "name": name,
            "kind": kind,
            "contact": contact,
            "currency": currency,
            "wholesale_discount": wholesale_discount,
            "prices": prices,
        }
        return self._one(
            PartnerRead, "POST", "/v1/partners", json=body, idempotency_key=idempotency_key
        )

    def partners(self) -> list[PartnerRead]:
        return self._many(PartnerRead, "GET", "/v1/partners")

    def partner(self, partner_id: str) -> PartnerRead:
        return self._one(PartnerRead, "GET", "/v1/partners/{partner_id}", partner_id=partner_id)

    def issue_code(
        self,
        partner_id: str,
        allowances: Mapping[str, int],
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> CodeRead:
        """A new Access Code: a monthly allowance per metric, for life or until `ends_at`."""
        return self._one(
            CodeRead,
            "POST",
            "/v1/partners/{partner_id}/codes",
            partner_id=partner_id,
            json={"allowances": allowances, "starts_at": starts_at, "ends_at": ends_at},
            idempotency_key=idempotency_key,
        )

    def inventory(self, partner_id: str) -> list[StockRead]:
        """A3: per resource, bought, held by the partner's live codes, left (none: no cap)."""
        return self._many(
            StockRead, "GET", "/v1/partners/{partner_id}/inventory", partner_id=partner_id
        )

    def top_up_inventory(
        self,
        partner_id: str,
        add: Mapping[str, int],
        *,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> list[StockRead]:
        """Add monthly units per resource to the partner's inventory (operator)."""
        return self._many(
            StockRead,
            "POST",
            "/v1/partners/{partner_id}/inventory",
            partner_id=partner_id,
            json={"add": add, "note": note},
            idempotency_key=idempotency_key,
        )

    def codes(self, partner_id: str) -> list[CodeRead]:
        return self._many(CodeRead, "GET", "/v1/partners/{partner_id}/codes", partner_id=partner_id)

    def code(self, partner_id: str, number: int) -> CodeRead:
        return self._one(
            CodeRead,
            "GET",
            "/v1/partners/{partner_id}/codes/{number}",
            partner_id=partner_id,
            number=number,
        )

    def pause_code(self, partner_id: str, number: int) -> CodeRead:
        return self._one(
            CodeRead,
            "POST",
            "/v1/partners/{partner_id}/codes/{number}/pause",
            partner_id=partner_id,
            number=number,
        )

    def resume_code(self, partner_id: str, number: int) -> CodeRead:
        return self._one(
            CodeRead,
            "POST",
            "/v1/partners/{partner_id}/codes/{number}/resume",
            partner_id=partner_id,
            number=number,
        )

    def revoke_code(self, partner_id: str, number: int) -> CodeRead:
        """Revoke a code nobody uses yet; one in use answers 409 `code_in_use`."""
        return self._one(
            CodeRead,
            "POST",
            "/v1/partners/{partner_id}/codes/{number}/revoke",
            partner_id=partner_id,
            number=number,
        )

    def assign_code(self, partner_id: str, number: int, account_id: str) -> CodeRead:
        """Claim the code for `account_id` on the business's behalf."""
        return self._one(
            CodeRead,
            "POST",
            "/v1/partners/{partner_id}/codes/{number}/assign",
            partner_id=partner_id,
            number=number,
            json={"account_id": account_id},
        )

    def claim_code(self, account_id: str, code: str) -> ClaimedRead:
        """The business types the code it was given; its allowances are the account's."""
        return self._one(
            ClaimedRead,
            "POST",
            "/v1/accounts/{account_id}/codes/claim",
            account_id=account_id,
            json={"code": code},
        )

    def email_code(
        self,
        partner_id: str,
        number: int,
        to: str,
        *,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> EmailRead:
        """E-mail the code's activation link to `to`, with the partner's `note`."""
        return self._one(
            EmailRead,
            "POST",
            "/v1/partners/{partner_id}/codes/{number}/emails",
            partner_id=partner_id,
            number=number,
            json={"to": to, "note": note},
            idempotency_key=idempotency_key,
        )

    def code_emails(self, partner_id: str, number: int) -> list[EmailRead]:
        return self._many(
            EmailRead,
            "GET",
            "/v1/partners/{partner_id}/codes/{number}/emails",
            partner_id=partner_id,
            number=number,
        )

    def partner_report(self, partner_id: str, month: str) -> PartnerMonthRead:
        """Per code and business in `month` (YYYY-MM): used and available, and the charges."""
        return self._one(
            PartnerMonthRead,
            "GET",
            "/v1/partners/{partner_id}/report",
            partner_id=partner_id,
            params={"month": month},
        )

    def store_partner_charges(self, partner_id: str, month: str) -> PartnerMonthRead:
        """Store the partner's wholesale charges for `month`, to be invoiced."""
        return self._one(
            PartnerMonthRead,
            "POST",
            "/v1/partners/{partner_id}/charges",
            partner_id=partner_id,
            params={"month": month},
        )

    # -- webhooks ---------------------------------------------------------------

    def create_webhook_endpoint(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        secret: str | None = None,
        description: str = "",
        idempotency_key: str | None = None,
    ) -> EndpointCreated:
        """Deliver `event_types` to `url`, signed with `secret` (generated when left out and
        answered once, here)."""
        body = {
            "url": url,
            "event_types": event_types,
            "secret": secret,
            "description": description,
        }
        return self._one(
            EndpointCreated,
            "POST",
            "/v1/webhooks/endpoints",
            json=body,
            idempotency_key=idempotency_key,
        )

    def webhook_endpoints(self, *, include_disabled: bool = False) -> list[EndpointRead]:
        return self._many(
            EndpointRead,
            "GET",
            "/v1/webhooks/endpoints",
            params={"include_disabled": include_disabled},
        )

    def delete_webhook_endpoint(self, endpoint_id: int) -> None:
        """Stop delivering to the endpoint; it stays listed with `include_disabled`."""
        self._send("DELETE", "/v1/webhooks/endpoints/{endpoint_id}", endpoint_id=endpoint_id)

    def webhook_deliveries(
        self,
        *,
        endpoint_id: int | None = None,
        event_id: int | None = None,
        state: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> DeliveryPage:
        """Deliveries, newest first; pass `next_before` as `before` for older ones."""
        params = {
            "endpoint_id": endpoint_id,
            "event_id": event_id,
            "state": state,
            "before": before,
            "limit": limit,
        }
        return self._one(DeliveryPage, "GET", "/v1/webhooks/deliveries", params=params)

    def webhook_delivery(self, delivery_id: int) -> DeliveryDetail:
        """One delivery with its log of attempts."""
        return self._one(
            DeliveryDetail,
            "GET",
            "/v1/webhooks/deliveries/{delivery_id}",
            delivery_id=delivery_id,
        )

    def redeliver_webhook(self, delivery_id: int) -> DeliveryRead:
        """Send the delivery again, now."""
        return self._one(
            DeliveryRead,
            "POST",
            "/v1/webhooks/deliveries/{delivery_id}/redeliver",
            delivery_id=delivery_id,
        )

    # -- invoices -------------------------------------------------------------

    def invoices(
        self, account_id: str, *, after: int | None = None, limit: int = 100
    ) -> InvoicePage:
        """The account's invoices, newest first; pass `next_after` as `after` for older ones."""
        return self._one(
            InvoicePage,
            "GET",
            "/v1/accounts/{account_id}/invoices",
            account_id=account_id,
            params={"after": after, "limit": limit},
        )

    def partner_invoices(
        self, partner_id: str, *, after: int | None = None, limit: int = 100
    ) -> InvoicePage:
        return self._one(
            InvoicePage,
            "GET",
            "/v1/partners/{partner_id}/invoices",
            partner_id=partner_id,
            params={"after": after, "limit": limit},
        )

    def audit_events(
        self,
        *,
        actor_id: str | None = None,
        change: str | None = None,
        subject_kind: str | None = None,
        subject_id: str | None = None,
        account_id: str | None = None,
        partner_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> AuditPage:
        """The audit log, newest first (operator): `change` is exact (`code.paused`) or a
        family (`code.`); pass `next_before` as `before` for older events."""
        params = {
            "actor_id": actor_id, "change": change, "subject_kind": subject_kind,
            "subject_id": subject_id, "account_id": account_id, "partner_id": partner_id,
            "since": since, "until": until, "before": before, "limit": limit,
        }  # fmt: skip
        return self._one(AuditPage, "GET", "/v1/audit-events", params=params)

    def audit_events_csv(
        self,
        *,
        actor_id: str | None = None,
        change: str | None = None,
        subject_kind: str | None = None,
        subject_id: str | None = None,
        account_id: str | None = None,
        partner_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
    ) -> str:
        """The same events as CSV (up to 100,000), `before` and `after` as JSON text."""
        params = {
            "actor_id": actor_id, "change": change, "subject_kind": subject_kind,
            "subject_id": subject_id, "account_id": account_id, "partner_id": partner_id,
            "since": since, "until": until, "before": before,
        }  # fmt: skip
        return self._send("GET", "/v1/audit-events.csv", params=params).text

    def invoices_csv(self, account_id: str) -> str:
        """The account's invoices as CSV, one row each, for an accountant."""
        return self._send(
            "GET", "/v1/accounts/{account_id}/invoices.csv", account_id=account_id
        ).text

    def invoice(self, invoice_id: int) -> InvoiceRead:
        return self._one(InvoiceRead, "GET", "/v1/invoices/{invoice_id}", invoice_id=invoice_id)

    def invoice_pdf(self, invoice_id: int, *, lang: str | None = None) -> bytes:
        """The invoice document, as PDF bytes: in the language it was issued in, or `lang`
        (en, ko, th, hi, uk)."""
        return self._send(
            "GET", "/v1/invoices/{invoice_id}/pdf", invoice_id=invoice_id,
            params={"lang": lang},
        ).content  # fmt: skip

    def credit_note_pdf(self, number: str, *, lang: str | None = None) -> bytes:
        """A credit note (CN-2026-000001), as PDF bytes, in its language or `lang`."""
        return self._send(
            "GET", "/v1/credit-notes/{number}/pdf", number=number,
            params={"lang": lang},
        ).content  # fmt: skip

    def pay_invoice(
        self, invoice_id: int, *, note: str | None = None, idempotency_key: str | None = None
    ) -> InvoiceRead:
        """Mark the invoice paid (by bank transfer, say), with a `note`."""
        return self._one(
            InvoiceRead,
            "POST",
            "/v1/invoices/{invoice_id}/pay",
            invoice_id=invoice_id,
            json=None if note is None else {"note": note},
            idempotency_key=idempotency_key,
        )

    def void_invoice(
        self, invoice_id: int, reason: str, *, idempotency_key: str | None = None
    ) -> InvoiceRead:
        return self._one(
            InvoiceRead,
            "POST",
            "/v1/invoices/{invoice_id}/void",
            invoice_id=invoice_id,
            json={"reason": reason},
            idempotency_key=idempotency_key,
        )

    def mark_uncollectible(
        self, invoice_id: int, reason: str, *, idempotency_key: str | None = None
    ) -> InvoiceRead:
        return self._one(
            InvoiceRead,
            "POST",
            "/v1/invoices/{invoice_id}/uncollectible",
            invoice_id=invoice_id,
            json={"reason": reason},
            idempotency_key=idempotency_key,
        )

    def credit_note(
        self,
        invoice_id: int,
        reason: str,
        *,
        lines: Mapping[int, Amount] | None = None,
        settle: Literal["refund", "balance"] | None = None,
        idempotency_key: str | None = None,
    ) -> CreditNoteRead:
        """Take back `lines` (line position → amount before tax), or all that is left; what it
        gives back of money paid is kept as credit, or with `settle="refund"` refunded."""
        body: dict[str, Any] = {"reason": reason}
        if lines is not None:
            body["lines"] = [{"position": p, "amount": a} for p, a in lines.items()]
        if settle is not None:
            body["settle"] = settle
        return self._one(
            CreditNoteRead,
            "POST",
            "/v1/invoices/{invoice_id}/credit-notes",
            invoice_id=invoice_id,
            json=body,
            idempotency_key=idempotency_key,
        )

    # -- the invoice run and the clock (operator) -----------------------------

    def run_billing(self) -> BillingRunRead:
        """Issue every invoice that is due by the clock; a second run issues nothing."""
        return self._one(BillingRunRead, "POST", "/v1/billing/run")

    def clock(self) -> ClockRead:
        return self._one(ClockRead, "GET", "/v1/clock")

    def set_clock(self, now: datetime) -> ClockRead:
        """Simulate time: every answer of the API is as of `now` until the clock is reset."""
        return self._one(ClockRead, "PUT", "/v1/clock", json={"now": now})

    def advance_clock(self, *, months: int = 0, days: int = 0, hours: int = 0) -> ClockRead:
        """Move the simulated clock on (a month keeps the day where it can)."""
        advance = {"months": months, "days": days, "hours": hours}
        return self._one(ClockRead, "PUT", "/v1/clock", json={"advance": advance})

    def reset_clock(self) -> ClockRead:
        """Back to real time."""
        return self._one(ClockRead, "DELETE", "/v1/clock")


def _plain(value: Any) -> Any:
    """JSON for a body: models as they were given, datetimes in ISO 8601, Decimals as text."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return to_jsonable_python(value)
