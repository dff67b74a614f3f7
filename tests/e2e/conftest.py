"""An API on a real database (SQLite, then PostgreSQL), with keys of every role."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from allot.account.service import create_account
from allot.apikey.service import create_key
from allot.app import create_app
from allot.code.service import issue_code
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.partner.service import enroll_partner
from allot.payment.sandbox import SandboxGateway
from allot.subscription.service import subscribe
from tests.factories import load
from tests.scenarios.world import load_presets, local

ACTIVATION_LINK = "https://app.example.com/billing/activate?code={code}"


@dataclass
class Api:
    client: TestClient
    db: Database
    clock: FixedClock
    keys: dict[str, str]

    def as_(self, who: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", **headers}


@pytest.fixture
def api(db: Database) -> Api:
    return make_api(db)


def make_api(db: Database) -> Api:
    """The world every API test starts from: two businesses, two partners, keys of each role."""
    clock = FixedClock(local("Europe/Kyiv", 2026, 3, 2, 9))
    with db.transaction() as conn:
        load_presets(conn, clock)
    load(db, clock)  # adds the test catalog's blocking plan "strict"
    keys: dict[str, str] = {}
    with db.transaction() as conn:
        create_account(
            conn, clock, account_id="cafe", name="Cafe", timezone="Europe/Kyiv", currency="EUR"
        )
        subscribe(conn, clock, account_id="cafe", plan_code="card-scanner-free")
        create_account(
            conn,
            clock,
            account_id="store",
            name="Store",
            timezone="America/New_York",
            currency="USD",
        )
        subscribe(
            conn,
            clock,
            account_id="store",
            plan_code="full-suite-business",
            started_on=date(2026, 3, 1),
        )
        keys["operator"] = create_key(conn, clock, role="operator", subject=None)[1]
        keys["cafe"] = create_key(conn, clock, role="account", subject="cafe")[1]
        keys["store"] = create_key(conn, clock, role="account", subject="store")[1]
        for partner in ("agency-1", "agency-2"):
            enroll_partner(
                conn,
                clock,
                partner_id=partner,
                name=partner.title(),
                kind="agency",
                contact=f"{partner}@example.com",
                currency="EUR",
                wholesale_discount=Decimal("0.25"),
                prices={"staff_seats": Decimal("4")},
            )
            issue_code(
                conn,
                clock,
                partner_id=partner,
                allowances={"staff_seats": 36, "card_operations": 18},
            )
        keys["partner"] = create_key(conn, clock, role="partner", subject="agency-1")[1]
    app = create_app(
        db,
        clock,
        email=True,
        activation_link=ACTIVATION_LINK,
        gateway=SandboxGateway(os.environ["ALLOT_SANDBOX_PATH"]),
    )
    return Api(TestClient(app), db, clock, keys)
