"""The partners table (A3)."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import ExactDecimal, UTCDateTime


class PartnerKind(StrEnum):
    """Who resells (seed 000): agencies, consultants, POS vendors."""

    AGENCY = "agency"
    CONSULTANT = "consultant"
    POS_VENDOR = "pos_vendor"
    RESTAURANT_CONSULTANT = "restaurant_consultant"


partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("contact", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("wholesale_discount", ExactDecimal, nullable=False),  # 0.25 = 25 % off
    sa.Column("prices", sa.JSON, nullable=False),  # metric → price per unit per month (text)
    sa.Column("created_at", UTCDateTime, nullable=False),
    # the next month to invoice at wholesale terms (B5 partner invoices)
    sa.Column("invoice_month", sa.String(7), nullable=True),
    one_of("kind", PartnerKind),
)

# What a partner is billed for a month at its wholesale terms (K8): one row per
# code and resource, exact amounts as text; invoices are issued from these.
partner_charges = sa.Table(
    "partner_charges",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("grant_id", sa.BigInteger, primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("unit_price", ExactDecimal, nullable=False),
    sa.Column("discount", ExactDecimal, nullable=False),
    sa.Column("amount", ExactDecimal, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
)

# A3: what a partner bought to give out in its codes — monthly units per resource. Its
# live codes (issued, claimed or paused; not revoked, not ended) hold part of it; a code
# is issued only from what is left. A partner without any row issues without a cap.
partner_inventory = sa.Table(
    "partner_inventory",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), primary_key=True),
    sa.Column("metric", sa.String(64), sa.ForeignKey("metrics.code"), primary_key=True),
    sa.Column("bought", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("bought >= 0", name="bought_not_negative"),
)

# Every change of an inventory, append-only: the inventory is their sum (DESIGN rule 6).
partner_inventory_moves = sa.Table(
    "partner_inventory_moves",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("metric", sa.String(64), sa.ForeignKey("metrics.code"), nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),  # added (> 0) or given back (< 0)
    sa.Column("note", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_partner_inventory_moves_partner", "partner_id", "id"),
)
