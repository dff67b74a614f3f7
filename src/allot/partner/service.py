"""Partner use cases: enrolment by the operator, with wholesale terms (A3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy.engine import Connection

from allot import audit
from allot.catalog import repository as catalog_repo
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.core.money import exponent, to_decimal
from allot.kit import validate
from allot.kit.clock import Clock
from allot.partner import repository as repo
from allot.partner.models import PartnerKind
from allot.partner.repository import PartnerRow

KINDS = tuple(PartnerKind)


def enroll_partner(
    conn: Connection,
    clock: Clock,
    *,
    partner_id: str,
    name: str,
    kind: str,
    contact: str,
    currency: str,
    wholesale_discount: Decimal | str,
    prices: Mapping[str, Decimal | str],
) -> PartnerRow:
    """Enrol a partner with its terms: a discount off its resources' monthly prices."""
    validate.identifier(partner_id, field="id")
    if kind not in KINDS:
        raise InvalidInput(
            "invalid_partner_kind", f"kind must be one of {', '.join(KINDS)}", field="kind"
        )
    exponent(currency)
    discount = to_decimal(wholesale_discount, field="wholesale_discount")
    if not Decimal(0) <= discount < Decimal(1):
        raise InvalidInput(
            "invalid_discount",
            "a discount is a fraction from 0 to below 1",
            field="wholesale_discount",
        )
    clean: dict[str, Decimal] = {}
    for metric, price in prices.items():
        if catalog_repo.get_metric(conn, metric) is None:
            raise NotFound("metric_not_found", f"no metric {metric!r}", field=f"prices.{metric}")
        amount = to_decimal(price, field=f"prices.{metric}")
        if amount < 0:
            raise InvalidInput(
                "negative_price", "a price cannot be negative", field=f"prices.{metric}"
            )
        clean[metric] = amount
    if repo.get(conn, partner_id) is not None:
        raise Conflict("partner_exists", f"partner {partner_id!r} already exists", field="id")
    row = PartnerRow(
        partner_id,
        validate.line(name, field="name"),
        kind,
        validate.text(contact, field="contact"),
        currency,
        discount,
        clean,
        clock.now(),
    )
    repo.insert(conn, row)
    audit.record(
        conn, clock, change="partner.enrolled", subject_kind="partner", subject_id=row.id,
        partner_id=row.id, after=row,
    )  # fmt: skip
    return row


def get_partner(conn: Connection, partner_id: str, *, lock: bool = False) -> PartnerRow:
    found = repo.get(conn, partner_id, lock=lock)
    if found is None:
        raise NotFound("partner_not_found", f"no partner {partner_id!r}", field="partner_id")
    return found


def list_partners(conn: Connection) -> list[PartnerRow]:
    return repo.list_all(conn)
