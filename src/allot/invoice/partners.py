"""Partner invoices (B5, K8): each partner billed monthly for its codes at wholesale terms.

A business never pays for what its Access Codes cover; the partner that
issued them does. For every calendar month (UTC, like the partner report)
that has ended, the run computes the partner's month (`partner_month`, which
also stores its charges) and issues one invoice on the 1st of the next
month: a line per code and resource, at the partner's price less its
discount. Like every invoice it is unique per `billing_key`, and the
partner's `invoice_month` cursor moves in the same transaction.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from sqlalchemy.engine import Connection

from allot.catalog import repository as catalog_repo
from allot.core.errors import NotFound
from allot.core.invoicing import Charge, ChargeKind
from allot.core.periods import Month
from allot.invoice import parties, service, wording
from allot.invoice.repository import InvoiceRow
from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.partner import repository as partner_repo
from allot.partner.reporting import partner_month


def bill_partners(db: Database, clock: Clock) -> list[InvoiceRow]:
    with db.read() as conn:
        ids = [p.id for p in partner_repo.list_all(conn)]
    issued: list[InvoiceRow] = []
    for partner_id in ids:
        with db.transaction() as conn:
            issued += bill_partner(conn, clock, partner_id=partner_id)
    return issued


def bill_partner(conn: Connection, clock: Clock, *, partner_id: str) -> list[InvoiceRow]:
    partner = partner_repo.get(conn, partner_id, lock=True)
    if partner is None:
        raise NotFound("partner_not_found", f"no partner {partner_id!r}", field="partner_id")
    today = clock.now().astimezone(UTC).date()
    cursor = partner_repo.invoice_month(conn, partner_id)
    created = partner.created_at.astimezone(UTC)
    month = Month.parse(cursor) if cursor else Month(created.year, created.month)
    names = {m.code: m.name for m in catalog_repo.list_metrics(conn)}
    keep = Decimal(1) - partner.wholesale_discount
    issued = []
    while (on := month.next().first_day()) <= today:
        report = partner_month(conn, clock, partner_id=partner_id, month=month, store=True)
        charges = [
            Charge(
                ChargeKind.WHOLESALE,
                wording.wholesale(
                    "en", code.label, names.get(r.metric, r.metric), r.available, code.account_id
                ),
                r.available,
                r.unit_price * keep,
                r.amount,
                metric=r.metric,
                period_start=month.first_day(),
                period_end=on,
            )
            for code in report.codes
            if code.billed
            for r in code.resources
            if r.amount
        ]
        if charges:
            issued.append(
                service.issue(
                    conn,
                    clock,
                    billing_key=f"partner:{partner_id}:{month}",
                    kind="partner",
                    currency=partner.currency,
                    charges=charges,
                    issued_on=on,
                    tax_rate=Decimal(0),
                    partner_id=partner_id,
                    bill_to=parties.partner_snapshot(partner_id, partner.name),
                    period=(month.first_day(), on),
                    notes=[wording.wholesale_terms("en", partner.wholesale_discount)],
                )
            )
        month = month.next()
        partner_repo.set_invoice_month(conn, partner_id, month.key)
    return issued
