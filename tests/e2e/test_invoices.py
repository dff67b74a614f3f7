"""Billing over HTTP with the typed client: the clock, the invoice run, invoices and their
documents, settling, credit notes, plan changes and upgrade advice.

The app here reads a `StoredClock` (as `allot serve` does), falling back to the
fixture's fixed clock while no simulated time is set, so moving the clock
through the API moves the whole API.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from allot.apikey.service import create_key
from allot.app import create_app
from allot.kit.simclock import StoredClock
from allot_client import AllotError, Client
from tests.e2e.conftest import Api
from tests.e2e.live import serve
from tests.scenarios.world import local

NY = "America/New_York"
KYIV = "Europe/Kyiv"


@dataclass
class Sim:
    api: Api
    url: str
    operator: Client

    def key_for(self, account_id: str) -> Client:
        with self.api.db.transaction() as conn:
            secret = create_key(conn, self.api.clock, role="account", subject=account_id)[1]
        return Client(self.url, secret)

    def shop(self, account_id: str, plan: str) -> int:
        """A New York store on `plan` from today; its subscription id."""
        self.operator.create_account(
            account_id, name=account_id.title(), timezone=NY, currency="USD"
        )
        return self.operator.subscribe(account_id, plan).id


@pytest.fixture
def sim(api: Api) -> Iterator[Sim]:
    app = create_app(api.db, StoredClock(api.db, system=api.clock), rate_limit="off")
    with serve(app) as url, Client(url, api.keys["operator"]) as operator:
        yield Sim(api, url, operator)


def refused(err: pytest.ExceptionInfo[AllotError], status: int, code: str) -> None:
    assert (err.value.status, err.value.code) == (status, code), err.value


# --- the clock -------------------------------------------------------------------------------


def test_the_clock_is_set_moved_and_reset_over_the_api(sim: Sim) -> None:
    op = sim.operator
    real = op.clock()
    assert not real.simulated
    assert real.now == sim.api.clock.now()
    at = op.set_clock(datetime.fromisoformat("2026-01-31T12:00:00+02:00"))
    assert at.simulated
    assert at.now == at.stored == local("Europe/Kyiv", 2026, 1, 31, 12)
    # A month keeps the day where it can: 31 January + 1 month = 28 February.
    moved = op.advance_clock(months=1, days=1, hours=2)
    assert moved.now == local("Europe/Kyiv", 2026, 3, 1, 14)
    assert op.clock().now == moved.now  # the app reads the database's clock
    back = op.reset_clock()
    assert not back.simulated
    assert back.now == sim.api.clock.now()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"now": "2026-03-01T09:00:00"}, "now", "timezone_aware"),
        ({"advance": {"months": -1}}, "advance.months", "greater_than_equal"),
        ({"advance": {"days": -3}}, "advance.days", "greater_than_equal"),
        ({"advance": {"hours": 10**9}}, "advance.hours", "less_than_equal"),
        ({"advance": {"months": 10**6}}, "advance.months", "less_than_equal"),
        ({"advance": {"weeks": 1}}, "advance.weeks", "extra_forbidden"),
        ({}, "body", "value_error"),
        ({"now": "2026-03-01T09:00:00Z", "advance": {"days": 1}}, "body", "value_error"),
    ],
)
def test_a_bad_clock_is_refused_with_the_field_named(
    sim: Sim, body: dict[str, Any], field: str, code: str
) -> None:
    response = sim.api.client.put("/v1/clock", json=body, headers=sim.api.as_("operator"))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_request"
    assert (problem["errors"][0]["field"], problem["errors"][0]["code"]) == (field, code)
    assert not sim.operator.clock().simulated


def test_the_clock_cannot_be_advanced_past_its_range(sim: Sim) -> None:
    """U8: the clock stays in the engine's years (2000-2099)."""
    sim.operator.set_clock(datetime.fromisoformat("2099-06-01T00:00:00+00:00"))
    with pytest.raises(AllotError) as err:
        sim.operator.advance_clock(months=7)
    refused(err, 422, "clock_out_of_range")
    assert err.value.field == "advance"
    assert sim.operator.clock().now == datetime.fromisoformat("2099-06-01T00:00:00+00:00")


# --- the run, invoices and their documents --------------------------------------------------------


def test_a_month_of_billing_listed_read_exported_settled_and_corrected(sim: Sim) -> None:
    op = sim.operator
    op.set_clock(local(NY, 2026, 3, 2, 9))
    sim.shop("shop", "loyalty-business")
    op.consume("shop", "orders", 1600, idempotency_key="march")  # 100 past the 1,500

    # The fixture's cafe (free) and store (Full Suite Business, $279) are billed as well.
    first = op.run_billing()
    assert (first.accounts, first.counts) == (3, {"subscription": 2})
    op.advance_clock(months=1, days=7)  # 9 April: the next period, and March's usage (the 8th)
    second = op.run_billing()
    assert second.counts == {"subscription": 2, "usage": 1}
    assert second.as_of == local(NY, 2026, 4, 9, 10)  # moved in UTC: New York is on EDT now
    assert op.run_billing().issued == 0  # exactly once
    numbers = [i.number for i in reversed(op.invoices("shop").data)]
    assert len(set(numbers)) == 3
    assert set(numbers) <= set(first.invoices + second.invoices)

    page = op.invoices("shop", limit=2)
    assert [i.number for i in page.data] == numbers[::-1][:2]  # newest first
    assert page.next_after is not None
    rest = op.invoices("shop", limit=2, after=page.next_after)
    assert [i.number for i in rest.data] == numbers[:1]
    assert rest.next_after is None
    march, april, usage = sorted(page.data + rest.data, key=lambda i: i.id)
    assert (march.kind, march.total, str(march.period_start)) == (
        "subscription",
        "179.00",
        "2026-03-02",
    )

    bill = op.invoice(usage.id)
    assert (bill.kind, bill.state, bill.currency, bill.total) == (
        "usage",
        "finalized",
        "USD",
        "20.00",
    )
    (line,) = bill.lines
    assert (line.metric, line.quantity, line.unit_price, line.amount) == (
        "orders",
        100,
        "0.20",
        "20.00",
    )
    assert bill.issued_on.isoformat() == "2026-04-08"

    pdf = op.invoice_pdf(march.id)
    assert pdf.startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(op.invoices_csv("shop"))))
    assert [(r["number"], r["amount"]) for r in rows] == [
        (march.number, "179.00"),
        (april.number, "179.00"),
        (usage.number, "20.00"),
    ]

    # The business reads its own invoices, but settling them is the operator's.
    with sim.key_for("shop") as shop:
        assert shop.invoice(march.id).number == march.number
        assert shop.invoice_pdf(march.id).startswith(b"%PDF")
        assert len(shop.invoices("shop").data) == 3
        with pytest.raises(AllotError) as err:
            shop.pay_invoice(march.id)
        refused(err, 403, "operator_only")

    paid = op.pay_invoice(march.id, note="bank transfer 4711", idempotency_key="pay-1")
    assert (paid.state, paid.settlement_note) == ("paid", "bank transfer 4711")
    assert op.pay_invoice(march.id, note="bank transfer 4711", idempotency_key="pay-1") == paid
    with pytest.raises(AllotError) as err:
        op.pay_invoice(march.id, note="another", idempotency_key="pay-1")
    assert err.value.status == 422
    with pytest.raises(AllotError) as err:
        op.void_invoice(march.id, "too late")
    refused(err, 409, "invoice_not_open")
    assert op.void_invoice(usage.id, "the overage was forgiven").state == "void"
    assert op.mark_uncollectible(april.id, "store closed").state == "uncollectible"

    part = op.credit_note(march.id, "outage on 3 March", lines={0: "50.00"}, idempotency_key="cn")
    assert (part.total, part.lines[0].amount) == ("50.00", "50.00")
    again = op.credit_note(march.id, "outage on 3 March", lines={0: "50.00"}, idempotency_key="cn")
    assert again == part  # a retry issues nothing new
    rest_of_it = op.credit_note(march.id, "closing the account")
    assert rest_of_it.total == "129.00"
    assert rest_of_it.number != part.number
    with pytest.raises(AllotError) as err:
        op.credit_note(march.id, "once more")
    refused(err, 409, "invoice_fully_credited")
    with pytest.raises(AllotError) as err:
        op.credit_note(usage.id, "a void invoice")
    refused(err, 409, "invoice_not_creditable")
    notes = op.invoice(march.id).credit_notes
    assert [(n.number, n.total) for n in notes] == [
        (part.number, "50.00"),
        (rest_of_it.number, "129.00"),
    ]


def test_a_credit_note_line_is_refused_twice_or_past_what_was_charged(sim: Sim) -> None:
    op = sim.operator
    sim.shop("shop", "loyalty-business")
    op.run_billing()
    (invoice,) = op.invoices("shop").data
    invoice_id = invoice.id
    body = {
        "reason": "x",
        "lines": [{"position": 0, "amount": "1"}, {"position": 0, "amount": "2"}],
    }
    response = sim.api.client.post(
        f"/v1/invoices/{invoice_id}/credit-notes", json=body, headers=sim.api.as_("operator")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines"
    with pytest.raises(AllotError) as err:
        op.credit_note(invoice_id, "too much", lines={0: "179.01"})
    refused(err, 422, "credit_exceeds_line")
    with pytest.raises(AllotError) as err:
        op.credit_note(invoice_id, "no such line", lines={3: "1"})
    refused(err, 422, "unknown_line")


def test_an_unknown_invoice_is_404(sim: Sim) -> None:
    for call in (
        lambda: sim.operator.invoice(999),
        lambda: sim.operator.invoice_pdf(999),
        lambda: sim.operator.pay_invoice(999),
    ):
        with pytest.raises(AllotError) as err:
            call()
        refused(err, 404, "invoice_not_found")


# --- plan changes and advice -------------------------------------------------------------------


def test_the_preview_charges_what_the_confirmed_upgrade_charges(sim: Sim) -> None:
    op = sim.operator
    op.set_clock(local(NY, 2026, 3, 2, 9))
    sub = sim.shop("shop", "loyalty-business")
    op.run_billing()
    op.advance_clock(days=10)  # 12 March: 21 of the period's 31 days are left
    with sim.key_for("shop") as shop:
        preview = shop.preview_plan_change("shop", sub, "loyalty-professional")
        assert (preview.direction, preview.immediate, preview.effective_on.isoformat()) == (
            "upgrade",
            True,
            "2026-03-12",
        )
        assert (preview.days_left, preview.days_in_period) == (21, 31)
        assert preview.charge_rounded == "203.23"  # ($479 - $179) x 21 / 31
        assert preview.waived_months == ["2026-03"]
        assert op.invoices("shop").data[0].kind == "subscription"  # a preview changes nothing

        done = shop.change_plan("shop", sub, "loyalty-professional", idempotency_key="up")
        # A retry answers the first response and charges nothing more.
        assert shop.change_plan("shop", sub, "loyalty-professional", idempotency_key="up") == done
    assert done.model_dump(exclude={"invoice"}) == preview.model_dump()
    assert done.invoice is not None
    assert (done.invoice.kind, done.invoice.total) == ("proration", preview.charge_rounded)
    assert done.invoice.lines[0].amount_exact == preview.charge
    assert [i.kind for i in op.invoices("shop").data] == ["proration", "subscription"]

    with pytest.raises(AllotError) as err:
        op.preview_plan_change("shop", sub, "loyalty-professional")
    refused(err, 409, "same_plan")
    later = op.preview_plan_change("shop", sub, "loyalty-premium")
    assert (later.direction, later.immediate, later.charge) == ("downgrade", False, "0")
    assert later.effective_on.isoformat() == "2026-04-02"


def test_advice_for_loyalty_business_at_3000_orders(sim: Sim) -> None:
    op = sim.operator
    op.set_clock(local(NY, 2026, 3, 10, 9))
    sim.shop("shop", "loyalty-business")
    op.consume("shop", "orders", 3000, idempotency_key="march")
    with sim.key_for("shop") as shop:
        (march,) = shop.advice("shop", month="2026-03")
    assert (march.month, march.metric, march.units, march.currency) == (
        "2026-03",
        "orders",
        3000,
        "USD",
    )
    stay, professional = march.options[:2]
    assert (stay.plan, stay.plan_cost, stay.units_over, stay.over_charge, stay.cost) == (
        "loyalty-business",
        "179",
        1500,
        "300.00",
        "479.00",
    )
    assert (professional.plan, professional.cost, professional.units_over) == (
        "loyalty-professional",
        "479.00",
        0,
    )
    assert (march.cheapest, march.upgrade, march.saving) == ("loyalty-business", False, "0")
    assert (march.breakeven_units, march.breakeven_share) == (3001, "0.857")
    assert "$479.00, the same as Loyalty Professional" in march.message
    this_month, last_month = op.advice("shop")
    assert (this_month.month, this_month.to_date, this_month.units) == ("2026-03", True, 3000)
    assert (last_month.month, last_month.to_date, last_month.units) == ("2026-02", False, 0)
    op.consume("shop", "orders", 1, idempotency_key="one-more")
    (after,) = op.advice("shop", month="2026-03")
    assert (after.cheapest, after.upgrade, after.saving) == ("loyalty-professional", True, "0.20")


def test_advice_and_plan_changes_refuse_other_tenants(sim: Sim) -> None:
    sim.shop("shop", "loyalty-business")
    with sim.key_for("shop") as shop:
        for call in (
            lambda: shop.advice("store"),
            lambda: shop.preview_plan_change("store", 2, "full-suite-professional"),
            lambda: shop.invoices("store"),
        ):
            with pytest.raises(AllotError) as err:
                call()
            refused(err, 404, "account_not_found")


def test_a_stored_clock_set_through_this_process_is_read_at_once(api: Api) -> None:
    clock = StoredClock(api.db, system=api.clock, ttl=3600)
    app = create_app(api.db, clock, rate_limit="off")
    with serve(app) as url, Client(url, api.keys["operator"]) as op:
        assert op.clock().now == api.clock.now()  # read once, then cached for an hour
        later = api.clock.now() + timedelta(days=40)
        assert op.set_clock(later).now == later
        assert clock.now() == later
        assert op.reset_clock().now == api.clock.now()


def test_the_preview_matches_the_change_when_the_run_is_behind(sim: Sim) -> None:
    op = sim.operator
    op.set_clock(local(NY, 2026, 3, 2, 9))
    sub = sim.shop("shop", "loyalty-business")
    op.run_billing()
    op.advance_clock(months=1, days=3)  # 5 April: the period of 2 April is not billed yet
    preview = op.preview_plan_change("shop", sub, "loyalty-professional")
    done = op.change_plan("shop", sub, "loyalty-professional")
    assert done.charge_rounded == "270.00"  # ($479 - $179) x 27 / 30
    assert preview.charge_rounded == done.charge_rounded


# --- quantity changes (C3, B4) -----------------------------------------------------------------


def bistro(sim: Sim, quantity: int = 1) -> int:
    """A Kyiv bistro on stamp-card Monthly (€29 per location) from today; its subscription id."""
    sim.operator.create_account("bistro", name="Bistro", timezone=KYIV, currency="EUR")
    return sim.operator.subscribe("bistro", "monthly", quantity=quantity).id


def test_C3_B4_the_quantity_preview_charges_what_the_confirmed_increase_charges(sim: Sim) -> None:
    op = sim.operator
    op.set_clock(local(KYIV, 2026, 1, 1, 9))
    sub = bistro(sim)
    op.run_billing()
    op.set_clock(local(KYIV, 2026, 1, 17, 10))
    with sim.key_for("bistro") as me:
        preview = me.preview_quantity_change("bistro", sub, 3)
        assert (preview.direction, preview.immediate, preview.changes) == ("increase", True, True)
        assert (preview.from_quantity, preview.to_quantity) == (1, 3)
        assert (preview.days_left, preview.days_in_period) == (15, 31)
        assert (preview.charge_rounded, preview.currency) == ("28.06", "EUR")  # 2 × 29 × 15/31
        assert [s.quantity for s in me.subscriptions("bistro")] == [1]  # a preview changes nothing

        done = me.quantity_change("bistro", sub, 3, idempotency_key="raise")
        # A retry answers the first response and charges nothing more.
        assert me.quantity_change("bistro", sub, 3, idempotency_key="raise") == done
        with pytest.raises(AllotError) as err:
            me.quantity_change("bistro", sub, 4, idempotency_key="raise")
        refused(err, 422, "idempotency_key_reused")
        # A retry without a key finds the quantity already in force: no second charge.
        again = me.quantity_change("bistro", sub, 3)
        assert (again.changes, again.invoice) == (False, None)
    assert done.model_dump(exclude={"invoice"}) == preview.model_dump()
    assert done.invoice is not None
    assert (done.invoice.kind, done.invoice.total) == ("proration", "28.06")
    assert done.invoice.lines[0].amount_exact == preview.charge
    assert [i.kind for i in op.invoices("bistro").data] == ["proration", "subscription"]

    op.set_clock(local(KYIV, 2026, 2, 10, 12))
    lowered = op.change_quantity("bistro", sub, 2, idempotency_key="lower")  # the operator's PATCH
    assert (lowered.quantity, lowered.pending_quantity) == (3, 2)
    assert lowered.pending_quantity_on is not None
    assert lowered.pending_quantity_on.isoformat() == "2026-03-01"
    assert op.change_quantity("bistro", sub, 2, idempotency_key="lower") == lowered
    assert op.subscriptions("bistro") == [lowered]
    usage = op.usage("bistro")
    assert (usage.plans[0].quantity, usage.plans[0].pending_quantity) == (3, 2)
    totals = [(i.kind, i.total) for i in op.invoices("bistro").data]
    assert totals == [("subscription", "87.00"), ("proration", "28.06"), ("subscription", "29.00")]

    op.set_clock(local(KYIV, 2026, 3, 1, 9))
    op.run_billing()
    assert op.invoices("bistro").data[0].total == "58.00"
    (after,) = op.subscriptions("bistro")
    assert (after.quantity, after.pending_quantity, after.pending_quantity_on) == (2, None, None)


@pytest.mark.parametrize(
    ("quantity", "code"),
    [(0, "invalid_request"), (-1, "invalid_request"), (100_001, "invalid_request")],
)
def test_C3_a_quantity_out_of_range_is_refused_by_name(sim: Sim, quantity: int, code: str) -> None:
    op = sim.operator
    op.set_clock(local(KYIV, 2026, 1, 1, 9))
    sub = bistro(sim)
    for call in (
        lambda: op.preview_quantity_change("bistro", sub, quantity),
        lambda: op.quantity_change("bistro", sub, quantity, idempotency_key="q"),
        lambda: op.change_quantity("bistro", sub, quantity),
    ):
        with pytest.raises(AllotError) as err:
            call()
        refused(err, 422, code)
        assert err.value.field == "quantity"
    assert [s.quantity for s in op.subscriptions("bistro")] == [1]


def test_C3_locations_on_a_plan_not_sold_per_location_are_refused(sim: Sim) -> None:
    op = sim.operator
    op.set_clock(local(KYIV, 2026, 1, 1, 9))
    op.create_account("bistro", name="Bistro", timezone=KYIV, currency="EUR")
    sub = op.subscribe("bistro", "card-scanner-free").id
    for call in (
        lambda: op.preview_quantity_change("bistro", sub, 2),
        lambda: op.quantity_change("bistro", sub, 2),
        lambda: op.change_quantity("bistro", sub, 2),
    ):
        with pytest.raises(AllotError) as err:
            call()
        refused(err, 422, "quantity_not_supported")
        assert err.value.field == "quantity"
    with pytest.raises(AllotError) as err:
        op.quantity_change("bistro", sub + 1, 2)
    refused(err, 404, "subscription_not_found")


def test_B7_late_usage_over_http_a_late_line_then_period_closed(sim: Sim) -> None:
    """Full Suite Business over the API: 1,800 January orders → $60.00 on 8 February; one
    more from 31 January reported on 10 February → a $0.20 late line on 8 March and
    `reported_late` on January's page; reported on 10 March → 422 period_closed."""
    op = sim.operator
    op.set_clock(local(NY, 2026, 1, 2, 9))
    sim.shop("late", "full-suite-business")
    op.set_clock(local(NY, 2026, 1, 20, 9))
    op.consume("late", "orders", 1800, idempotency_key="january")
    op.set_clock(local(NY, 2026, 2, 10, 9))
    op.run_billing()
    late = op.consume(
        "late", "orders", 1, idempotency_key="late", occurred_at=local(NY, 2026, 1, 31, 23)
    )
    assert late.period == "2026-01"
    (orders,) = op.usage("late", month="2026-01").metrics
    assert (orders.over, orders.reported_late) == (301, 1)
    op.set_clock(local(NY, 2026, 3, 8, 9))
    op.run_billing()
    usage = sorted((i for i in op.invoices("late").data if i.kind == "usage"), key=lambda i: i.id)
    assert [i.total for i in usage] == ["60.00", "0.20"]
    (line,) = op.invoice(usage[1].id).lines
    assert (line.kind, line.quantity, line.unit_price) == ("late_overage", 1, "0.20")
    op.set_clock(local(NY, 2026, 3, 10, 9))
    with pytest.raises(AllotError) as closed:
        op.consume(
            "late", "orders", 1, idempotency_key="too-late", occurred_at=local(NY, 2026, 1, 31, 23)
        )
    refused(closed, 422, "period_closed")
    assert closed.value.field == "occurred_at"
