"""A partner's month: each code's use by its business, and what the partner owes (K8).

Usage drawn from a code never reaches the business's invoices; the partner
pays for its codes instead, at its wholesale terms: for every code live in
the month, each resource of its package × the partner's price for it × (1 −
its discount). A code that is claimed, not revoked and within its term at
some time of the month is billed for the month — paused or not, since the
partner holds the resources. Months are calendar months in UTC. The amounts
are stored (`partner_charges`) for the invoicing to issue; they stay exact
here and are rounded once, on the invoice.

    36 seats × €5 × 0.7 + 18 operations × €0.02 × 0.7 = €126.252
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from allot.catalog import repository as catalog_repo
from allot.core.catalog import MetricKind
from allot.core.money import Money
from allot.core.periods import Month
from allot.grant import repository as grant_repo
from allot.grant.repository import GrantRow
from allot.kit.clock import Clock
from allot.partner import repository as repo
from allot.partner.service import get_partner
from allot.usage.repository import counters as counter_repo
from allot.usage.repository import holds as hold_repo

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class ResourceMonth:
    metric: str
    used: int
    available: int
    unit_price: Decimal
    amount: Decimal  # exact, after the discount


@dataclass(frozen=True, slots=True)
class CodeMonth:
    number: int
    label: str
    account_id: str | None
    billed: bool
    resources: tuple[ResourceMonth, ...]


@dataclass(frozen=True, slots=True)
class PartnerMonth:
    partner_id: str
    month: str
    currency: str
    discount: Decimal
    codes: tuple[CodeMonth, ...]
    total: Money  # exact; rounded on the invoice

    @property
    def total_rounded(self) -> Money:
        return self.total.rounded()


def _live_in(code: GrantRow, month: Month) -> bool:
    """Claimed, not yet revoked and within its term at some instant of the month."""
    if code.claimed_at is None:
        return False
    first = max(t for t in (month.start(_UTC), code.claimed_at, code.starts_at) if t is not None)
    last = min(t for t in (month.end(_UTC), code.revoked_at, code.ends_at) if t is not None)
    return first < last


def partner_month(
    conn: Connection, clock: Clock, *, partner_id: str, month: Month, store: bool = True
) -> PartnerMonth:
    """Compute the month and return the report; `store` keeps its charges for invoicing."""
    partner = get_partner(conn, partner_id)
    start, end = month.start(_UTC).astimezone(UTC), month.end(_UTC).astimezone(UTC)
    kinds = {m.code: m.kind for m in catalog_repo.list_metrics(conn)}
    keep = Decimal(1) - partner.wholesale_discount
    codes, charges = [], []
    total = Money.zero(partner.currency)
    for code in grant_repo.of_partner(conn, partner_id):
        assert code.number is not None
        billed = _live_in(code, month)
        resources = []
        for metric, available in sorted(code.allowances.items()):
            used = 0
            if code.account_id is None:
                pass
            elif kinds.get(metric) is MetricKind.GAUGE:  # seats: who held one this month
                used = hold_repo.holders_from(
                    conn, code.account_id, code.source, metric, start, end
                )
            else:
                used = counter_repo.counters(conn, code.account_id, metric, month.key).get(
                    code.source, 0
                )
            price = partner.prices.get(metric, Decimal(0))
            amount = available * price * keep if billed else Decimal(0)
            resources.append(ResourceMonth(metric, used, available, price, amount))
            if billed:
                total += Money.of(amount, partner.currency)
                charges.append(
                    {
                        "grant_id": code.id,
                        "metric": metric,
                        "quantity": available,
                        "unit_price": price,
                        "discount": partner.wholesale_discount,
                        "amount": amount,
                    }
                )
        codes.append(CodeMonth(code.number, code.label, code.account_id, billed, tuple(resources)))
    if store:
        repo.save_charges(conn, partner_id, month.key, charges, clock.now())
    return PartnerMonth(
        partner_id, month.key, partner.currency, partner.wholesale_discount, tuple(codes), total
    )
