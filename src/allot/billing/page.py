"""The business's "Billing & invoices" page (W1), as data: every number of it, read in one
transaction from what the engine already keeps, for the pages to render.

It gathers the usage page (codes with their bars, plans, "Used: 9 / 100 included per
month"), each subscription's next billing date, the banner (`billing_status`), the credit
balance, the invoice history, and for a store its Reviews gate. Reading it writes nothing
but what the Reviews page itself does when a month turns (the backlog it releases).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from allot.account.repository import AccountRow
from allot.account.service import get_account
from allot.billing.advice import MonthAdvice, upgrade_advice
from allot.billing.collect import Links
from allot.billing.payments import BillingStatus, billing_status
from allot.catalog import repository as catalog_repo
from allot.core.catalog import Plan
from allot.core.money import Money
from allot.invoice import repository as invoice_repo
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import Clock
from allot.referral.repository import program_of
from allot.referral.service import DEFAULT_LINK, ReferralPage, referral_page
from allot.reviews.gate import ORDERS
from allot.reviews.service import ReviewStatus, review_status
from allot.subscription import repository as sub_repo
from allot.subscription.repository import LiveSubscription
from allot.usage.repository import counters as counter_repo
from allot.usage.summary import UsageSummary, usage_summary

HISTORY = 24  # invoices listed: two years of monthly invoices


@dataclass(frozen=True, slots=True)
class BillingPage:
    account: AccountRow
    usage: UsageSummary
    subscriptions: tuple[LiveSubscription, ...]
    status: BillingStatus
    credit_balance: Money
    invoices: tuple[InvoiceRow, ...]  # newest first, without lines
    advice: tuple[MonthAdvice, ...]  # V1: where another plan would cost less
    referral: ReferralPage | None  # A4: the referral link, once switched on
    reviews: ReviewStatus | None  # R2-R5: a store's orders, top-up and review requests
    alerts: tuple[Alert, ...]  # U7: the usage alerts sent this month, as notices


@dataclass(frozen=True, slots=True)
class Alert:
    metric: str  # the metric's name
    source: str  # what the page calls the allowance (a code's label, the plan's)
    kind: str  # the waterfall's kind of that source (grant, plan, ...)
    threshold: int  # 80 or 100 (%)


def plans_to_choose(conn: Connection, sub: LiveSubscription) -> list[Plan]:
    """EDIT TARIFF PLAN's choices: the plans of the subscription's product line, in the
    catalog's order, the current one among them (by agreement plans are not self-served)."""
    return [
        plan
        for _id, plan, _details in catalog_repo.latest_plans(conn)
        if plan.product_line == sub.product_line and not plan.by_agreement
    ]


def billing_page(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    links: Links,
    referral_link: str = DEFAULT_LINK,
) -> BillingPage:
    account = get_account(conn, account_id)
    referral = None
    if program_of(conn, account_id) is not None:
        referral = referral_page(conn, account_id=account_id, link_template=referral_link)
    subscriptions = tuple(sub_repo.live(conn, account_id))
    reviews = None
    if any(sub.plan.rule(ORDERS) is not None for sub in subscriptions):
        reviews = review_status(conn, clock, account_id=account_id)  # rolls a new month first
    usage = usage_summary(conn, clock, account_id=account_id)
    return BillingPage(
        account=account,
        usage=usage,
        subscriptions=subscriptions,
        status=billing_status(conn, account_id=account_id, links=links),
        credit_balance=Money.from_minor(account.credit_balance_minor, account.currency),
        invoices=tuple(invoice_repo.listing(conn, account_id=account_id, limit=HISTORY)),
        advice=tuple(
            a for a in upgrade_advice(conn, clock, account_id=account_id) if a.advice.upgrade
        ),
        referral=referral,
        reviews=reviews,
        alerts=_alerts(conn, usage),
    )


def _alerts(conn: Connection, usage: UsageSummary) -> tuple[Alert, ...]:
    metrics = {m.metric: m for m in usage.metrics}
    found = []
    for metric, source, threshold in counter_repo.alerts_of(conn, usage.account_id, usage.month):
        m = metrics.get(metric)
        split = next((s for s in m.split if s.source == source), None) if m else None
        found.append(
            Alert(
                metric=m.name if m else metric,
                source=split.label if split else source,
                kind=split.kind if split else "",
                threshold=threshold,
            )
        )
    return tuple(found)
