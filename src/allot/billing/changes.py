"""Plan and quantity changes (B4, C3): previews, the proration invoice, the backlog released.

They span domains — the subscription, the invoice run that bills what is due
first, the proration invoice, the Reviews backlog a larger limit releases — so
they live here, above each of them.

Plan and quantity changes follow one rule (B4): what costs more takes effect
at once and is charged the prorated difference for the rest of the paid
period (`core.calendar.prorate_change`, on a proration invoice issued at
once); what costs less waits for the renewal. For the quantity (locations):

* an increase is in force from the instant it is made: the allowances (plan
  allowance x quantity) grow at once, and (new - old) x price x days left /
  days in the period is invoiced at once;
* a decrease is scheduled for the next renewal (`pending_quantity` from
  `pending_quantity_at`, its local midnight): the allowances stay until then,
  and the invoice run applies it when it charges that renewal, exactly once;
* CHOICE, a second request before the renewal: a lower quantity replaces the
  scheduled decrease; the quantity in force cancels it; a higher one is an
  increase from the quantity in force and cancels it too. The request that the
  subscription already does (the same quantity, or the same scheduled decrease)
  changes nothing: no event, no invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from allot.account.repository import AccountRow
from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.catalog.service import names as catalog_names
from allot.core import calendar
from allot.core.calendar import Proration
from allot.core.catalog import Plan, ProductLine
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.core.invoicing import Charge, ChargeKind
from allot.core.money import Money
from allot.core.periods import Month, zone
from allot.invoice import service as invoice_service
from allot.invoice import wording
from allot.invoice.parties import account_snapshot
from allot.invoice.repository import InvoiceRow
from allot.invoice.run import bill_account
from allot.kit import validate
from allot.kit.clock import Clock
from allot.kit.i18n import language
from allot.reviews.gate import make_room
from allot.subscription import repository as repo
from allot.subscription.repository import LiveSubscription
from allot.subscription.service import MAX_QUANTITY, announce


@dataclass(frozen=True, slots=True)
class QuantityPreview:
    """What a quantity change will do, shown before it is confirmed (C3, B4)."""

    subscription_id: int
    plan: str
    from_quantity: int  # in force now
    to_quantity: int
    direction: str  # increase, decrease, or none (the quantity in force)
    changes: bool  # False: the subscription already does this; confirming changes nothing
    immediate: bool  # an increase (or keeping the quantity) applies now; a decrease at renewal
    effective_on: date
    period: tuple[date, date] | None  # the period the proration covers
    days_left: int
    days_in_period: int
    charge: Money  # exact; the invoice rounds it once
    pending_quantity: int | None  # the decrease scheduled once the change is made
    pending_on: date | None
    replaced_pending: int | None  # the scheduled decrease this change replaces or cancels

    @property
    def charge_rounded(self) -> Money:
        return self.charge.rounded()


def preview_quantity_change(
    conn: Connection, clock: Clock, *, account_id: str, subscription_id: int, quantity: int
) -> QuantityPreview:
    """What `change_quantity` would do, changing nothing (as `preview_change`)."""
    savepoint = conn.begin_nested()
    try:
        bill_account(conn, clock, account_id=account_id)
        preview = _quantity_change(conn, clock, account_id, subscription_id, quantity)
    finally:
        savepoint.rollback()
    return preview


def change_quantity(
    conn: Connection, clock: Clock, *, account_id: str, subscription_id: int, quantity: int
) -> tuple[QuantityPreview, InvoiceRow | None]:
    """Change how many locations a per-location plan covers (C3, B4; see the module).

    The billing calendar is brought up to date first, so an increase is
    prorated against a period that has been charged, and a decrease is
    scheduled for the renewal still to come.
    """
    bill_account(conn, clock, account_id=account_id)
    preview = _quantity_change(conn, clock, account_id, subscription_id, quantity)
    if not preview.changes:
        return preview, None
    account = get_account(conn, account_id)
    sub = _live(conn, account_id, subscription_id)
    now = clock.now()
    for scheduled in repo.quantity_changes(conn, sub.id, state="scheduled"):
        repo.set_quantity_change_state(conn, scheduled.id, "superseded")
    invoice = None
    if preview.direction == "increase":
        invoice = _raise_quantity(conn, clock, account, sub, preview, now)
    elif preview.direction == "decrease":
        _schedule_decrease(conn, account, sub, preview, now)
    else:  # the quantity in force, asked for again: the scheduled decrease is dropped
        repo.set_pending_quantity(conn, sub.id, None, at=None)
    changed = _live(conn, account_id, subscription_id)
    announce(conn, clock, changed, change="quantity", before=sub)
    return preview, invoice


def _raise_quantity(
    conn: Connection,
    clock: Clock,
    account: AccountRow,
    sub: LiveSubscription,
    preview: QuantityPreview,
    now: datetime,
) -> InvoiceRow | None:
    """An increase, in force at once: the prorated difference invoiced now (B4), and the
    larger limit releases the backlog (R4)."""
    change_id = repo.insert_quantity_change(
        conn,
        subscription_id=sub.id,
        account_id=account.id,
        from_quantity=preview.from_quantity,
        to_quantity=preview.to_quantity,
        direction="increase",
        requested_at=now,
        effective_on=preview.effective_on,
        effective_at=now,
        state="applied",
    )
    repo.set_quantity(conn, sub.id, preview.to_quantity, since=now)
    invoice = None
    if preview.period is not None:
        invoice = _invoice_proration(
            conn,
            clock,
            account,
            sub,
            billing_key=f"quantity:{change_id}",
            what=wording.more_locations(
                language(account.locale),
                catalog_names(conn, account.locale).plan(sub.plan.code, sub.plan.name),
                preview.from_quantity,
                preview.to_quantity,
            ),
            proration=Proration(
                preview.period, preview.days_left, preview.days_in_period, preview.charge
            ),
            effective_on=preview.effective_on,
        )
    make_room(conn, clock, account_id=account.id)  # R4: a larger limit releases the backlog
    return invoice


def _schedule_decrease(
    conn: Connection,
    account: AccountRow,
    sub: LiveSubscription,
    preview: QuantityPreview,
    now: datetime,
) -> None:
    """A decrease, in force from the renewal's first instant; the allowances stay until then."""
    assert preview.pending_on is not None
    starts = calendar.renewal_starts(preview.pending_on, zone(account.timezone))
    repo.insert_quantity_change(
        conn,
        subscription_id=sub.id,
        account_id=account.id,
        from_quantity=preview.from_quantity,
        to_quantity=preview.to_quantity,
        direction="decrease",
        requested_at=now,
        effective_on=preview.pending_on,
        effective_at=starts,
        state="scheduled",
    )
    repo.set_pending_quantity(conn, sub.id, preview.to_quantity, at=starts)


def _quantity_change(
    conn: Connection, clock: Clock, account_id: str, subscription_id: int, quantity: int
) -> QuantityPreview:
    account = get_account(conn, account_id, lock=True)
    validate.positive_int(quantity, field="quantity", maximum=MAX_QUANTITY)
    sub = _live(conn, account_id, subscription_id)
    if quantity > 1:
        _check_per_location(conn, sub)
    now = clock.now()
    today = now.astimezone(account.zones.at(now)).date()
    current = sub.quantity_in_force(now)
    pending = sub.pending_quantity
    assert sub.next_bill_on is not None
    currency = sub.plan.currency
    charge, period, left, days = Money.zero(currency), None, 0, 0
    if quantity > current:
        direction, changes, immediate, effective_on = "increase", True, True, today
        paid, new = sub.plan.price_for(current), sub.plan.price_for(quantity)
        charge, period, left, days = _prorate(sub, paid, new, today)
        after_pending, replaced = None, pending
    elif quantity == current:
        direction, changes, immediate, effective_on = "none", pending is not None, True, today
        after_pending, replaced = None, pending
    else:
        direction, immediate, effective_on = "decrease", False, sub.next_bill_on
        changes = pending != quantity
        after_pending, replaced = quantity, pending if changes else None
    return QuantityPreview(
        sub.id,
        sub.plan.code,
        current,
        quantity,
        direction,
        changes,
        immediate,
        effective_on,
        period,
        left,
        days,
        charge,
        after_pending,
        None if after_pending is None else sub.next_bill_on,
        replaced,
    )


def _check_per_location(conn: Connection, sub: LiveSubscription) -> None:
    """More than one location: the plan, and the plan from the renewal if one waits, must be
    sold per location."""
    if not sub.plan.per_quantity:
        raise InvalidInput(
            "quantity_not_supported", f"{sub.plan.name} is not sold per location", field="quantity"
        )
    if sub.pending_plan_id is not None:
        after = repo.plan_of(conn, sub.pending_plan_id)
        if not after.per_quantity:
            raise InvalidInput(
                "quantity_not_supported",
                f"{after.name}, the plan from the renewal, is not sold per location",
                field="quantity",
            )


def _prorate(
    sub: LiveSubscription, paid: Decimal | None, new: Decimal | None, on: date
) -> tuple[Money, tuple[date, date] | None, int, int]:
    """B4: the prorated difference from price `paid` to `new` for the rest of the paid period,
    as (charge, period, days left, days in it); nothing to charge when no period is paid."""
    currency = sub.plan.currency
    p = calendar.prorate_change(
        sub.started_on,
        sub.billed_months,
        sub.plan.interval.months,
        paid=Money.of(paid or 0, currency),
        new=Money.of(new or 0, currency),
        on=on,
    )
    if p is None:
        return Money.zero(currency), None, 0, 0
    return p.charge, p.period, p.days_left, p.days_in_period


def _invoice_proration(
    conn: Connection,
    clock: Clock,
    account: AccountRow,
    sub: LiveSubscription,
    *,
    billing_key: str,
    what: str,
    proration: Proration,
    effective_on: date,
) -> InvoiceRow | None:
    """The proration invoice of an upgrade or a raised quantity, issued at once (B4);
    none when there is nothing to charge."""
    if proration.charge_rounded.amount <= 0:
        return None
    start, end = proration.period
    amount = proration.charge.amount
    lang = language(account.locale)
    return invoice_service.issue(
        conn,
        clock,
        billing_key=billing_key,
        kind="proration",
        currency=proration.charge.currency,
        charges=[
            Charge(
                ChargeKind.PRORATION,
                wording.prorated(lang, what, proration.days_left, proration.days_in_period),
                1,
                amount,
                amount,
                period_start=effective_on,
                period_end=end,
            )
        ],
        issued_on=effective_on,
        tax_rate=account.tax_rate,
        account_id=account.id,
        bill_to=account_snapshot(account),
        referral_credit_minor=account.referral_credit_minor,
        credit_balance_minor=account.credit_balance_minor,
        subscription_id=sub.id,
        period=(effective_on, end),
        notes=[wording.prorated_note(lang, start, end)],
    )


@dataclass(frozen=True, slots=True)
class ChangePreview:
    """What EDIT TARIFF PLAN will do, shown before it is confirmed (B4)."""

    subscription_id: int
    from_plan: str
    to_plan: str
    direction: str  # upgrade or downgrade
    immediate: bool
    effective_on: date
    period: tuple[date, date] | None  # the period the proration covers
    days_left: int
    days_in_period: int
    charge: Money  # exact; the invoice rounds it once
    waived_months: tuple[str, ...]  # B3: months whose overage the upgrade waives

    @property
    def charge_rounded(self) -> Money:
        return self.charge.rounded()


def preview_change(
    conn: Connection, clock: Clock, *, account_id: str, subscription_id: int, plan_code: str
) -> ChangePreview:
    """What `change_plan` would do, changing nothing.

    It works on the calendar as the change would see it: what is due is billed
    inside a savepoint that is then rolled back, so a run that is behind cannot
    make the preview differ from the charge.
    """
    savepoint = conn.begin_nested()
    try:
        bill_account(conn, clock, account_id=account_id)
        preview, _ = _plan_change(conn, clock, account_id, subscription_id, plan_code)
    finally:
        savepoint.rollback()
    return preview


def change_plan(
    conn: Connection, clock: Clock, *, account_id: str, subscription_id: int, plan_code: str
) -> tuple[ChangePreview, InvoiceRow | None]:
    """Upgrade at once with a prorated charge, or schedule a downgrade for the renewal (B4).

    The billing calendar is brought up to date first, so the proration is
    always against a period that has been charged.
    """
    bill_account(conn, clock, account_id=account_id)
    preview, target = _plan_change(conn, clock, account_id, subscription_id, plan_code)
    sub = _live(conn, account_id, subscription_id)
    now = clock.now()
    for change in repo.changes(conn, sub.id):
        if change.state == "scheduled":
            repo.set_change_state(conn, change.id, "superseded")
    change_id = repo.insert_change(
        conn,
        subscription_id=sub.id,
        account_id=account_id,
        from_plan_id=sub.plan_id,
        to_plan_id=target,
        direction=preview.direction,
        requested_at=now,
        effective_on=preview.effective_on,
        state="applied" if preview.immediate else "scheduled",
    )
    invoice = None
    if preview.immediate:
        repo.set_plan(conn, sub.id, plan_id=target, pending_plan_id=None)
        if preview.period is not None:
            account = get_account(conn, account_id)
            named, after = catalog_names(conn, account.locale), repo.plan_of(conn, target)
            invoice = _invoice_proration(
                conn,
                clock,
                account,
                sub,
                billing_key=f"change:{change_id}",
                what=wording.upgrade(
                    language(account.locale),
                    named.plan(sub.plan.code, sub.plan.name),
                    named.plan(after.code, after.name),
                ),
                proration=Proration(
                    preview.period, preview.days_left, preview.days_in_period, preview.charge
                ),
                effective_on=preview.effective_on,
            )
        make_room(conn, clock, account_id=account_id)  # R4: a larger limit releases the backlog
    else:
        repo.set_pending(conn, sub.id, target)
    changed = _live(conn, account_id, subscription_id)
    announce(conn, clock, changed, change=preview.direction, before=sub)
    return preview, invoice


def _live(conn: Connection, account_id: str, subscription_id: int) -> LiveSubscription:
    sub = next((s for s in repo.live(conn, account_id) if s.id == subscription_id), None)
    if sub is None:
        raise NotFound(
            "subscription_not_found",
            f"no live subscription {subscription_id}",
            field="subscription_id",
        )
    return sub


def _plan_change(
    conn: Connection, clock: Clock, account_id: str, subscription_id: int, plan_code: str
) -> tuple[ChangePreview, int]:
    account = get_account(conn, account_id, lock=True)
    sub = _live(conn, account_id, subscription_id)
    found = catalog_repo.latest_plan(conn, plan_code)
    if found is None:
        raise NotFound("plan_not_found", f"no plan {plan_code!r} in the catalog", field="plan")
    target, plan = found
    line = catalog_repo.get_product_line(conn, sub.product_line)
    assert line is not None
    _check_target(sub, plan, line)
    tz = zone(account.timezone)  # the renewal's zone, as the run reckons it
    today = clock.now().astimezone(account.zones.at(clock.now())).date()
    upgrade = line.rank(plan.code) > line.rank(sub.plan.code)
    immediate = upgrade and plan.interval is sub.plan.interval
    currency = sub.plan.currency
    charge, period, left, days = Money.zero(currency), None, 0, 0
    assert sub.next_bill_on is not None
    effective_on = today if immediate else sub.next_bill_on
    if immediate:
        paid, new = sub.plan.price_for(sub.quantity), plan.price_for(sub.quantity)
        charge, period, left, days = _prorate(sub, paid, new, today)
    waived = _waived(clock, sub, line, effective_on, tz, immediate=immediate) if upgrade else ()
    preview = ChangePreview(
        sub.id,
        sub.plan.code,
        plan.code,
        "upgrade" if upgrade else "downgrade",
        immediate,
        effective_on,
        period,
        left,
        days,
        charge,
        waived,
    )
    return preview, target


def _check_target(sub: LiveSubscription, plan: Plan, line: ProductLine) -> None:
    """A plan to change to: another plan on the same ladder, priced, and sold per location
    if the subscription covers more than one."""
    if plan.product_line != sub.product_line:
        raise InvalidInput(
            "plan_not_on_line",
            f"{plan.name} is not on the {line.name} ladder; subscribe to it separately",
            field="plan",
        )
    if plan.code == sub.plan.code:
        raise Conflict("same_plan", f"the subscription is already on {plan.name}", field="plan")
    if plan.by_agreement:
        raise InvalidInput("plan_by_agreement", f"{plan.name} is priced by agreement", field="plan")
    if sub.quantity > 1 and not plan.per_quantity:
        raise InvalidInput(
            "quantity_not_supported", f"{plan.name} is not sold per location", field="plan"
        )


def _waived(
    clock: Clock,
    sub: LiveSubscription,
    line: ProductLine,
    effective_on: date,
    tz: ZoneInfo,
    *,
    immediate: bool,
) -> tuple[str, ...]:
    """B3: the months whose overage an upgrade waives, from the instant it will be in force."""
    now = clock.now()
    at = now if immediate else max(now, calendar.renewal_starts(effective_on, tz))
    months = calendar.months_waived(
        line, Month.parse(sub.usage_month), calendar.usage_day(sub.plan, line), at, tz
    )
    return tuple(m.key for m in months)
