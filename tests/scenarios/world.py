"""A small world for scenario tests: the presets loaded, accounts created, a clock to move."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from allot.account.service import create_account
from allot.billing.changes import (
    ChangePreview,
    QuantityPreview,
    change_plan,
    change_quantity,
    preview_change,
    preview_quantity_change,
)
from allot.catalog.loader import load_catalog_with_extras
from allot.catalog.service import load_catalog
from allot.code.grants import grant
from allot.core.periods import Month
from allot.grant.repository import GrantRow
from allot.invoice import repository as invoice_repo
from allot.invoice import service as invoice_service
from allot.invoice.repository import InvoiceRow
from allot.invoice.run import RunReport, run
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription import repository as subscription_repo
from allot.subscription.repository import LiveSubscription
from allot.subscription.service import subscribe
from allot.usage.actions import UsageResult
from allot.usage.seats import release_seat, take_seat
from allot.usage.service import consume
from allot.usage.summary import UsageSummary, usage_summary
from allot.usage.verify import verify

PRESETS = Path(__file__).resolve().parents[2] / "presets"


def local(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def load_presets(conn: Connection, clock: FixedClock) -> None:
    """Both presets, as `allot catalog load presets/*.yaml` stores them (names too)."""
    for name in ("stamp-card", "reviews-loyalty"):
        loaded = load_catalog_with_extras(PRESETS / f"{name}.yaml")
        load_catalog(
            conn, clock, catalog=loaded.catalog, details=loaded.extras.details(),
            names=loaded.extras.names,
        )  # fmt: skip


class World:
    def __init__(self, db: Database, clock: FixedClock) -> None:
        self.db = db
        self.clock = clock
        self._keys = 0
        with db.transaction() as conn:
            load_presets(conn, clock)

    def business(
        self,
        account_id: str,
        *,
        plan: str,
        tz: str = "Europe/Kyiv",
        currency: str = "EUR",
        quantity: int = 1,
        started_on: date | None = None,
    ) -> str:
        with self.db.transaction() as conn:
            create_account(
                conn,
                self.clock,
                account_id=account_id,
                name=account_id.title(),
                timezone=tz,
                currency=currency,
            )
            subscribe(
                conn,
                self.clock,
                account_id=account_id,
                plan_code=plan,
                quantity=quantity,
                started_on=started_on,
            )
        return account_id

    def grant(self, account_id: str, allowances: Mapping[str, int], **kw: object) -> GrantRow:
        with self.db.transaction() as conn:
            return grant(conn, self.clock, account_id=account_id, allowances=allowances, **kw)  # type: ignore[arg-type]

    def key(self) -> str:
        self._keys += 1
        return f"k{self._keys}"

    def consume(
        self,
        account_id: str,
        metric: str = "card_operations",
        quantity: int = 1,
        *,
        key: str | None = None,
        at: datetime | None = None,
    ) -> UsageResult:
        with self.db.transaction() as conn:
            return consume(
                conn,
                self.clock,
                account_id=account_id,
                metric=metric,
                quantity=quantity,
                idempotency_key=key or self.key(),
                occurred_at=at,
            )

    def consume_many(
        self, account_id: str, n: int, metric: str = "card_operations"
    ) -> list[UsageResult]:
        return [self.consume(account_id, metric) for _ in range(n)]

    def take(self, account_id: str, holder: str) -> UsageResult:
        with self.db.transaction() as conn:
            return take_seat(
                conn,
                self.clock,
                account_id=account_id,
                metric="staff_seats",
                holder=holder,
                idempotency_key=self.key(),
            )

    def release(self, account_id: str, holder: str) -> UsageResult:
        with self.db.transaction() as conn:
            return release_seat(
                conn,
                self.clock,
                account_id=account_id,
                metric="staff_seats",
                holder=holder,
                idempotency_key=self.key(),
            )

    def page(self, account_id: str, month: Month | None = None) -> UsageSummary:
        with self.db.read() as conn:
            return usage_summary(conn, self.clock, account_id=account_id, month=month)

    def at(self, tz: str, year: int, month: int, day: int, hour: int = 0) -> None:
        """Move the clock to a local time."""
        self.clock.set(local(tz, year, month, day, hour))

    def bill(self) -> RunReport:
        return run(self.db, self.clock)

    def invoices(self, account_id: str, kind: str | None = None) -> list[InvoiceRow]:
        """The account's invoices with their lines, oldest first."""
        with self.db.read() as conn:
            rows = invoice_repo.listing(conn, account_id=account_id, limit=1000)
            full = [invoice_service.get_invoice(conn, r.id) for r in reversed(rows)]
        return [i for i in full if kind is None or i.kind == kind]

    def change(
        self, account_id: str, plan: str, *, preview: bool = False
    ) -> tuple[ChangePreview, InvoiceRow | None]:
        with self.db.transaction() as conn:
            sub = subscription_repo.live(conn, account_id)[0]
            if preview:
                found = preview_change(
                    conn, self.clock, account_id=account_id, subscription_id=sub.id, plan_code=plan
                )
                return found, None
            return change_plan(
                conn, self.clock, account_id=account_id, subscription_id=sub.id, plan_code=plan
            )

    def quantity(
        self, account_id: str, quantity: int, *, preview: bool = False
    ) -> tuple[QuantityPreview, InvoiceRow | None]:
        """Change the locations of the account's only subscription (or preview it)."""
        with self.db.transaction() as conn:
            sub = subscription_repo.live(conn, account_id)[0]
            if preview:
                found = preview_quantity_change(
                    conn,
                    self.clock,
                    account_id=account_id,
                    subscription_id=sub.id,
                    quantity=quantity,
                )
                return found, None
            return change_quantity(
                conn, self.clock, account_id=account_id, subscription_id=sub.id, quantity=quantity
            )

    def subscription(self, account_id: str) -> LiveSubscription:
        with self.db.read() as conn:
            return subscription_repo.live(conn, account_id)[0]

    def plan_of(self, account_id: str) -> str:
        with self.db.read() as conn:
            return subscription_repo.live(conn, account_id)[0].plan.code

    def assert_ledger_proves_counters(self) -> None:
        with self.db.read() as conn:
            report = verify(conn)
        assert report.ok, report.mismatches


def sources(result: UsageResult) -> list[tuple[str, int]]:
    return [(d.kind.value, d.quantity) for d in result.draws]
