"""Account and subscription shapes on the wire."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from allot.kit.validate import Day

_STRICT = ConfigDict(extra="forbid")


class AddressBody(BaseModel):
    model_config = _STRICT
    line1: str = Field(max_length=200, examples=["Khreshchatyk 1"])
    line2: str | None = Field(None, max_length=200)
    city: str = Field(max_length=200, examples=["Kyiv"])
    region: str | None = Field(None, max_length=200)
    postal_code: str | None = Field(None, max_length=20, examples=["01001"])
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2", examples=["UA"])


class BillingDetailsBody(BaseModel):
    """A1: whom the invoices are addressed to (each is copied onto an invoice as it is
    finalized, B8). `email` receives failed-payment notices and usage alerts."""

    model_config = _STRICT
    legal_name: str | None = Field(None, max_length=200, examples=["Kavarnia LLC"])
    email: str | None = Field(None, max_length=320, examples=["billing@kavarnia.example"])
    tax_id: str | None = Field(None, max_length=40, examples=["UA1234567890"])
    address: AddressBody | None = None

    def wire(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True)


class AccountCreate(BaseModel):
    model_config = _STRICT
    id: str = Field(max_length=64, description="The platform's own id for the business.")
    name: str = Field(max_length=200)
    timezone: str = Field(max_length=64, examples=["Europe/Kyiv"])
    currency: str = Field(max_length=3, examples=["EUR"])
    locale: str = Field("en", max_length=16)
    billing_channel: str = Field("card", max_length=16, description="card or external")
    tax_rate: Decimal = Field(
        Decimal(0), max_digits=7, decimal_places=6, description="0.20 = 20 %, on every line."
    )
    billing_details: BillingDetailsBody | None = None
    referral_code: str | None = Field(
        None,
        max_length=40,
        description="The code of the referral link the business signed up through (A4).",
    )


class AccountUpdate(BaseModel):
    model_config = _STRICT
    name: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, max_length=64)
    locale: str | None = Field(None, max_length=16)
    billing_channel: str | None = Field(None, max_length=16)
    tax_rate: Decimal | None = Field(
        None, max_digits=7, decimal_places=6, description="From the next document on."
    )
    billing_details: BillingDetailsBody | None = Field(
        None, description="Replaces the details whole (`{}` clears them), from the next document."
    )


class AccountRead(BaseModel):
    id: str
    name: str
    timezone: str = Field(description="The account's time zone (from `timezone_since`, if set).")
    timezone_before: str | None = Field(
        None, description="A5: the zone that dates usage before `timezone_since`."
    )
    timezone_since: datetime | None = Field(
        None,
        description="A5: when the latest time zone change took (or takes) effect: the start"
        " of the month after it was asked for.",
    )
    currency: str
    locale: str
    billing_channel: str
    tax_rate: str = Field(description="A fraction: 0.2 = 20 %.")
    billing_details: BillingDetailsBody
    credit_balance: str = Field(
        description="P4: money paid and given back as credit, taken off the next invoices "
        "(`GET /v1/accounts/{id}/credit-balance` lists its moves)."
    )
    created_at: datetime


class AccountPage(BaseModel):
    data: list[AccountRead]
    next_after: str | None = Field(None, description="Pass as `after` for the next page.")


class SubscriptionCreate(BaseModel):
    model_config = _STRICT
    plan: str = Field(max_length=64, examples=["full-suite-business"])
    quantity: int = Field(1, ge=1, le=100_000, description="Locations, on per-location plans.")
    started_on: Day | None = Field(None, description="Contract date; default today, locally.")


class SubscriptionUpdate(BaseModel):
    model_config = _STRICT
    quantity: int = Field(
        ge=1,
        le=100_000,
        description="An increase now, prorated; a decrease at the renewal (as `quantity-change`).",
    )


class SubscriptionRead(BaseModel):
    id: int
    account_id: str
    product_line: str
    plan: str
    plan_version: int
    plan_name: str
    quantity: int = Field(description="In force now (C3: the allowances follow it).")
    started_on: date
    state: str
    pending_quantity: int | None = Field(
        None, description="A decrease scheduled for the renewal (B4); none: nothing pending."
    )
    pending_quantity_on: date | None = Field(
        None, description="The renewal from which `pending_quantity` is in force."
    )
