"""Orders, review requests and the top-up limit on the wire (money: exact decimal strings)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from allot.kit.validate import Instant

_STRICT = ConfigDict(extra="forbid")


class OrderWrite(BaseModel):
    model_config = _STRICT
    id: str = Field(min_length=1, max_length=128, description="The platform's order id.")
    placed_at: Instant = Field(description="Decides the month it counts in (U5).")
    excluded: StrictBool = Field(
        False, description="Excluded from review requests (still counted)."
    )


class OrdersWrite(BaseModel):
    model_config = _STRICT
    orders: list[OrderWrite] = Field(min_length=1, max_length=10_000)


class IngestRead(BaseModel):
    received: int
    new: int
    duplicates: int = Field(description="Orders already reported: nothing changes for them.")
    outcomes: dict[str, int] = Field(
        description="New orders by fate: within, top_up, overage, waiting, archived, counted."
    )
    released: int = Field(description="Review requests to send now (also by webhook).")


class TopUpWrite(BaseModel):
    model_config = _STRICT
    mode: str = Field(description="none, defined (a cap per month) or unlimited", max_length=16)
    cap: Decimal | None = Field(
        None, max_digits=12, decimal_places=4, description="With mode 'defined': e.g. 150."
    )


class ReviewsRead(BaseModel):
    """The Reviews page: this month's orders against the limit, the top-up, the requests."""

    month: str
    plan: str
    order_limit: int
    orders: int = Field(description="Every order placed this month, excluded or not (U5).")
    within: int = Field(description="Places used within the limit (backlog released included).")
    topped_up: int
    top_up_spent: str = Field(description="This month's top-up charge so far, exact.")
    top_up: str = Field(description="none, defined or unlimited")
    top_up_cap: str | None
    top_up_orders: int | None = Field(description="What the cap buys in a month; null: no cap.")
    requests: dict[str, int] = Field(description="Requests by state: to_send, waiting, ...")


class RequestRead(BaseModel):
    order_id: str
    placed_at: datetime
    month: str
    place: int = Field(description="The order's place in its month's count.")
    state: str
    paid_by: str | None
    released_month: str | None
    released_at: datetime | None
    sent_at: datetime | None


class RequestPage(BaseModel):
    data: list[RequestRead]
    next_after: str | None = Field(None, description="Pass as `after` for the next page.")


class AckWrite(BaseModel):
    model_config = _STRICT
    order_ids: list[str] = Field(min_length=1, max_length=10_000)


class AckRead(BaseModel):
    acknowledged: int
    not_acknowledged: dict[str, str | None] = Field(
        description="Ids not to send, with their state (waiting, archived, sent, unknown)."
    )
