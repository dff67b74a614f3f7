"""Consumption, seats, the billing page's numbers and the ledger on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from allot.core.allocation import SourceKind
from allot.kit.validate import Instant
from allot.usage.actions import UsageResult
from allot.usage.summary import GrantUse, MetricUse, PlanLine, UsageSummary

_STRICT = ConfigDict(extra="forbid")


class ConsumeRequest(BaseModel):
    model_config = _STRICT
    metric: str = Field(max_length=64, examples=["card_operations"])
    quantity: int = Field(1, ge=1, le=1_000_000)
    occurred_at: Instant | None = Field(
        None, description="When it happened (decides the month); default now."
    )


class BatchAction(ConsumeRequest):
    idempotency_key: str = Field(min_length=1, max_length=255)


class BatchRequest(BaseModel):
    model_config = _STRICT
    actions: list[BatchAction] = Field(min_length=1, max_length=1000)


class SeatRequest(BaseModel):
    model_config = _STRICT
    holder: str = Field(min_length=1, max_length=200, description="The staff login.")
    metric: str = Field("staff_seats", max_length=64)


# U3: who paid. top_up: orders of a Reviews plan past its limit, paid by the
# merchant's top-up limit (R2); backlog: past the limit and any top-up, waiting or
# archived (R3); a released backlog order moves to the plan or top-up that sends it.
PaidBy = Annotated[
    SourceKind,
    Field(
        description="Who paid: grant (an Access Code), plan (its allowance), overage (billed),"
        " free_overage (recorded past a free plan), top_up (Reviews: paid by the top-up"
        " limit) or backlog (Reviews: past the limit and any top-up)."
    ),
]


class DrawRead(BaseModel):
    source: str = Field(description="grant:N, plan:N, overage, free_overage, top_up or backlog")
    kind: PaidBy
    quantity: int


class Decision(BaseModel):
    """May this happen, and who pays for it."""

    event_id: int
    account_id: str
    action: str
    metric: str
    quantity: int
    period: str
    occurred_at: datetime
    allowed: bool
    outcome: str
    reason: str
    draws: list[DrawRead]
    prompt: list[str] = Field(description="On a free plan past its limits: the choices to offer.")
    replayed: bool
    holder: str | None = None


def decision(result: UsageResult) -> Decision:
    return Decision(
        event_id=result.event_id,
        account_id=result.account_id,
        action=result.action,
        metric=result.metric,
        quantity=result.quantity,
        period=result.period,
        occurred_at=result.occurred_at,
        allowed=result.allowed,
        outcome=result.outcome.value,
        reason=result.reason,
        draws=[DrawRead(source=d.source, kind=d.kind, quantity=d.quantity) for d in result.draws],
        prompt=list(result.prompt),
        replayed=result.replayed,
        holder=result.holder,
    )


class BatchProblem(BaseModel):
    status: int
    code: str
    detail: str
    errors: list[dict[str, str]] | None = None


class BatchResult(BaseModel):
    idempotency_key: str
    decision: Decision | None = None
    problem: BatchProblem | None = None


class BatchResponse(BaseModel):
    results: list[BatchResult]


class SourceUseRead(BaseModel):
    source: str
    kind: PaidBy
    label: str
    used: int
    available: int | None


class MetricUseRead(BaseModel):
    metric: str
    name: str
    kind: str
    included: int
    used: int
    from_grants: int
    over: int
    headline: str = Field(examples=["Used: 9 / 100 included per month"])
    extra_seat_days: int
    reported_late: int = Field(
        0,
        description="B7: units of this month (once it is over) reported after it ended;"
        " past the allowance and after its usage invoice they go on the next usage invoice"
        " as a late line.",
    )
    charge: str | None = Field(None, description="Exact amount so far, before rounding.")
    currency: str | None = None
    split: list[SourceUseRead]


class ResourceRead(BaseModel):
    metric: str
    name: str
    used: int
    available: int


class GrantUseRead(BaseModel):
    grant_id: int
    label: str
    ends_at: datetime | None
    paused: bool
    resources: list[ResourceRead]


class PlanLineRead(BaseModel):
    product_line: str
    plan: str
    plan_name: str
    version: int
    quantity: int = Field(description="In force now.")
    started_on: str
    free: bool
    tip: str
    pending_quantity: int | None = Field(
        None, description="A decrease scheduled for the renewal on `pending_quantity_on`."
    )
    pending_quantity_on: str | None = None


class UsageRead(BaseModel):
    account_id: str
    name: str
    month: str
    timezone: str
    plans: list[PlanLineRead]
    grants: list[GrantUseRead]
    metrics: list[MetricUseRead]
    prompt: list[str]


def usage_read(s: UsageSummary) -> UsageRead:
    return UsageRead(
        account_id=s.account_id,
        name=s.name,
        month=s.month,
        timezone=s.timezone,
        plans=[_plan_line_read(p) for p in s.plans],
        grants=[_grant_use_read(g) for g in s.grants],
        metrics=[_metric_use_read(m) for m in s.metrics],
        prompt=list(s.prompt),
    )


def _plan_line_read(p: PlanLine) -> PlanLineRead:
    return PlanLineRead(
        product_line=p.product_line,
        plan=p.plan_code,
        plan_name=p.plan_name,
        version=p.version,
        quantity=p.quantity,
        started_on=p.started_on,
        free=p.free,
        tip=p.tip,
        pending_quantity=p.pending_quantity,
        pending_quantity_on=p.pending_quantity_on,
    )


def _grant_use_read(g: GrantUse) -> GrantUseRead:
    return GrantUseRead(
        grant_id=g.grant_id,
        label=g.label,
        ends_at=g.ends_at,
        paused=g.paused,
        resources=[
            ResourceRead(metric=r.metric, name=r.name, used=r.used, available=r.available)
            for r in g.resources
        ],
    )


def _metric_use_read(m: MetricUse) -> MetricUseRead:
    """A metric's row; a charge is sent as an exact decimal string with its currency."""
    return MetricUseRead(
        metric=m.metric,
        name=m.name,
        kind=m.kind,
        included=m.included,
        used=m.used,
        from_grants=m.from_grants,
        over=m.over,
        headline=m.headline(),
        extra_seat_days=m.extra_seat_days,
        reported_late=m.reported_late,
        charge=None if m.charge is None else str(m.charge.amount),
        currency=None if m.charge is None else m.charge.currency,
        split=[
            SourceUseRead(
                source=x.source,
                kind=SourceKind(x.kind),
                label=x.label,
                used=x.used,
                available=x.available,
            )
            for x in m.split
        ],
    )


class EntryRead(BaseModel):
    seq: int
    event_id: int
    metric: str
    period: str
    source: str
    source_kind: PaidBy
    quantity: int
    occurred_at: datetime


class EntryPage(BaseModel):
    data: list[EntryRead]
    next_after: int | None = Field(None, description="Pass as `after` for the next page.")
