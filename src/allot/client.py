"""A typed Python client for the allot HTTP API.

    from allot.client import Client
    allot = Client("http://127.0.0.1:8000", api_key="allot_op_…")
    decision = allot.consume("demo-coffee", "card_operations", idempotency_key="till-7:42")
    if not decision.allowed: ...

Responses are the same Pydantic models the server declares; an error answer
raises `AllotError` carrying the problem's `status`, `code` and field errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from allot.account.schemas import AccountPage, AccountRead, SubscriptionRead
from allot.billing.schemas import (
    MonthAdviceRead,
    PlanChangePreviewRead,
    PlanChangeRead,
    QuantityChangePreviewRead,
    QuantityChangeRead,
)
from allot.catalog.api import LoadReportRead, PlanRead
from allot.invoice.schemas import (
    BillingRunRead,
    ClockRead,
    CreditNoteRead,
    InvoicePage,
    InvoiceRead,
)
from allot.usage.schemas import BatchResponse, Decision, EntryPage, UsageRead

M = TypeVar("M", bound=BaseModel)


class AllotError(Exception):
    """An RFC 9457 problem answered by the API."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.code = str(problem.get("code", "http_error"))
        self.detail = str(problem.get("detail", ""))
        self.errors: list[dict[str, Any]] = list(problem.get("errors", []))
        self.retry_after = problem.get("retry_after")
        super().__init__(f"{status} {self.code}: {self.detail}")

    @property
    def field(self) -> str | None:
        return self.errors[0].get("field") if self.errors else None


class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/v1",
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

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        return self._send(
            method, path, json=json, params=params, idempotency_key=idempotency_key
        ).json()

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        clean = None if params is None else {k: v for k, v in params.items() if v is not None}
        response = self._http.request(method, path, json=json, params=clean, headers=headers)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": "http_error", "detail": response.text}
            if "retry-after" in response.headers:
                problem["retry_after"] = response.headers["retry-after"]
            raise AllotError(response.status_code, problem)
        return response

    @staticmethod
    def _as(model: type[M], data: Any) -> M:
        return model.model_validate(data)

    # -- health and catalog ---------------------------------------------------

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def catalog(self) -> list[PlanRead]:
        return TypeAdapter(list[PlanRead]).validate_python(self._call("GET", "/catalog"))

    def load_catalog(
        self, yaml: str, *, name: str = "catalog.yaml", idempotency_key: str | None = None
    ) -> LoadReportRead:
        return self._as(
            LoadReportRead,
            self._call(
                "POST",
                "/catalog",
                json={"name": name, "yaml": yaml},
                idempotency_key=idempotency_key,
            ),
        )

    # -- accounts and subscriptions -----------------------------------------------

    def create_account(
        self,
        account_id: str,
        *,
        name: str,
        timezone: str,
        currency: str,
        locale: str = "en",
        billing_channel: str = "card",
        idempotency_key: str | None = None,
    ) -> AccountRead:
        body = {
            "id": account_id,
            "name": name,
            "timezone": timezone,
            "currency": currency,
            "locale": locale,
            "billing_channel": billing_channel,
        }
        return self._as(
            AccountRead, self._call("POST", "/accounts", json=body, idempotency_key=idempotency_key)
        )

    def account(self, account_id: str) -> AccountRead:
        return self._as(AccountRead, self._call("GET", f"/accounts/{account_id}"))

    def update_account(self, account_id: str, **changes: str) -> AccountRead:
        return self._as(AccountRead, self._call("PATCH", f"/accounts/{account_id}", json=changes))

    def accounts(self, *, after: str | None = None, limit: int = 100) -> AccountPage:
        return self._as(
            AccountPage, self._call("GET", "/accounts", params={"after": after, "limit": limit})
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
        body = {
            "plan": plan,
            "quantity": quantity,
            "started_on": None if started_on is None else started_on.isoformat(),
        }
        return self._as(
            SubscriptionRead,
            self._call(
                "POST",
                f"/accounts/{account_id}/subscriptions",
                json=body,
                idempotency_key=idempotency_key,
            ),
        )

    def subscriptions(self, account_id: str) -> list[SubscriptionRead]:
        return TypeAdapter(list[SubscriptionRead]).validate_python(
            self._call("GET", f"/accounts/{account_id}/subscriptions")
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
        return self._as(
            SubscriptionRead,
            self._call(
                "PATCH",
                f"/accounts/{account_id}/subscriptions/{subscription_id}",
                json={"quantity": quantity},
                idempotency_key=idempotency_key,
            ),
        )

    def preview_quantity_change(
        self, account_id: str, subscription_id: int, quantity: int
    ) -> QuantityChangePreviewRead:
        return self._as(
            QuantityChangePreviewRead,
            self._call(
                "POST",
                f"/accounts/{account_id}/subscriptions/{subscription_id}/quantity-change/preview",
                json={"quantity": quantity},
            ),
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
        return self._as(
            QuantityChangeRead,
            self._call(
                "POST",
                f"/accounts/{account_id}/subscriptions/{subscription_id}/quantity-change",
                json={"quantity": quantity},
                idempotency_key=idempotency_key,
            ),
        )

    # -- usage ------------------------------------------------------------------------

    def consume(
        self,
        account_id: str,
        metric: str,
        quantity: int = 1,
        *,
        idempotency_key: str,
        occurred_at: datetime | None = None,
    ) -> Decision:
        body: dict[str, Any] = {"metric": metric, "quantity": quantity}
        if occurred_at is not None:
            body["occurred_at"] = occurred_at.isoformat()
        return self._as(
            Decision,
            self._call(
                "POST",
                f"/accounts/{account_id}/consume",
                json=body,
                idempotency_key=idempotency_key,
            ),
        )

    def consume_batch(self, account_id: str, actions: list[dict[str, Any]]) -> BatchResponse:
        return self._as(
            BatchResponse,
            self._call("POST", f"/accounts/{account_id}/consume/batch", json={"actions": actions}),
        )

    def take_seat(
        self, account_id: str, holder: str, *, idempotency_key: str, metric: str = "staff_seats"
    ) -> Decision:
        return self._as(
            Decision,
            self._call(
                "POST",
                f"/accounts/{account_id}/seats/take",
                json={"holder": holder, "metric": metric},
                idempotency_key=idempotency_key,
            ),
        )

    def release_seat(
        self, account_id: str, holder: str, *, idempotency_key: str, metric: str = "staff_seats"
    ) -> Decision:
        return self._as(
            Decision,
            self._call(
                "POST",
                f"/accounts/{account_id}/seats/release",
                json={"holder": holder, "metric": metric},
                idempotency_key=idempotency_key,
            ),
        )

    def usage(self, account_id: str, *, month: str | None = None) -> UsageRead:
        return self._as(
            UsageRead, self._call("GET", f"/accounts/{account_id}/usage", params={"month": month})
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
        return self._as(
            EntryPage,
            self._call(
                "GET",
                f"/accounts/{account_id}/ledger",
                params={
                    "month": month,
                    "metric": metric,
                    "source": source,
                    "after": after,
                    "limit": limit,
                },
            ),
        )

    # -- invoices -----------------------------------------------------------------------

    def invoices(
        self, account_id: str, *, after: int | None = None, limit: int = 100
    ) -> InvoicePage:
        """The account's invoices, newest first; pass `next_after` as `after` for older ones."""
        return self._as(
            InvoicePage,
            self._call(
                "GET", f"/accounts/{account_id}/invoices", params={"after": after, "limit": limit}
            ),
        )

    def partner_invoices(
        self, partner_id: str, *, after: int | None = None, limit: int = 100
    ) -> InvoicePage:
        return self._as(
            InvoicePage,
            self._call(
                "GET", f"/partners/{partner_id}/invoices", params={"after": after, "limit": limit}
            ),
        )

    def invoices_csv(self, account_id: str) -> str:
        return self._send("GET", f"/accounts/{account_id}/invoices.csv").text

    def invoice(self, invoice_id: int) -> InvoiceRead:
        return self._as(InvoiceRead, self._call("GET", f"/invoices/{invoice_id}"))

    def invoice_pdf(self, invoice_id: int) -> bytes:
        return self._send("GET", f"/invoices/{invoice_id}/pdf").content

    def pay_invoice(
        self, invoice_id: int, *, note: str | None = None, idempotency_key: str | None = None
    ) -> InvoiceRead:
        return self._as(
            InvoiceRead,
            self._call(
                "POST",
                f"/invoices/{invoice_id}/pay",
                json=None if note is None else {"note": note},
                idempotency_key=idempotency_key,
            ),
        )

    def void_invoice(
        self, invoice_id: int, reason: str, *, idempotency_key: str | None = None
    ) -> InvoiceRead:
        return self._settle(invoice_id, "void", reason, idempotency_key)

    def mark_uncollectible(
        self, invoice_id: int, reason: str, *, idempotency_key: str | None = None
    ) -> InvoiceRead:
        return self._settle(invoice_id, "uncollectible", reason, idempotency_key)

    def _settle(
        self, invoice_id: int, action: str, reason: str, idempotency_key: str | None
    ) -> InvoiceRead:
        return self._as(
            InvoiceRead,
            self._call(
                "POST",
                f"/invoices/{invoice_id}/{action}",
                json={"reason": reason},
                idempotency_key=idempotency_key,
            ),
        )

    def credit_note(
        self,
        invoice_id: int,
        reason: str,
        *,
        lines: Mapping[int, Decimal | str] | None = None,
        idempotency_key: str | None = None,
    ) -> CreditNoteRead:
        """Take back `lines` (line position → amount before tax), or all that is left."""
        body: dict[str, Any] = {"reason": reason}
        if lines is not None:
            body["lines"] = [{"position": p, "amount": str(a)} for p, a in lines.items()]
        return self._as(
            CreditNoteRead,
            self._call(
                "POST",
                f"/invoices/{invoice_id}/credit-notes",
                json=body,
                idempotency_key=idempotency_key,
            ),
        )

    # -- the invoice run and the clock (operator) -------------------------------------------

    def run_billing(self) -> BillingRunRead:
        return self._as(BillingRunRead, self._call("POST", "/billing/run"))

    def clock(self) -> ClockRead:
        return self._as(ClockRead, self._call("GET", "/clock"))

    def set_clock(self, now: datetime) -> ClockRead:
        return self._as(ClockRead, self._call("PUT", "/clock", json={"now": now.isoformat()}))

    def advance_clock(self, *, months: int = 0, days: int = 0, hours: int = 0) -> ClockRead:
        advance = {"months": months, "days": days, "hours": hours}
        return self._as(ClockRead, self._call("PUT", "/clock", json={"advance": advance}))

    def reset_clock(self) -> ClockRead:
        return self._as(ClockRead, self._call("DELETE", "/clock"))

    # -- plan changes and advice -------------------------------------------------------------

    def preview_plan_change(
        self, account_id: str, subscription_id: int, plan: str
    ) -> PlanChangePreviewRead:
        return self._as(
            PlanChangePreviewRead,
            self._call(
                "POST",
                f"/accounts/{account_id}/subscriptions/{subscription_id}/plan-change/preview",
                json={"plan": plan},
            ),
        )

    def change_plan(
        self,
        account_id: str,
        subscription_id: int,
        plan: str,
        *,
        idempotency_key: str | None = None,
    ) -> PlanChangeRead:
        return self._as(
            PlanChangeRead,
            self._call(
                "POST",
                f"/accounts/{account_id}/subscriptions/{subscription_id}/plan-change",
                json={"plan": plan},
                idempotency_key=idempotency_key,
            ),
        )

    def advice(self, account_id: str, *, month: str | None = None) -> list[MonthAdviceRead]:
        return TypeAdapter(list[MonthAdviceRead]).validate_python(
            self._call("GET", f"/accounts/{account_id}/advice", params={"month": month})
        )
