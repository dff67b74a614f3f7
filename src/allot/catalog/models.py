"""Catalog tables: metrics, product lines and immutable plan versions (C5)."""

from __future__ import annotations

import sqlalchemy as sa

from allot.core.catalog import MetricKind, NameKind
from allot.core.dunning import FinalRule
from allot.kit.schema import BigId, metadata, one_of
from allot.kit.types import ExactDecimal, UTCDateTime

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("catalog", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    one_of("kind", MetricKind),
)

product_lines = sa.Table(
    "product_lines",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("catalog", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("ladder", sa.JSON, nullable=False),
    sa.Column("overage_invoice_day", sa.Integer, nullable=False),
    sa.Column("top_up_invoice_day", sa.Integer, nullable=False),
    sa.Column("waive_overage_on_upgrade", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("referral_reward", ExactDecimal, nullable=True),  # A4
    sa.Column("archive_oldest", sa.Boolean, nullable=False, server_default=sa.false()),  # R3
    sa.Column("late_usage_grace_days", sa.Integer, nullable=False, server_default="35"),  # B7
    # P2: the dunning schedule (days after the first failure) and the final rule
    sa.Column("retry_days", sa.JSON, nullable=False, server_default="[1, 3, 5, 7, 9, 11, 13]"),
    sa.Column("final_rule", sa.String(16), nullable=False, server_default="keep"),
    one_of("final_rule", FinalRule),
)

# A row is one version of a plan and never changes: `definition` holds the
# whole plan as canonical JSON, the other columns are there to query by.
plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("catalog", sa.String(64), nullable=False),
    sa.Column("product_line", sa.String(64), sa.ForeignKey("product_lines.code"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("price", ExactDecimal, nullable=True),
    sa.Column("interval", sa.String(8), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("code", "version", name="uq_plans_code_version"),
)


# W2: the names of metrics, product lines, plans and features in the languages beside
# English, as the catalog file's `translations:` gives them; replaced whole whenever its
# catalog is loaded. Not part of a plan's terms: a better word makes no new version.
catalog_names = sa.Table(
    "catalog_names",
    metadata,
    sa.Column("lang", sa.String(8), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # metrics, product_lines, plans, features
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("catalog", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Index("ix_catalog_names_catalog", "catalog"),
    one_of("kind", NameKind),
)
