"""The audit log on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventRead(BaseModel):
    id: int
    at: datetime
    actor_kind: str = Field(description="api_key, user, portal, cli or system")
    actor_id: str = Field(description="The key's id, the user's name, the account, …")
    actor_role: str
    acting_for: str | None = Field(description="The partner or account the actor acts for.")
    change: str = Field(examples=["code.paused"])
    subject_kind: str = Field(examples=["code"])
    subject_id: str = Field(examples=["agency-1/3"])
    account_id: str | None
    partner_id: str | None
    before: dict[str, Any] | None = Field(description="None: it did not exist before.")
    after: dict[str, Any] | None = Field(description="None: it no longer exists.")


class AuditPage(BaseModel):
    data: list[AuditEventRead]
    next_before: int | None = Field(None, description="Pass as `before` for the next page.")
