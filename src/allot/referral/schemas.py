"""Referral shapes on the wire (money: exact decimal strings)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ReferredRead(BaseModel):
    account_id: str
    name: str
    signed_up_at: datetime
    state: str = Field(description="signed_up, or rewarded once it paid its first paid invoice")
    rewarded_at: datetime | None
    reward: str | None = Field(description="Earned at the first paid invoice; null before.")
    credited: str = Field(description="How much of the reward is credited on invoices so far.")


class ReferralRead(BaseModel):
    account_id: str
    enabled: bool
    code: str = Field(examples=["7K2M-9QXD-4HRT-PV0C-8"])
    link: str = Field(description="The personal referral link (the platform's sign-up page).")
    currency: str
    earned: str
    credited: str
    balance: str = Field(description="Earned and not yet credited: taken off the next invoice.")
    referred: list[ReferredRead]
