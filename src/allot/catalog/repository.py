"""Every query of the catalog domain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.catalog.codec import plan_from_json, plan_to_json
from allot.catalog.models import catalog_names, metrics, plans, product_lines
from allot.core.catalog import Metric, MetricKind, Plan, ProductLine
from allot.core.dunning import FinalRule

_GET_METRIC = sa.select(metrics).where(metrics.c.code == sa.bindparam("code"))


def get_metric(conn: Connection, code: str) -> Metric | None:
    row = conn.execute(_GET_METRIC, {"code": code}).one_or_none()
    return None if row is None else _metric(row)


_GET_KIND = sa.select(metrics.c.kind).where(metrics.c.code == sa.bindparam("code"))


def metric_kind(conn: Connection, code: str) -> MetricKind | None:
    """Read on every call, never remembered: a metric read in a transaction that rolls
    back may come back as another kind, and the answer must follow the committed one."""
    kind = conn.execute(_GET_KIND, {"code": code}).scalar_one_or_none()
    return None if kind is None else MetricKind(kind)


def list_metrics(conn: Connection) -> list[Metric]:
    return [_metric(r) for r in conn.execute(sa.select(metrics).order_by(metrics.c.code))]


def _metric(row: Any) -> Metric:
    return Metric(row.code, row.name, MetricKind(row.kind), row.unit, row.description)


def save_metric(conn: Connection, metric: Metric, *, catalog: str, exists: bool) -> None:
    values = {
        "catalog": catalog,
        "name": metric.name,
        "kind": metric.kind.value,
        "unit": metric.unit,
        "description": metric.description,
    }
    if exists:
        conn.execute(sa.update(metrics).where(metrics.c.code == metric.code).values(**values))
    else:
        conn.execute(sa.insert(metrics).values(code=metric.code, **values))


def get_product_line(conn: Connection, code: str) -> ProductLine | None:
    row = conn.execute(sa.select(product_lines).where(product_lines.c.code == code)).one_or_none()
    if row is None:
        return None
    return ProductLine(
        row.code,
        row.name,
        tuple(row.ladder),
        row.overage_invoice_day,
        row.top_up_invoice_day,
        row.waive_overage_on_upgrade,
        row.referral_reward,
        row.archive_oldest,
        row.late_usage_grace_days,
        tuple(row.retry_days),
        FinalRule(row.final_rule),
    )


def save_product_line(conn: Connection, line: ProductLine, *, catalog: str) -> None:
    values = {
        "catalog": catalog,
        "name": line.name,
        "ladder": list(line.ladder),
        "overage_invoice_day": line.overage_invoice_day,
        "top_up_invoice_day": line.top_up_invoice_day,
        "waive_overage_on_upgrade": line.waive_overage_on_upgrade,
        "referral_reward": line.referral_reward,
        "archive_oldest": line.archive_oldest,
        "late_usage_grace_days": line.late_usage_grace_days,
        "retry_days": list(line.retry_days),
        "final_rule": line.final_rule.value,
    }
    updated = conn.execute(
        sa.update(product_lines).where(product_lines.c.code == line.code).values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(sa.insert(product_lines).values(code=line.code, **values))


def latest_plan(conn: Connection, code: str) -> tuple[int, Plan] | None:
    row = conn.execute(
        sa.select(plans.c.id, plans.c.definition)
        .where(plans.c.code == code)
        .order_by(plans.c.version.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else (row.id, plan_from_json(row.definition))


def insert_plan(
    conn: Connection, plan: Plan, *, catalog: str, details: Mapping[str, Any], at: datetime
) -> int:
    result = conn.execute(
        sa.insert(plans)
        .values(
            code=plan.code,
            version=plan.version,
            catalog=catalog,
            product_line=plan.product_line,
            name=plan.name,
            currency=plan.currency,
            price=plan.price,
            interval=plan.interval.value,
            definition=plan_to_json(plan),
            details=dict(details),
            created_at=at,
        )
        .returning(plans.c.id)
    )
    return int(result.scalar_one())


def latest_plans(conn: Connection) -> list[tuple[int, Plan, dict[str, Any]]]:
    newest = (
        sa.select(plans.c.code, sa.func.max(plans.c.version).label("version"))
        .group_by(plans.c.code)
        .subquery()
    )
    rows = conn.execute(
        sa.select(plans.c.id, plans.c.definition, plans.c.details)
        .join(newest, sa.and_(plans.c.code == newest.c.code, plans.c.version == newest.c.version))
        .order_by(plans.c.product_line, plans.c.id)
    )
    return [(r.id, plan_from_json(r.definition), dict(r.details)) for r in rows]


def replace_names(
    conn: Connection, catalog: str, names: Mapping[str, Mapping[str, Mapping[str, str]]]
) -> None:
    """The catalog's translated names, all of them at once (lang → kind → code → name). A
    code another catalog also names (a shared metric) takes the name loaded last, as the
    metric itself does."""
    conn.execute(sa.delete(catalog_names).where(catalog_names.c.catalog == catalog))
    rows = [
        {"lang": lang, "kind": kind, "code": code, "catalog": catalog, "name": name}
        for lang, kinds in names.items()
        for kind, named in kinds.items()
        for code, name in named.items()
    ]
    for row in rows:
        conn.execute(
            sa.delete(catalog_names).where(
                catalog_names.c.lang == row["lang"],
                catalog_names.c.kind == row["kind"],
                catalog_names.c.code == row["code"],
            )
        )
    if rows:
        conn.execute(sa.insert(catalog_names), rows)


def names_in(conn: Connection, lang: str) -> dict[tuple[str, str], str]:
    """Every translated name of one language, by (kind, code)."""
    rows = conn.execute(
        sa.select(catalog_names.c.kind, catalog_names.c.code, catalog_names.c.name).where(
            catalog_names.c.lang == lang
        )
    )
    return {(r[0], r[1]): r[2] for r in rows}
