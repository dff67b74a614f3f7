"""Small catalogs and set-ups built in code, for tests that should not depend on a preset."""

from __future__ import annotations

from decimal import Decimal

from allot.catalog.service import load_catalog
from allot.core.catalog import (
    Catalog,
    Interval,
    Metric,
    MetricKind,
    MetricRule,
    OveragePolicy,
    Plan,
    ProductLine,
)
from allot.kit.clock import Clock
from allot.kit.db import Database

BILL = OveragePolicy.BILL
PROMPT = OveragePolicy.RECORD_AND_PROMPT
BLOCK = OveragePolicy.BLOCK


def rule(metric: str, included: int, policy: OveragePolicy, price: str | None = None) -> MetricRule:
    return MetricRule(metric, included, policy, None if price is None else Decimal(price))


def cards_catalog() -> Catalog:
    """A stamp-card-like catalog: free (100 operations, 1 seat), paid, and a blocking plan."""
    metrics = {
        "card_operations": Metric("card_operations", "Card operations", MetricKind.COUNTER),
        "staff_seats": Metric("staff_seats", "Staff seats", MetricKind.GAUGE, "seat"),
        "orders": Metric("orders", "Orders", MetricKind.COUNTER, "order"),
    }
    plans = {
        "free": Plan(
            "free",
            "Card scanner (free)",
            "cards",
            "EUR",
            Decimal(0),
            Interval.MONTH,
            {
                "card_operations": rule("card_operations", 100, PROMPT),
                "staff_seats": rule("staff_seats", 1, PROMPT),
            },
        ),
        "paid": Plan(
            "paid",
            "Monthly",
            "cards",
            "EUR",
            Decimal(29),
            Interval.MONTH,
            {
                "card_operations": rule("card_operations", 1000, BILL, "0.02"),
                "staff_seats": rule("staff_seats", 1, BILL, "5"),
            },
            per_quantity=True,
        ),
        "strict": Plan(
            "strict",
            "Strict",
            "strict",
            "EUR",
            Decimal(10),
            Interval.MONTH,
            {"orders": rule("orders", 10, BLOCK)},
        ),
    }
    lines = {
        "cards": ProductLine("cards", "Cards", ("free", "paid")),
        "strict": ProductLine("strict", "Strict", ("strict",)),
    }
    return Catalog("test-cards", metrics, lines, plans)


def load(db: Database, clock: Clock, catalog: Catalog | None = None) -> None:
    with db.transaction() as conn:
        load_catalog(conn, clock, catalog=catalog or cards_catalog())
