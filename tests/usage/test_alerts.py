"""Usage alerts (U7) and overage events reach the webhooks' outbox, once per month."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from allot.billing.changes import change_quantity
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.webhook.models import webhook_events
from tests.scenarios.world import World, local


@pytest.fixture
def world(db: Database) -> World:
    return World(db, FixedClock(local("Europe/Kyiv", 2026, 3, 2, 9)))


def events(world: World, kind: str) -> list[dict[str, Any]]:
    with world.db.read() as conn:
        rows = conn.execute(
            sa.select(webhook_events.c.payload)
            .where(webhook_events.c.type == kind)
            .order_by(webhook_events.c.id)
        )
        return [dict(r.payload) for r in rows]


def test_U7_a_code_of_18_alerts_at_the_15th_and_18th_operation_once_a_month(
    world: World,
) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    code = world.grant(cafe, {"card_operations": 18}, label="Code #1")
    world.consume_many(cafe, 14)
    assert events(world, "usage.threshold_reached") == []
    world.consume(cafe)  # the 15th: 80 % of 18 is 14.4
    world.consume_many(cafe, 3)  # the 18th: 100 %
    world.consume_many(cafe, 5)  # past the code: no repeat
    alerts = events(world, "usage.threshold_reached")
    assert [(a["source"], a["threshold_percent"], a["used"]) for a in alerts] == [
        (code.source, 80, 15),
        (code.source, 100, 18),
    ]
    world.clock.set(local("Europe/Kyiv", 2026, 4, 1, 9))
    world.consume(cafe, quantity=18)  # a new month: both again, in one action
    april = events(world, "usage.threshold_reached")[2:]
    assert [(a["month"], a["threshold_percent"]) for a in april] == [
        ("2026-04", 80),
        ("2026-04", 100),
    ]


def test_U7_U4_the_free_plan_alerts_then_records_overage(world: World) -> None:
    cafe = world.business("cafe", plan="card-scanner-free")
    world.consume(cafe, quantity=80)
    world.consume(cafe, quantity=20)
    world.consume(cafe)
    plan_alerts = [
        (a["source_kind"], a["threshold_percent"]) for a in events(world, "usage.threshold_reached")
    ]
    assert plan_alerts == [("plan", 80), ("plan", 100)]
    (overage,) = events(world, "usage.overage_recorded")
    assert (overage["quantity"], overage["billed"], overage["month"]) == (1, False, "2026-03")


def test_U7_seats_alert_once_a_month_however_often_they_come_and_go(world: World) -> None:
    shop = world.business("shop", plan="monthly")
    world.grant(shop, {"staff_seats": 5})
    for n in range(4):
        world.take(shop, f"staff-{n}")  # the 4th seat of 5 is 80 %
    world.release(shop, "staff-3")
    world.take(shop, "staff-3")
    seats = [a for a in events(world, "usage.threshold_reached") if a["metric"] == "staff_seats"]
    assert [a["threshold_percent"] for a in seats] == [80]


def test_subscription_updated_on_subscribe_and_quantity(world: World) -> None:
    shop = world.business("shop", plan="monthly", started_on=date(2026, 3, 1))
    with world.db.transaction() as conn:
        change_quantity(conn, world.clock, account_id=shop, subscription_id=1, quantity=3)
    updates = events(world, "subscription.updated")
    assert [(u["change"], u["quantity"], u["plan"]) for u in updates] == [
        ("created", 1, "monthly"),
        ("quantity", 3, "monthly"),
    ]


def test_U7_the_alerts_are_also_emailed_to_the_billing_address(world: World) -> None:
    from allot.account.service import update_account
    from allot.notify.models import emails

    cafe = world.business("cafe", plan="card-scanner-free")
    with world.db.transaction() as conn:
        update_account(
            conn, world.clock, account_id=cafe, billing_details={"email": "owner@cafe.example"}
        )
    world.consume(cafe, quantity=80)  # 80 % of the free plan's 100 card operations
    world.consume(cafe, quantity=20)  # 100 %
    world.consume(cafe, quantity=5)  # past it: no third e-mail
    with world.db.read() as conn:
        sent = conn.execute(
            sa.select(emails.c.kind, emails.c.to_address, emails.c.subject, emails.c.body)
            .where(emails.c.account_id == cafe)
            .order_by(emails.c.id)
        ).all()
    assert [(k, to, subject) for k, to, subject, _ in sent] == [
        (
            "usage_alert",
            "owner@cafe.example",
            "80% of the card operations included by your plan used (March 2026)",
        ),
        (
            "usage_alert",
            "owner@cafe.example",
            "100% of the card operations included by your plan used (March 2026)",
        ),
    ]
    assert "you have used 80 of the 100 card operations" in sent[0].body


def test_U7_without_a_billing_address_only_the_webhook_tells(world: World) -> None:
    from allot.notify.models import emails

    cafe = world.business("cafe", plan="card-scanner-free")
    world.consume(cafe, quantity=100)
    assert len(events(world, "usage.threshold_reached")) == 2
    with world.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(emails)).scalar_one() == 0
