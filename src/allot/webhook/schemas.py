"""Webhook shapes on the wire."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid")


class EndpointCreate(BaseModel):
    model_config = _STRICT
    url: str = Field(max_length=2000, examples=["https://platform.example/hooks/allot"])
    event_types: list[str] = Field(
        min_length=1, max_length=32, examples=[["usage.threshold_reached"]]
    )
    secret: str | None = Field(
        None,
        max_length=100,
        description="A Standard Webhooks secret `whsec_…`; generated when left out.",
    )
    description: str = Field("", max_length=200)


class EndpointRead(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str
    disabled: bool
    created_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = Field(description="Shown here once: verify signatures with it.")


class DeliveryRead(BaseModel):
    id: int
    event_id: int
    event_type: str
    account_id: str | None
    endpoint_id: int
    state: str = Field(description="pending, delivered or failed")
    attempts: int = Field(description="Attempts since it was (re)scheduled.")
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    data: list[DeliveryRead]
    next_before: int | None = Field(None, description="Pass as `before` for the next page.")


class AttemptRead(BaseModel):
    at: datetime
    status_code: int | None = Field(description="None when no HTTP answer came back.")
    error: str | None
    duration_ms: int


class DeliveryDetail(DeliveryRead):
    log: list[AttemptRead]
