"""Plans as canonical JSON: how an immutable plan version is stored and read back.

`plan_from_json` is cached on the JSON text itself, so the hot path pays for
parsing a plan once per process, and a changed plan (a new version, a new
text) can never be served from a stale entry.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from allot.core.catalog import Interval, MetricRule, OveragePolicy, Plan


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def plan_to_json(plan: Plan) -> str:
    doc: dict[str, Any] = {
        "code": plan.code,
        "version": plan.version,
        "name": plan.name,
        "product_line": plan.product_line,
        "currency": plan.currency,
        "price": _dec(plan.price),
        "interval": plan.interval.value,
        "per_quantity": plan.per_quantity,
        "features": sorted(plan.features),
        "note": plan.note,
        "rules": {
            metric: {
                "included": rule.included,
                "policy": rule.policy.value,
                "overage_price": _dec(rule.overage_price),
                "top_up_price": _dec(rule.top_up_price),
            }
            for metric, rule in sorted(plan.rules.items())
        },
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _opt_dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@lru_cache(maxsize=4096)
def plan_from_json(text: str) -> Plan:
    doc = json.loads(text)
    return Plan(
        code=doc["code"],
        version=doc["version"],
        name=doc["name"],
        product_line=doc["product_line"],
        currency=doc["currency"],
        price=_opt_dec(doc["price"]),
        interval=Interval(doc["interval"]),
        per_quantity=doc["per_quantity"],
        features=frozenset(doc["features"]),
        note=doc["note"],
        rules={
            metric: MetricRule(
                metric=metric,
                included=r["included"],
                policy=OveragePolicy(r["policy"]),
                overage_price=_opt_dec(r["overage_price"]),
                top_up_price=_opt_dec(r["top_up_price"]),
            )
            for metric, r in doc["rules"].items()
        },
    )
