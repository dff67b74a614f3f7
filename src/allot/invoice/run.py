"""The invoice run (B6): issue everything due as of the clock, exactly once.

Each subscription carries its billing calendar: how many months of its
contract are invoiced (`billed_months`), the date the next charge is due
(`next_bill_on`), and the next calendar month whose usage is still to bill
(`usage_month`). The run takes the accounts with something due, and for each
one, in one transaction under the account's lock:

1. charges every period whose start has come, in advance (B1), applying a
   downgrade and a decrease of the quantity that wait for that renewal first
   (B4, C3): the charge is the new plan's price x the new quantity;
2. issues a usage invoice for every calendar month whose usage-invoice day
   has come (B2: overage and extra seat-days on the product line's day, the
   8th in both presets), waiving the overage when the plan was upgraded
   before that day where the product line says so (B3);
3. moves the calendar on.

Partners are then invoiced for their codes, month by month (see `partners`).

Every invoice also has a unique `billing_key` (subscription and period, or
account, product line and month), and its number is taken in the same
transaction: a run that repeats, or resumes after being killed at any point,
finds the calendar where the last commit left it and issues each invoice
once, with numbers 1..N and no gap.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from allot.account.repository import AccountRow
from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.catalog.service import names as catalog_names
from allot.core import calendar
from allot.core.catalog import Plan, ProductLine
from allot.core.charges import overage_charge
from allot.core.invoicing import Charge, ChargeKind
from allot.core.periods import Month, month_of, zone
from allot.core.reporting import late_units
from allot.invoice import repository as invoice_repo
from allot.invoice import service, wording
from allot.invoice.parties import account_snapshot
from allot.invoice.partners import bill_partners
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.kit.i18n import language
from allot.subscription import repository as sub_repo
from allot.subscription.repository import ChangeRow, LiveSubscription
from allot.usage.billable import Billable, billable_usage


@dataclass
class RunReport:
    accounts: int = 0
    invoices: list[InvoiceRow] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for i in self.invoices if i.kind == kind)


def run(
    db: Database,
    clock: Clock,
    *,
    batch: int = 500,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Bill every account with something due, one transaction per account.

    On PostgreSQL `workers` accounts are billed at once (default 4), each on
    its own connection: the run waits on round trips far more than on the
    database, and accounts share nothing but the number series, whose row lock
    is held only from taking a number to the commit. SQLite has one writer, so
    it bills one account at a time.
    """
    now = clock.now()
    # no time zone is more than a day ahead of UTC
    by_day = now.date() + timedelta(days=1)
    usage_before = Month(by_day.year, by_day.month).key
    report = RunReport()
    lines: dict[str, ProductLine] = {}  # read once per run: a handful, used by every account
    if db.is_sqlite:
        workers = 1
    elif workers is None:
        workers = 4

    def bill_one(account_id: str) -> list[InvoiceRow]:
        with db.transaction() as conn:
            return bill_account(conn, clock, account_id=account_id, lines=lines)

    after: str | None = None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while True:
            with db.read() as conn:
                due = sub_repo.due_accounts(
                    conn, by_day=by_day, usage_before=usage_before, after=after, limit=batch
                )
            if not due:
                break
            for issued in pool.map(bill_one, due) if workers > 1 else map(bill_one, due):
                report.invoices += issued
                report.accounts += 1
                if progress is not None:
                    progress(1)
            after = due[-1]
    report.invoices += bill_partners(db, clock)
    return report


def bill_account(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    lines: dict[str, ProductLine] | None = None,
) -> list[InvoiceRow]:
    """Issue what is due for one account as of the clock, in the caller's transaction."""
    account = get_account(conn, account_id, lock=True)
    today = clock.now().astimezone(account.zones.at(clock.now())).date()
    issued: list[InvoiceRow] = []
    lines = {} if lines is None else lines
    # Day by day through what is due, so that numbers follow the issue dates.
    while True:
        subs = sub_repo.live(conn, account_id)
        for sub in subs:
            if sub.product_line not in lines:
                found = catalog_repo.get_product_line(conn, sub.product_line)
                assert found is not None
                lines[sub.product_line] = found
        due = [
            day
            for sub in subs
            for day in (sub.next_bill_on, _usage_due(sub, lines[sub.product_line]))
            if day is not None and day <= today
        ]
        if not due:
            return issued
        day = min(due)
        for sub in subs:
            issued += _charge_periods(conn, clock, account, sub, day)
        for sub in subs:
            issued += _bill_usage(conn, clock, account, sub, lines[sub.product_line], day)
        if min(_earliest_after(sub, lines[sub.product_line], day) for sub in subs) > today:
            return issued  # the common case: one day was due; no need to read again


def _earliest_after(sub: LiveSubscription, line: ProductLine, day: date) -> date:
    assert sub.next_bill_on is not None
    return calendar.next_due_after(
        sub.started_on,
        sub.billed_months,
        sub.next_bill_on,
        Month.parse(sub.usage_month),
        calendar.usage_day(sub.plan, line),
        day,
    )


def _usage_due(sub: LiveSubscription, line: ProductLine) -> date:
    return calendar.usage_invoice_day(
        Month.parse(sub.usage_month), calendar.usage_day(sub.plan, line)
    )


def _charge_periods(
    conn: Connection, clock: Clock, account: AccountRow, sub: LiveSubscription, today: date
) -> list[InvoiceRow]:
    assert sub.next_bill_on is not None
    issued = []
    months, next_on, plan, quantity = sub.billed_months, sub.next_bill_on, sub.plan, sub.quantity
    pending, fewer = sub.pending_plan_id, sub.pending_quantity
    while next_on <= today:
        start = next_on
        if pending is not None:
            plan = _apply_scheduled(conn, sub, pending)
            pending = None
        if fewer is not None:
            quantity = _apply_scheduled_quantity(conn, sub, fewer)
            fewer = None
        end = calendar.billing_period(sub.started_on, months, plan.interval.months)[1]
        months += plan.interval.months
        next_on = end
        # The calendar moves in the invoice's round trip, before its number is taken.
        move = sub_repo.period_move(sub.id, billed_months=months, next_bill_on=next_on)
        price = plan.price_for(quantity)
        if not price or plan.price is None:
            sub_repo.advance(conn, move)
        else:
            issued.append(
                service.issue(
                    conn,
                    clock,
                    billing_key=f"subscription:{sub.id}:{start.isoformat()}",
                    kind="subscription",
                    currency=plan.currency,
                    charges=[
                        Charge(
                            ChargeKind.PLAN,
                            wording.plan(
                                language(account.locale),
                                catalog_names(conn, account.locale).plan(plan.code, plan.name),
                                quantity,
                            ),
                            quantity if plan.per_quantity else 1,
                            plan.price,
                            price,
                            period_start=start,
                            period_end=end,
                        )
                    ],
                    issued_on=start,
                    tax_rate=account.tax_rate,
                    account_id=account.id,
                    bill_to=account_snapshot(account),
                    referral_credit_minor=account.referral_credit_minor,
                    credit_balance_minor=account.credit_balance_minor,
                    subscription_id=sub.id,
                    period=(start, end),
                    along=move,
                )
            )
    return issued


def _apply_scheduled(conn: Connection, sub: LiveSubscription, pending: int) -> Plan:
    """A downgrade (or a change of interval) takes effect at the renewal (B4)."""
    sub_repo.set_plan(conn, sub.id, plan_id=pending, pending_plan_id=None)
    for change in sub_repo.changes(conn, sub.id):
        if change.state == "scheduled" and change.to_plan_id == pending:
            sub_repo.set_change_state(conn, change.id, "applied")
    return sub_repo.plan_of(conn, pending)


def _apply_scheduled_quantity(conn: Connection, sub: LiveSubscription, quantity: int) -> int:
    """A decrease of the quantity takes effect at the renewal (B4, C3), in force from the
    instant it was scheduled for. It is applied in the transaction that charges the renewal,
    and clears itself: a rerun finds nothing pending (B6)."""
    assert sub.pending_quantity_at is not None
    sub_repo.set_quantity(conn, sub.id, quantity, since=sub.pending_quantity_at)
    for change in sub_repo.quantity_changes(conn, sub.id, state="scheduled"):
        sub_repo.set_quantity_change_state(conn, change.id, "applied")
    return quantity


def _bill_usage(
    conn: Connection,
    clock: Clock,
    account: AccountRow,
    sub: LiveSubscription,
    line: ProductLine,
    today: date,
) -> list[InvoiceRow]:
    month = Month.parse(sub.usage_month)
    day = calendar.usage_day(sub.plan, line)
    if calendar.usage_invoice_day(month, day) > today:
        return []  # the common case: no month due, nothing to read
    tz = zone(account.timezone)
    issued = []
    changes = sub_repo.changes(conn, sub.id)
    lang = language(account.locale)
    named = catalog_names(conn, lang)
    names = {m.code: named.metric(m.code, m.name) for m in catalog_repo.list_metrics(conn)}
    while (on := calendar.usage_invoice_day(month, day)) <= today:
        plan = _plan_at(conn, sub, changes, month.end(tz), tz)
        bills = billable_usage(
            conn, account_id=account.id, timezone=account.timezone, plan=plan, month=month
        )
        notes: list[str] = []
        upgrade = calendar.waiving_upgrade(line, changes, month, day, tz)
        waived = [
            b for b in bills if b.kind is not ChargeKind.TOP_UP
        ]  # B3 waives overage, not top-ups
        if waived and upgrade is not None:
            bills = [b for b in bills if b.kind is ChargeKind.TOP_UP]
            upgraded_on = calendar.takes_effect(upgrade, tz).astimezone(tz).date()
            notes.append(wording.overage_waived(lang, month.first_day(), upgraded_on))
        charges = [_usage_charge(b, month, plan, names[b.metric], lang) for b in bills]
        charges += _late_charges(conn, account, sub, line, changes, month, names)
        move = sub_repo.usage_move(sub.id, usage_month=month.next().key)  # as above
        if not charges:
            sub_repo.advance(conn, move)
        else:
            issued.append(
                service.issue(
                    conn,
                    clock,
                    billing_key=f"usage:{account.id}:{sub.product_line}:{month}",
                    kind="usage",
                    currency=plan.currency,
                    charges=charges,
                    issued_on=on,
                    tax_rate=account.tax_rate,
                    account_id=account.id,
                    bill_to=account_snapshot(account),
                    referral_credit_minor=account.referral_credit_minor,
                    credit_balance_minor=account.credit_balance_minor,
                    subscription_id=sub.id,
                    period=(month.first_day(), month.next().first_day()),
                    notes=notes,
                    along=move,
                )
            )
        month = month.next()
    return issued


def _late_charges(
    conn: Connection,
    account: AccountRow,
    sub: LiveSubscription,
    line: ProductLine,
    changes: list[ChangeRow],
    month: Month,
    names: dict[str, str],
) -> list[Charge]:
    """B7: overage of earlier months reported after their invoice, at each month's own price.

    For every earlier month still open to late usage, what it bills now less
    what its invoices (and earlier late lines) already billed: each unit once.
    """
    tz = zone(account.timezone)
    first = month_of(sub.starts_at, tz)
    day = calendar.usage_day(sub.plan, line)
    charges = []
    for earlier in calendar.late_months(line, changes, month, first, day, tz):
        plan = _plan_at(conn, sub, changes, earlier.end(tz), tz)
        overage = [
            b
            for b in billable_usage(
                conn, account_id=account.id, timezone=account.timezone, plan=plan, month=earlier
            )
            if b.kind is ChargeKind.OVERAGE
        ]
        if not overage:
            continue
        billed = invoice_repo.billed_units(
            conn,
            account_id=account.id,
            subscription_id=sub.id,
            period_start=earlier.first_day(),
        )
        for b in overage:
            units = late_units(b.units, billed.get(b.metric, 0))
            if units:
                amount = overage_charge(units, b.unit_price, plan.currency)
                charges.append(
                    Charge(
                        ChargeKind.LATE_OVERAGE,
                        wording.late_overage(
                            language(account.locale),
                            wording.Usage(
                                names[b.metric],
                                earlier.first_day(),
                                units,
                                b.unit_price,
                                plan.currency,
                            ),
                        ),
                        units,
                        b.unit_price,
                        amount.amount,
                        metric=b.metric,
                        period_start=earlier.first_day(),
                        period_end=earlier.next().first_day(),
                    )
                )
    return charges


def _usage_charge(b: Billable, month: Month, plan: Plan, name: str, lang: str) -> Charge:
    usage = wording.Usage(name, month.first_day(), b.units, b.unit_price, plan.currency)
    if b.kind is ChargeKind.TOP_UP:
        text = wording.top_up(lang, usage)
    elif b.kind is ChargeKind.EXTRA_SEATS:
        text = wording.extra_seats(lang, usage, b.days_in_month)
    else:
        text = wording.overage(lang, usage)
    return Charge(
        b.kind,
        text,
        b.units,
        b.unit_price,
        b.amount.amount,
        metric=b.metric,
        period_start=month.first_day(),
        period_end=month.next().first_day(),
    )


def _plan_at(
    conn: Connection,
    sub: LiveSubscription,
    changes: list[ChangeRow],
    instant: datetime,
    tz: ZoneInfo,
) -> Plan:
    """The plan that prices a month's usage: the one in force at its end (CHOICE)."""
    plan_id = calendar.plan_id_at(changes, instant, tz)
    if plan_id is None or plan_id == sub.plan_id:
        return sub.plan
    return sub_repo.plan_of(conn, plan_id)
