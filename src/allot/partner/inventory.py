"""A partner's inventory (A3): the resources it bought to give out in its codes.

The operator tops an inventory up (or takes back what no code holds). Each live code of
the partner — issued, claimed or paused; not revoked, not ended — holds its package's
monthly units; what is left is what the next code may hold. Issuing past it is refused,
naming the resource and what is left:

    bought 100 staff seats; codes hold 36 + 36; left 28 → a code of 36 seats is refused.

A partner with no inventory at all issues without a cap (and is billed for its codes per
month either way, K8). The inventory is the sum of its moves (`partner_inventory_moves`,
append-only); every top-up is in the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot import audit
from allot.catalog import repository as catalog_repo
from allot.core.errors import Conflict, InvalidInput, NotFound, Refused
from allot.grant import repository as grant_repo
from allot.kit import validate
from allot.kit.clock import Clock
from allot.kit.db import insert_for
from allot.partner.models import partner_inventory, partner_inventory_moves
from allot.partner.service import get_partner

MAX_UNITS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Stock:
    metric: str
    bought: int
    held: int  # by the partner's live codes

    @property
    def left(self) -> int:
        return self.bought - self.held


def _bought(conn: Connection, partner_id: str) -> dict[str, int]:
    t = partner_inventory
    rows = conn.execute(sa.select(t.c.metric, t.c.bought).where(t.c.partner_id == partner_id))
    return {metric: int(n) for metric, n in rows}


def stock(conn: Connection, clock: Clock, *, partner_id: str) -> list[Stock]:
    """Every resource bought or held, by metric code; none for a partner without an
    inventory (its codes have no cap)."""
    get_partner(conn, partner_id)
    bought = _bought(conn, partner_id)
    if not bought:
        return []
    held = grant_repo.held_by_codes(conn, partner_id, clock.now())
    return [
        Stock(metric, bought.get(metric, 0), held.get(metric, 0))
        for metric in sorted(set(bought) | set(held))
    ]


def check_room(
    conn: Connection, clock: Clock, *, partner_id: str, allowances: Mapping[str, int]
) -> None:
    """A new code's package fits in what is left (the partner's row is locked by the
    caller, so two codes cannot both take the last units)."""
    bought = _bought(conn, partner_id)
    if not bought:
        return  # no inventory: no cap
    held = grant_repo.held_by_codes(conn, partner_id, clock.now())
    for metric, quantity in sorted(allowances.items()):
        left = bought.get(metric, 0) - held.get(metric, 0)
        if quantity > left:
            raise Refused(
                "inventory_exceeded",
                f"only {max(left, 0)} {metric} left in the inventory; this code asks for "
                f"{quantity} (the operator tops the inventory up)",
                field=f"allowances.{metric}",
            )


def top_up(
    conn: Connection,
    clock: Clock,
    *,
    partner_id: str,
    quantities: Mapping[str, int],
    note: str = "",
) -> list[Stock]:
    """Add monthly units per resource (a negative quantity gives back units no code holds)."""
    get_partner(conn, partner_id, lock=True)
    if not quantities:
        raise InvalidInput("empty_top_up", "name at least one resource", field="quantities")
    text = validate.text(note, field="note") if note else ""
    before = stock(conn, clock, partner_id=partner_id)
    now = {s.metric: s for s in before}
    for metric, quantity in sorted(quantities.items()):
        field = f"quantities.{metric}"
        if catalog_repo.get_metric(conn, metric) is None:
            raise NotFound("metric_not_found", f"no metric {metric!r} in the catalog", field=field)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
            raise InvalidInput("invalid_quantity", "a whole number of units, not 0", field=field)
        if abs(quantity) > MAX_UNITS:
            raise InvalidInput("invalid_quantity", f"at most {MAX_UNITS:,} at a time", field=field)
        was = now.get(metric, Stock(metric, 0, 0))
        bought = was.bought + quantity
        if bought < was.held:
            raise Conflict(
                "inventory_held",
                f"the codes hold {was.held} {metric}: the inventory cannot go below that",
                field=field,
            )
        values = {"bought": bought, "updated_at": clock.now()}
        upsert = insert_for(conn, partner_inventory).values(
            partner_id=partner_id, metric=metric, **values
        )
        key = ["partner_id", "metric"]
        conn.execute(upsert.on_conflict_do_update(index_elements=key, set_=values))
        conn.execute(
            sa.insert(partner_inventory_moves).values(
                partner_id=partner_id, metric=metric, quantity=quantity, note=text, at=clock.now()
            )
        )
        now[metric] = Stock(metric, bought, was.held)
    after = stock(conn, clock, partner_id=partner_id)
    audit.record(
        conn, clock, change="inventory.topped_up", subject_kind="inventory",
        subject_id=partner_id, partner_id=partner_id,
        before={s.metric: s.bought for s in before}, after={s.metric: s.bought for s in after},
    )  # fmt: skip
    return after
