"""The partners table (A3)."""

from __future__ import annotations

import sqlalchemy as sa

from allot.kit.schema import metadata
from allot.kit.types import ExactDecimal, UTCDateTime

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
    sa.CheckConstraint(
        "kind IN ('agency', 'consultant', 'pos_vendor', 'restaurant_consultant')", name="kind"
    ),
)
