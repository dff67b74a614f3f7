"""Plan changes and upgrade advice on the wire (money: exact decimal strings)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from allot.billing.advice import MonthAdvice
from allot.billing.changes import ChangePreview, QuantityPreview
from allot.core.advice import Option
from allot.core.money import Money
from allot.invoice.schemas import InvoiceRead
from allot.subscription.service import MAX_QUANTITY

_STRICT = ConfigDict(extra="forbid")


class PlanChange(BaseModel):
    model_config = _STRICT
    plan: str = Field(max_length=64, examples=["loyalty-professional"])


class PlanChangePreviewRead(BaseModel):
    subscription_id: int
    from_plan: str
    to_plan: str
    direction: str = Field(description="upgrade or downgrade")
    immediate: bool = Field(description="An upgrade applies now; a downgrade at the renewal.")
    effective_on: date
    period_start: date | None = Field(description="The period the proration covers.")
    period_end: date | None = Field(description="Exclusive.")
    days_left: int
    days_in_period: int
    currency: str
    charge: str = Field(description="The prorated charge, exact.")
    charge_rounded: str = Field(description="What the invoice will say.")
    waived_months: list[str] = Field(description="Months whose overage the upgrade waives (B3).")


class PlanChangeRead(PlanChangePreviewRead):
    invoice: InvoiceRead | None = Field(description="The proration invoice, if any was issued.")


class QuantityChange(BaseModel):
    model_config = _STRICT
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Locations, on per-location plans.")


class QuantityChangePreviewRead(BaseModel):
    subscription_id: int
    plan: str
    from_quantity: int = Field(description="The quantity in force now.")
    to_quantity: int
    direction: str = Field(description="increase, decrease, or none (the quantity in force)")
    changes: bool = Field(description="False: the subscription already does this; no-op.")
    immediate: bool = Field(description="An increase applies now; a decrease at the renewal.")
    effective_on: date
    period_start: date | None = Field(description="The period the proration covers.")
    period_end: date | None = Field(description="Exclusive.")
    days_left: int
    days_in_period: int
    currency: str
    charge: str = Field(description="The prorated charge, exact.")
    charge_rounded: str = Field(description="What the invoice will say.")
    pending_quantity: int | None = Field(description="The decrease scheduled after the change.")
    pending_on: date | None = Field(description="The renewal it takes effect on.")
    replaced_pending: int | None = Field(
        description="The scheduled decrease this change replaces or cancels."
    )


class QuantityChangeRead(QuantityChangePreviewRead):
    invoice: InvoiceRead | None = Field(description="The proration invoice, if any was issued.")


def quantity_preview_fields(p: QuantityPreview) -> dict[str, object]:
    return {
        "subscription_id": p.subscription_id,
        "plan": p.plan,
        "from_quantity": p.from_quantity,
        "to_quantity": p.to_quantity,
        "direction": p.direction,
        "changes": p.changes,
        "immediate": p.immediate,
        "effective_on": p.effective_on,
        "period_start": p.period[0] if p.period else None,
        "period_end": p.period[1] if p.period else None,
        "days_left": p.days_left,
        "days_in_period": p.days_in_period,
        "currency": p.charge.currency,
        "charge": str(p.charge.amount),
        "charge_rounded": str(p.charge_rounded.amount),
        "pending_quantity": p.pending_quantity,
        "pending_on": p.pending_on,
        "replaced_pending": p.replaced_pending,
    }


class AdviceOptionRead(BaseModel):
    plan: str
    plan_name: str
    current: bool
    policy: str | None = Field(description="Past the allowance; none: no terms for the metric.")
    included: int
    units_over: int
    plan_cost: str | None = Field(description="One month of the plan; none: by agreement.")
    over_charge: str = Field(description="What the units over cost on this plan.")
    cost: str | None = Field(description="plan_cost + over_charge; none: cannot be priced.")


class MonthAdviceRead(BaseModel):
    month: str
    to_date: bool = Field(description="True: the month is not over yet.")
    metric: str
    units: int
    quantity: int
    currency: str
    current: str = Field(description="The plan the subscription is on.")
    options: list[AdviceOptionRead] = Field(description="The current plan, then the plans above.")
    cheapest: str
    upgrade: bool = Field(description="True when a plan above costs less than staying.")
    saving: str = Field(description="A month, by moving to the cheapest plan.")
    breakeven_units: int | None = Field(
        description="The smallest usage at which the next plan up is cheaper than staying."
    )
    breakeven_share: str | None = Field(description="breakeven_units / its allowance.")
    message: str


def _amount(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


def preview_fields(p: ChangePreview) -> dict[str, object]:
    return {
        "subscription_id": p.subscription_id,
        "from_plan": p.from_plan,
        "to_plan": p.to_plan,
        "direction": p.direction,
        "immediate": p.immediate,
        "effective_on": p.effective_on,
        "period_start": p.period[0] if p.period else None,
        "period_end": p.period[1] if p.period else None,
        "days_left": p.days_left,
        "days_in_period": p.days_in_period,
        "currency": p.charge.currency,
        "charge": str(p.charge.amount),
        "charge_rounded": str(p.charge_rounded.amount),
        "waived_months": list(p.waived_months),
    }


def _option(o: Option) -> AdviceOptionRead:
    return AdviceOptionRead(
        plan=o.plan_code,
        plan_name=o.plan_name,
        current=o.is_current,
        policy=None if o.policy is None else o.policy.value,
        included=o.included,
        units_over=o.units_over,
        plan_cost=_amount(o.plan_cost),
        over_charge=str(o.over_charge.amount),
        cost=_amount(o.cost),
    )


def advice_read(item: MonthAdvice) -> MonthAdviceRead:
    a = item.advice
    return MonthAdviceRead(
        month=item.month,
        to_date=item.to_date,
        metric=a.metric,
        units=a.units,
        quantity=a.quantity,
        currency=a.saving.currency,
        current=a.current.plan_code,
        options=[_option(o) for o in a.options],
        cheapest=a.cheapest.plan_code,
        upgrade=a.upgrade,
        saving=str(a.saving.amount),
        breakeven_units=a.breakeven_units,
        breakeven_share=None if a.breakeven_share is None else str(a.breakeven_share),
        message=a.message,
    )
