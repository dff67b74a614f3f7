"""The café of the payment scenarios: a business in Kyiv on stamp-card Monthly (EUR 29),
contract date 1 February, its card on the built-in sandbox provider."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from allot.account.service import update_account
from allot.billing import payments
from allot.billing.collect import Collector, Links
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.notify.models import emails
from allot.payment.sandbox import SandboxGateway
from allot.webhook.models import webhook_events
from tests.scenarios.world import World, local

KYIV = "Europe/Kyiv"
DECLINES = "4000000000000002"
GOOD = "4242424242424242"
LINKS = Links(payment_method="https://app.example/billing?account={account}")


class Cafe:
    """The café's world: the engine, the sandbox provider, and the worker's round."""

    def __init__(self, db: Database, tmp_path: Path) -> None:
        self.world = World(db, FixedClock(local(KYIV, 2026, 2, 1, 9)))
        self.world.business("cafe", plan="monthly", tz=KYIV)
        with db.transaction() as conn:
            update_account(
                conn,
                self.world.clock,
                account_id="cafe",
                billing_details={"email": "owner@cafe.example", "legal_name": "Cafe LLC"},
            )
        self.tmp = tmp_path
        self.sandbox = SandboxGateway(tmp_path / "sandbox.db")
        self.collector = Collector(db, self.world.clock, self.sandbox, LINKS)

    @property
    def db(self) -> Database:
        return self.world.db

    def card(self, number: str) -> None:
        payments.sandbox_card(
            self.db, self.world.clock, self.sandbox, account_id="cafe", number=number,
            exp_month=12, exp_year=2030,
        )  # fmt: skip

    def day(self, month: int, day: int, hour: int = 9) -> None:
        """The clock on that local time; the invoice run, then the worker's rounds."""
        self.world.at(KYIV, 2026, month, day, hour)
        self.world.bill()
        while self.collector.round(50) >= 50:
            pass

    def hours(self, since: tuple[int, int], days: int) -> None:
        """Every hour from `since` (month, day) for `days` days."""
        self.world.at(KYIV, 2026, since[0], since[1], 0)
        for _ in range(days * 24):
            self.world.clock.advance(timedelta(hours=1))
            self.world.bill()
            self.collector.round(50)

    def status(self) -> payments.BillingStatus:
        with self.db.read() as conn:
            return payments.billing_status(conn, account_id="cafe", links=LINKS)

    def plan(self) -> str:
        return self.world.plan_of("cafe")

    def state(self) -> str:
        return self.world.subscription("cafe").state

    def charges(self) -> list[dict[str, object]]:
        return self.sandbox.charges()

    def emails(self, kind: str) -> list[str]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(emails.c.subject).where(emails.c.kind == kind).order_by(emails.c.id)
            )
            return list(rows.scalars())

    def events(self, kind: str) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(webhook_events.c.type == kind)
                ).scalar_one()
            )
