"""Who bills and who is billed, as each document keeps them (B8).

A document is issued with a copy of both parties — its *snapshot*, stored with
it as JSON: `{"name": …, "reference": …, "details": BillingDetails JSON}`. The
seller is the operator's identity (`seller` table, set once with `set_seller`);
the bill-to party is the account's name and billing details (A1) or the
partner's name. Rendering reads only the snapshot, so a document printed years
later still names the parties as they were when it was issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot import audit
from allot.account.repository import AccountRow
from allot.core.errors import InvalidInput
from allot.invoice.document import Party
from allot.invoice.models import seller
from allot.kit.clock import Clock
from allot.kit.db import insert_for
from allot.kit.i18n import language
from allot.kit.parties import BillingDetails, check_details

Snapshot = dict[str, Any]

# What documents issued before the operator set its identity name as the seller.
UNSET_SELLER: Snapshot = {"name": "allot", "reference": "operator", "details": {}}


def seller_details(conn: Connection) -> BillingDetails | None:
    details = conn.execute(sa.select(seller.c.details)).scalar_one_or_none()
    return None if details is None else BillingDetails.from_json(details)


def set_seller(conn: Connection, clock: Clock, details: Mapping[str, Any]) -> BillingDetails:
    """The operator's identity on every document issued from now on (legal name and address
    required: an invoice must say who issued it and where)."""
    checked = check_details(details, field="seller")
    for name, value in (("legal_name", checked.legal_name), ("address", checked.address)):
        if value is None:
            raise InvalidInput("required", "the seller's documents need it", field=f"seller.{name}")
    was = seller_details(conn)
    values = {"details": checked.to_json(), "updated_at": clock.now()}
    insert = insert_for(conn, seller).values(id=1, **values)
    conn.execute(insert.on_conflict_do_update(index_elements=["id"], set_=values))
    audit.record(
        conn, clock, change="seller.set", subject_kind="seller", subject_id="operator",
        before=None if was is None else was.to_json(), after=checked.to_json(),
    )  # fmt: skip
    return checked


def seller_snapshot(conn: Connection) -> Snapshot:
    details = seller_details(conn)
    if details is None:
        return dict(UNSET_SELLER)
    return {"name": details.legal_name, "reference": None, "details": details.to_json()}


def account_snapshot(account: AccountRow) -> Snapshot:
    """The business as billed: its legal name if it gave one, else its name (A1), and the
    language its documents are written in (W2)."""
    return {
        "name": account.details.legal_name or account.name,
        "reference": account.id,
        "details": account.billing_details or {},
        "locale": account.locale,
    }


def language_of(snapshot: Mapping[str, Any]) -> str:
    """The language a document was issued in: its bill-to party's, English before W2."""
    return language(snapshot.get("locale"))


def partner_snapshot(partner_id: str, name: str) -> Snapshot:
    return {"name": name, "reference": partner_id, "details": {}}


def party(snapshot: Mapping[str, Any], locale: str = "en") -> Party:
    """A snapshot as a document prints it (country names in `locale`)."""
    details = BillingDetails.from_json(snapshot.get("details"))
    return Party(
        name=str(snapshot["name"]),
        reference=snapshot.get("reference") or "",
        address=() if details.address is None else details.address.lines(locale),
        tax_id=details.tax_id,
        email=details.email,
    )
