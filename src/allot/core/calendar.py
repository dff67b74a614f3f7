"""The billing calendar: when each charge falls due, and what a change costs (B1-B4, C3).

Everything the invoice run, the plan and quantity previews, the subscription
rows and the billing page need to know about dates lives here, once:

* **Subscription charges** (B1) are due in advance on the contract date:
  monthly on the start's day of month, yearly on its anniversary; a start on
  the 31st falls on the last day of shorter months and returns to the 31st
  (`anniversary`). A contract's calendar is the number of months already
  charged (`billed_months`): the next period runs from the anniversary after
  that many months for the plan's interval (`billing_period`), so a change
  from monthly to annual at a renewal simply charges 12 months from there.

      >>> [str(anniversary(date(2026, 1, 31), n)) for n in range(4)]
      ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']

* **Usage invoices** (B2) bill a calendar month in the account's time zone on
  a day of the next month set by the product line: the overage day (the 8th
  in both presets), or the top-up day (the 1st) for a plan that only sells
  top-ups (`usage_day`, `usage_invoice_day`).
* **Plan changes** (B4): an upgrade is in force from the instant it is made,
  a downgrade or a change of interval from the first instant of the renewal
  it waits for (`takes_effect`); a month's usage is priced by the plan in
  force at its end (`plan_id_at`).
* **The waiver** (B3): where the product line says so, an upgrade that takes
  effect between a month's start and its usage invoice waives that month's
  overage (`waives`, `waiving_upgrade`); late usage of a waived month is
  waived too (`late_months`, with `reporting.open_months_before`, B7).
* **Proration** (B4, C3): an upgrade or a raised quantity pays the difference
  for the days left in the period already paid, counting the day of the
  change (`prorate_change`; the money is `charges.prorate`).

Time is an argument: nothing here reads a clock.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from allot.core.catalog import OveragePolicy, Plan, ProductLine
from allot.core.charges import prorate
from allot.core.errors import InvalidInput
from allot.core.money import Money
from allot.core.periods import Month, local_midnight
from allot.core.reporting import open_months_before

# --- B1: the contract's charges -------------------------------------------------


def anniversary(anchor: date, months: int) -> date:
    """The date `months` months after `anchor`, keeping its day of month where it can.

    >>> anniversary(date(2024, 2, 29), 12), anniversary(date(2024, 2, 29), 48)
    (datetime.date(2025, 2, 28), datetime.date(2028, 2, 29))
    """
    total = anchor.month - 1 + months
    year, month0 = divmod(total, 12)
    year += anchor.year
    day = min(anchor.day, _calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def opening(started_on: date) -> tuple[date, Month]:
    """A new contract's calendar: its first charge is due on its start day, and its first
    month of usage is the start's month."""
    return started_on, Month(started_on.year, started_on.month)


def billing_period(started_on: date, billed_months: int, months: int) -> tuple[date, date]:
    """The period charged once `billed_months` months of the contract are: `[start, end)`,
    `months` long (1 or 12). Periods tile: each ends on the day the next starts.

    >>> [tuple(map(str, billing_period(date(2026, 1, 31), n, 1))) for n in (0, 1)]
    [('2026-01-31', '2026-02-28'), ('2026-02-28', '2026-03-31')]
    """
    return anniversary(started_on, billed_months), anniversary(started_on, billed_months + months)


def resumed(started_on: date, billed_months: int, months: int, today: date) -> int:
    """The `billed_months` of a contract resumed on `today` after it was stopped (P2: an
    invoice paid after the dunning canceled its subscription): the periods that started
    while it was stopped are skipped, never charged, and the next charge is due on the first
    contract date from `today` on.

    >>> resumed(date(2026, 1, 15), 2, 1, date(2026, 5, 20))   # stopped after 2 months
    5
    >>> resumed(date(2026, 1, 15), 2, 1, date(2026, 3, 10))   # back before its renewal
    2
    """
    while anniversary(started_on, billed_months) < today:
        billed_months += months
    return billed_months


def paid_period(started_on: date, billed_months: int, months: int) -> tuple[date, date] | None:
    """The last period charged (`months` long, the interval of the plan that charged it),
    or None before the first charge."""
    if billed_months < months:
        return None
    return billing_period(started_on, billed_months - months, months)


def next_due_after(
    started_on: date,
    billed_months: int,
    next_bill_on: date,
    usage_month: Month,
    usage_on: int,
    day: date,
) -> date:
    """A lower bound of a contract's next due date once everything due by `day` is billed,
    from its calendar as it stood before: what was due moves on by at least a month."""
    charge = next_bill_on
    if charge <= day:
        charge = anniversary(started_on, billed_months + 1)
    usage = usage_invoice_day(usage_month, usage_on)
    if usage <= day:
        usage = usage_invoice_day(usage_month.next(), usage_on)
    return min(charge, usage)


# --- B2: usage invoices -------------------------------------------------------


def usage_day(plan: Plan, line: ProductLine) -> int:
    """The day of the next month on which a month's usage is invoiced (B2): a plan that only
    sells top-ups on the product line's top-up day (the 1st), any other on its overage day
    (the 8th)."""
    policies = {rule.policy for rule in plan.rules.values()}
    if OveragePolicy.TOP_UP_THEN_BACKLOG in policies and OveragePolicy.BILL not in policies:
        return line.top_up_invoice_day
    return line.overage_invoice_day


def usage_invoice_day(month: Month, day: int) -> date:
    """The day `month`'s usage invoice is issued: `day` of the next month (B2).

    >>> usage_invoice_day(Month(2026, 1), 8)
    datetime.date(2026, 2, 8)
    """
    following = month.next()
    return date(following.year, following.month, day)


# --- B4: plan changes ---------------------------------------------------------


class PlanChange(Protocol):
    """A stored plan change (B4): what `subscription_changes` keeps of it."""

    @property
    def from_plan_id(self) -> int: ...
    @property
    def to_plan_id(self) -> int: ...
    @property
    def direction(self) -> str: ...  # upgrade, downgrade
    @property
    def requested_at(self) -> datetime: ...
    @property
    def effective_on(self) -> date: ...  # account-local
    @property
    def state(self) -> str: ...  # applied, scheduled, superseded


def renewal_starts(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of the renewal on `day`: what waits for a renewal (a downgrade, a
    change of interval, a lower quantity) is in force from then."""
    return local_midnight(day, tz)


def takes_effect(change: PlanChange, tz: ZoneInfo) -> datetime:
    """The instant a change is in force from: an upgrade made at once from when it was made
    (its `effective_on` is that day), a change that waited for a renewal from that
    renewal's first instant (after the request)."""
    return max(change.requested_at, renewal_starts(change.effective_on, tz))


def plan_id_at(changes: Sequence[PlanChange], instant: datetime, tz: ZoneInfo) -> int | None:
    """The plan that prices usage up to `instant` (a month's: its end, CHOICE): the plan a
    change at or after it moved from, else the last one before it moved to; None when no
    change was applied (the subscription's own plan). `changes` in the order they were made."""
    applied = [c for c in changes if c.state == "applied"]
    after = [c for c in applied if takes_effect(c, tz) >= instant]
    if after:
        return after[0].from_plan_id
    if applied:
        return applied[-1].to_plan_id
    return None


# --- B3: the waiver -----------------------------------------------------------


def waives(line: ProductLine, month: Month, invoice_on: date, at: datetime, tz: ZoneInfo) -> bool:
    """Whether an upgrade in force from `at` waives `month`'s overage (B3): where the product
    line says so, if it takes effect from the month's start and before its usage invoice,
    issued on `invoice_on`, begins."""
    if not line.waive_overage_on_upgrade:
        return False
    return month.start(tz) <= at < local_midnight(invoice_on, tz)


def waiving_upgrade(
    line: ProductLine, changes: Sequence[PlanChange], month: Month, day: int, tz: ZoneInfo
) -> PlanChange | None:
    """B3: the applied upgrade that waives `month`'s overage, invoiced on `day`, if any."""
    on = usage_invoice_day(month, day)
    return next(
        (
            c
            for c in changes
            if c.direction == "upgrade"
            and c.state == "applied"
            and waives(line, month, on, takes_effect(c, tz), tz)
        ),
        None,
    )


def months_waived(
    line: ProductLine, first: Month, day: int, at: datetime, tz: ZoneInfo
) -> list[Month]:
    """The months from `first` (the first whose usage is not invoiced yet) whose overage an
    upgrade in force from `at` waives (B3), oldest first: what a plan change's preview
    shows."""
    out = []
    month = first
    while month.start(tz) <= at:
        if waives(line, month, usage_invoice_day(month, day), at, tz):
            out.append(month)
        month = month.next()
    return out


def late_months(
    line: ProductLine,
    changes: Sequence[PlanChange],
    month: Month,
    first: Month,
    day: int,
    tz: ZoneInfo,
) -> list[Month]:
    """The months before `month` whose late usage its usage invoice bills (B7): still open
    (`reporting.open_months_before`), not before the contract's first month, and not
    waived (B3: a waived month waives its late usage too). Oldest first."""
    return [
        m
        for m in open_months_before(month, line.late_usage_grace_days)
        if m >= first and waiving_upgrade(line, changes, m, day, tz) is None
    ]


# --- B4, C3: proration ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proration:
    """What moving a paid period to a higher price on a day inside it costs."""

    period: tuple[date, date]  # the paid period, [start, end)
    days_left: int  # counting the day of the change
    days_in_period: int
    charge: Money  # exact; the invoice rounds it once

    @property
    def charge_rounded(self) -> Money:
        return self.charge.rounded()


def remaining_share(start: date, end: date, on: date) -> tuple[int, int]:
    """Days left in the period [start, end) counting `on` itself, and the period's days.

    A change on 11 June in the period [1 June, 1 July) leaves 20 of 30 days.

    >>> remaining_share(date(2026, 6, 1), date(2026, 7, 1), date(2026, 6, 11))
    (20, 30)
    """
    if not start <= on < end:
        raise InvalidInput("outside_period", f"{on} is not in [{start}, {end})", field="on")
    return (end - on).days, (end - start).days


def prorated_difference(
    paid: Money, new: Money, *, period: tuple[date, date], on: date
) -> Proration:
    """(new − paid) × days left / days in the period, for a change on `on` (B4, C3).

    `paid` is what the period was charged, `new` what it would cost from `on`:
    a plan upgrade changes the price per unit, a raised quantity the units.
    A lower price is not refunded (it waits for the renewal), so the charge is
    never negative.

    Stamp-card Monthly, €29 per location, raised from 1 to 3 locations on
    17 January in the period [1 January, 1 February): 15 of 31 days are left,
    so (3 − 1) × €29 × 15/31 = €870/31 = €28.0645… → €28.06 on the invoice:

        >>> jan = (date(2026, 1, 1), date(2026, 2, 1))
        >>> p = prorated_difference(Money.of(29, "EUR"), Money.of(3 * 29, "EUR"),
        ...                         period=jan, on=date(2026, 1, 17))
        >>> (p.days_left, p.days_in_period, p.charge_rounded)
        (15, 31, Money('28.06', 'EUR'))
    """
    start, end = period
    left, days = remaining_share(start, end, on)
    difference = new - paid
    if difference.amount < 0:
        difference = Money.zero(difference.currency)
    return Proration(period, left, days, prorate(difference, left, days))


def prorate_change(
    started_on: date, billed_months: int, months: int, *, paid: Money, new: Money, on: date
) -> Proration | None:
    """What a change on `on` that raises the price from `paid` to `new` costs now (B4, C3):
    the difference for the days left in the paid period (`months` long, the current plan's
    interval) — None when no period is paid on `on` (nothing charged yet, or the next period
    is due and not charged).

    Loyalty Business $179 → Professional $479 on 20 May, started 12 May: $300 × 23/31:

        >>> p = prorate_change(date(2026, 5, 12), 1, 1, paid=Money.of(179, "USD"),
        ...                    new=Money.of(479, "USD"), on=date(2026, 5, 20))
        >>> (p.period[1], p.days_left, p.days_in_period, p.charge_rounded)
        (datetime.date(2026, 6, 12), 23, 31, Money('222.58', 'USD'))
    """
    period = paid_period(started_on, billed_months, months)
    if period is None or not on < period[1]:
        return None
    return prorated_difference(paid, new, period=period, on=on)
