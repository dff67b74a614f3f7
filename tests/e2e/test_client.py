"""The typed Python client (allot_client) against a real server, one story per part of the
API; billing, invoices, plan changes and the clock are in test_invoices.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from allot.app import create_app
from allot.kit.simclock import StoredClock
from allot.webhook.delivery import new_http_client
from allot.webhook.guard import ALLOW_PRIVATE_ENV
from allot_client import AllotError, Client
from allot_client.models import BatchAction, OrderWrite
from tests.e2e.conftest import ACTIVATION_LINK, Api
from tests.e2e.live import serve
from tests.scenarios.world import PRESETS, local
from tests.webhook.conftest import Receiver, deliver

NY = "America/New_York"


@dataclass
class Live:
    api: Api
    url: str

    def key(self, who: str) -> Client:
        """A client with the fixture's key of `who`: operator, cafe, store or partner."""
        return Client(self.url, self.api.keys[who])


@pytest.fixture
def live(api: Api) -> Iterator[Live]:
    """The API served over real HTTP, reading the database's clock (as `allot serve` does)."""
    clock = StoredClock(api.db, system=api.clock)
    app = create_app(api.db, clock, rate_limit="off", email=True, activation_link=ACTIVATION_LINK)
    with serve(app) as url:
        yield Live(api, url)


@pytest.fixture
def operator(live: Live) -> Iterator[Client]:
    with live.key("operator") as client:
        yield client


def test_the_client_covers_the_api(operator: Client) -> None:
    assert operator.health().status == "ok"
    assert any(p.definition["code"] == "monthly" for p in operator.catalog())
    report = operator.load_catalog((PRESETS / "stamp-card.yaml").read_text(), name="s.yaml")
    assert report.added == []
    shop = operator.create_account("shop", name="Shop", timezone="Europe/Kyiv", currency="EUR")
    assert operator.account("shop") == shop
    assert operator.update_account("shop", name="Shop 2").name == "Shop 2"
    assert [a.id for a in operator.accounts(limit=10).data] == ["cafe", "shop", "store"]
    sub = operator.subscribe("shop", "monthly", quantity=2, started_on=date(2026, 3, 1))
    assert operator.change_quantity("shop", sub.id, 3).quantity == 3
    decision = operator.consume("shop", "card_operations", 5, idempotency_key="c1")
    assert decision.draws[0].kind == "plan"
    batch = operator.consume_batch("shop", [{"metric": "card_operations", "idempotency_key": "b1"}])
    assert batch.results[0].decision is not None
    assert operator.take_seat("shop", "owner", idempotency_key="s1").allowed
    assert operator.release_seat("shop", "owner", idempotency_key="s2").allowed
    usage = operator.usage("shop", month="2026-03")
    assert next(m for m in usage.metrics if m.metric == "card_operations").used == 6
    assert [e.quantity for e in operator.ledger("shop", metric="card_operations").data] == [5, 1]


def test_an_error_answer_raises_with_code_and_field(operator: Client) -> None:
    with pytest.raises(AllotError) as err:
        operator.create_account("x", name="X", timezone="Mars/Olympus", currency="EUR")
    assert (err.value.status, err.value.code, err.value.field) == (
        422,
        "unknown_time_zone",
        "timezone",
    )
    with pytest.raises(AllotError) as missing:
        operator.account("nobody")
    assert missing.value.status == 404


# --- accounts, usage and referral ----------------------------------------------------------------


def test_accounts_paged_taxed_and_consumed_in_a_batch_of_models(operator: Client) -> None:
    made = operator.create_account(
        "bakery",
        name="Bakery",
        timezone="Europe/Kyiv",
        currency="EUR",
        tax_rate=Decimal("0.20"),
        idempotency_key="bakery",
    )
    assert Decimal(made.tax_rate) == Decimal("0.2")
    again = operator.create_account(
        "bakery",
        name="Bakery",
        timezone="Europe/Kyiv",
        currency="EUR",
        tax_rate=Decimal("0.20"),
        idempotency_key="bakery",
    )
    assert again == made  # the same key answers the first account
    assert Decimal(operator.update_account("bakery", tax_rate="0.1").tax_rate) == Decimal("0.1")

    first = operator.accounts(limit=2)
    assert [a.id for a in first.data] == ["bakery", "cafe"]
    assert first.next_after == "cafe"
    assert [a.id for a in operator.accounts(after=first.next_after).data] == ["store"]

    operator.subscribe("bakery", "monthly")
    actions = [
        BatchAction(metric="card_operations", quantity=2, idempotency_key="b1"),
        BatchAction(metric="nothing_such", idempotency_key="b2"),
    ]
    ok, bad = operator.consume_batch("bakery", actions).results
    assert ok.decision is not None
    assert (ok.decision.allowed, ok.decision.quantity) == (True, 2)
    assert bad.problem is not None
    assert bad.problem.code == "metric_not_found"
    (subscription,) = operator.subscriptions("bakery")
    assert subscription.plan == "monthly"


def test_a4_referral_switched_on_followed_and_switched_off(live: Live, operator: Client) -> None:
    with live.key("cafe") as cafe:
        with pytest.raises(AllotError) as err:
            cafe.referral("cafe")
        assert (err.value.status, err.value.code) == (404, "referral_not_enabled")
        on = operator.enable_referral("cafe")
        assert (on.enabled, on.link, on.earned) == (True, f"/signup?ref={on.code}", "0.00")
        operator.create_account(
            "bakery",
            name="Bakery",
            timezone="Europe/Kyiv",
            currency="EUR",
            referral_code=on.code.lower(),
        )
        seen = cafe.referral("cafe")
        assert [(r.account_id, r.state, r.reward) for r in seen.referred] == [
            ("bakery", "signed_up", None)
        ]
    assert operator.disable_referral("cafe").enabled is False
    assert operator.enable_referral("cafe").code == on.code


# --- orders and review requests -----------------------------------------------------------------


def test_r1_a_store_reports_orders_and_acknowledges_its_review_requests(
    operator: Client,
) -> None:
    operator.set_clock(local(NY, 2026, 3, 20, 12))
    operator.create_account("shop", name="Shop", timezone=NY, currency="USD")
    operator.subscribe("shop", "reviews-business", started_on=date(2026, 3, 1))
    start = local(NY, 2026, 3, 2)
    orders = [OrderWrite(id=f"o{n}", placed_at=start + timedelta(minutes=n)) for n in range(1, 5)]
    done = operator.report_orders("shop", [*orders, {"id": "o1", "placed_at": start}])
    assert (done.received, done.new, done.duplicates) == (5, 4, 1)

    top = operator.set_top_up("shop", "defined", cap=Decimal("150"))
    assert (top.top_up, top.top_up_orders) == ("defined", 1071)
    page = operator.reviews("shop")
    assert (page.orders, page.within, page.topped_up) == (4, 4, 0)
    assert page.requests == {"to_send": 4}

    first = operator.review_requests("shop", limit=3)
    assert [r.order_id for r in first.data] == ["o1", "o2", "o3"]
    assert first.next_after == "o3"
    rest = operator.review_requests("shop", after=first.next_after)
    assert ([r.order_id for r in rest.data], rest.next_after) == (["o4"], None)
    ack = operator.ack_review_requests("shop", ["o1", "o2", "nope"])
    assert (ack.acknowledged, ack.not_acknowledged) == (2, {"nope": "unknown"})
    assert [r.order_id for r in operator.review_requests("shop").data] == ["o3", "o4"]


# --- partners and Access Codes ------------------------------------------------------------------


def test_k1_k8_a_partner_issues_e_mails_and_bills_its_codes(live: Live, operator: Client) -> None:
    enrolled = operator.enroll_partner(
        "agency-3",
        name="Agency 3",
        kind="consultant",
        contact="hello@agency-3.example",
        currency="EUR",
        wholesale_discount=Decimal("0.30"),
        prices={"staff_seats": Decimal("5")},
        idempotency_key="agency-3",
    )
    assert (enrolled.wholesale_discount, enrolled.prices) == ("0.30", {"staff_seats": "5"})
    assert [p.id for p in operator.partners()] == ["agency-1", "agency-2", "agency-3"]
    assert operator.partner("agency-3") == enrolled

    with live.key("partner") as partner, live.key("cafe") as cafe:
        code = partner.issue_code("agency-1", {"staff_seats": 3, "card_operations": 18})
        assert (code.number, code.label, code.state) == (2, "Code #2", "issued")
        assert [c.label for c in partner.codes("agency-1")] == ["Code #1", "Code #2"]
        assert partner.code("agency-1", 2) == code

        sent = partner.email_code("agency-1", 2, "owner@cafe.example", note="Welcome!")
        assert (sent.state, sent.to) == ("pending", "owner@cafe.example")
        assert partner.code_emails("agency-1", 2) == [sent]

        assert code.code is not None
        claimed = cafe.claim_code("cafe", code.code)
        assert (claimed.label, claimed.allowances) == ("Code #2", code.allowances)
        assert partner.pause_code("agency-1", 2).state == "paused"
        assert partner.resume_code("agency-1", 2).state == "claimed"
        cafe.consume("cafe", "card_operations", idempotency_key="op-1")
        with pytest.raises(AllotError) as err:
            partner.revoke_code("agency-1", 2)
        assert (err.value.status, err.value.code) == (409, "code_in_use")

        assigned = partner.assign_code("agency-1", 1, "store")
        assert (assigned.state, assigned.account_id) == ("claimed", "store")
        report = partner.partner_report("agency-1", "2026-03")
        assert [(c.label, c.account_id, c.billed) for c in report.codes] == [
            ("Code #1", "store", True),
            ("Code #2", "cafe", True),
        ]
        # 36 + 3 seats x 4 less 25 %; card operations carry no price
        assert (report.total, report.total_rounded) == ("117.00", "117.00")
        assert operator.store_partner_charges("agency-1", "2026-03").total == report.total

        operator.set_clock(local("Europe/Kyiv", 2026, 4, 2, 9))
        operator.run_billing()
        (invoice,) = partner.partner_invoices("agency-1").data
    assert (invoice.kind, invoice.partner_id, invoice.total) == ("partner", "agency-1", "117.00")


# --- webhooks -----------------------------------------------------------------------------------


def test_webhooks_registered_delivered_retried_and_removed(
    live: Live, operator: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")  # the receiver listens on loopback
    receiver = Receiver()
    receiver.start()
    try:
        endpoint = operator.create_webhook_endpoint(
            receiver.url, ["subscription.updated"], description="CRM"
        )
        assert endpoint.secret.startswith("whsec_")
        receiver.secret = endpoint.secret
        (listed,) = operator.webhook_endpoints()
        assert listed.model_dump() == endpoint.model_dump(exclude={"secret"})

        operator.create_account("shop", name="Shop", timezone=NY, currency="USD")
        operator.subscribe("shop", "loyalty-business")  # announces subscription.updated
        receiver.plan = [500]
        with new_http_client() as http:
            _deliver(live, http)
            (pending,) = operator.webhook_deliveries(endpoint_id=endpoint.id).data
            assert (pending.state, pending.attempts, pending.last_status_code) == (
                "pending",
                1,
                500,
            )
            assert (pending.event_type, pending.account_id) == ("subscription.updated", "shop")
            assert operator.redeliver_webhook(pending.id).state == "pending"
            _deliver(live, http)
        detail = operator.webhook_delivery(pending.id)
        assert detail.state == "delivered"
        assert [a.status_code for a in detail.log] == [500, 200]
        assert receiver.messages[-1]["data"]["account_id"] == "shop"
        delivered = operator.webhook_deliveries(state="delivered")
        assert [d.id for d in delivered.data] == [pending.id]
    finally:
        receiver.stop()

    operator.delete_webhook_endpoint(endpoint.id)
    assert operator.webhook_endpoints() == []
    assert [e.disabled for e in operator.webhook_endpoints(include_disabled=True)] == [True]
    with pytest.raises(AllotError) as err:
        operator.delete_webhook_endpoint(endpoint.id + 100)
    assert (err.value.status, err.value.code) == (404, "webhook_endpoint_not_found")


def _deliver(live: Live, http: httpx.Client) -> None:
    """One round of `allot worker`'s webhook delivery."""
    deliver(live.api.db, live.api.clock, http)


# --- invoices as a business reads them ----------------------------------------------------------


def test_a_business_reads_its_invoice_as_a_model_a_pdf_and_csv(
    live: Live, operator: Client
) -> None:
    operator.run_billing()
    with live.key("store") as store:
        (invoice,) = store.invoices("store").data
        assert (invoice.kind, invoice.currency, invoice.total) == ("subscription", "USD", "279.00")
        assert store.invoice(invoice.id).lines[0].amount == "279.00"
        pdf = store.invoice_pdf(invoice.id)
        assert pdf.startswith(b"%PDF")
        (row,) = csv.DictReader(io.StringIO(store.invoices_csv("store")))
        assert (row["number"], row["amount"]) == (invoice.number, "279.00")
        with pytest.raises(AllotError) as err:
            store.invoices("cafe")
        assert (err.value.status, err.value.code) == (404, "account_not_found")
