"""Seeds 000 and 003, P1-P4: a paid plan is charged to the linked card; a missed payment puts
a banner on the billing page, sends one e-mail, is retried on a schedule, and after the last
retry the catalog's rule applies — and paying clears it all.

A café in Kyiv on stamp-card Monthly (EUR 29), contract date 1 February, its card on the
built-in sandbox provider. The worker's charging round runs every hour of every day.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from allot.account.service import update_account
from allot.billing import payments
from allot.billing.collect import Collector
from allot.kit.db import Database
from allot.payment import repository as pay_repo
from allot.payment.gateway import GatewayError, Outcome
from allot.payment.sandbox import SandboxGateway
from allot.subscription import repository as sub_repo
from allot.subscription.repository import LiveSubscription
from tests.scenarios.cafe import DECLINES, GOOD, KYIV, LINKS, Cafe
from tests.scenarios.world import local


@pytest.fixture
def cafe(db: Database, tmp_path: Path) -> Cafe:
    c = Cafe(db, tmp_path)
    c.card(GOOD)
    c.day(2, 1)  # February is charged on its contract date and paid
    c.card(DECLINES)  # then the card on file starts declining
    return c


def test_p1_the_contract_date_charges_the_card_once(cafe: Cafe) -> None:
    february = cafe.world.invoices("cafe")[0]
    assert (february.total_minor, february.state) == (2900, "paid")
    assert [(c["amount"], c["status"]) for c in cafe.charges()] == [(2900, "succeeded")]
    assert cafe.status().state == "ok"


def test_p2_a_declined_renewal_is_retried_on_schedule_then_the_free_plan(cafe: Cafe) -> None:
    cafe.day(3, 1)  # the 1 March renewal: declined
    march = cafe.world.invoices("cafe")[-1]
    assert (march.issued_on.isoformat(), march.total_minor, march.state) == (
        "2026-03-01",
        2900,
        "finalized",
    )
    assert cafe.state() == "past_due"
    assert cafe.emails("payment_failed") == [f"Payment failed: invoice {march.number} (29.00 EUR)"]
    status = cafe.status()
    assert (status.state, [str(m.amount) for m in status.past_due]) == ("past_due", ["29.00"])
    assert status.next_retry_at == local(KYIV, 2026, 3, 2, 9)  # a day after the first failure
    assert status.action is not None
    assert status.action.kind == "update_payment_method"
    assert status.action.url == "https://app.example/billing?account=cafe"
    assert cafe.events("subscription.past_due") == 1

    cafe.hours(since=(3, 1), days=16)
    tries = [c for c in cafe.charges() if c["amount"] == 2900][1:]
    assert len(tries) == 8  # the renewal and seven retries, within two weeks
    with cafe.db.read() as conn:
        made = [a.created_at for a in pay_repo.attempts_of(conn, march.id)]
    first = made[0]
    assert [(t - first).days for t in made] == [0, 1, 3, 5, 7, 9, 11, 13]
    assert all(c["status"] == "failed" for c in tries)
    assert cafe.plan() == "card-scanner-free"  # the stamp-card catalog's final rule
    assert cafe.events("dunning.exhausted") == 1
    assert len(cafe.emails("payment_failed")) == 1  # told once, at the first failure
    assert cafe.status().state == "past_due"  # still owed: the banner stays


def test_p2_a_new_card_on_day_3_pays_in_the_next_round_and_clears_the_banner(cafe: Cafe) -> None:
    cafe.day(3, 1)
    cafe.hours(since=(3, 1), days=2)  # the retry of 2 March fails too
    assert cafe.state() == "past_due"
    cafe.world.at(KYIV, 2026, 3, 3, 15)
    cafe.card(GOOD)
    cafe.collector.round(50)  # the next worker round

    march = cafe.world.invoices("cafe")[-1]
    assert march.state == "paid"
    assert cafe.state() == "active"
    assert cafe.plan() == "monthly"
    assert cafe.status().state == "ok"
    assert cafe.status().action is None
    paid = [c for c in cafe.charges() if c["status"] == "succeeded"]
    assert len(paid) == 2  # February, and March once
    cafe.hours(since=(3, 3), days=14)
    assert len([c for c in cafe.charges() if c["status"] == "succeeded"]) == 2  # no more


def test_p2_paying_after_the_final_rule_gives_the_plan_back(cafe: Cafe) -> None:
    cafe.day(3, 1)
    cafe.hours(since=(3, 1), days=15)
    assert cafe.plan() == "card-scanner-free"
    cafe.world.at(KYIV, 2026, 3, 20, 10)
    cafe.card(GOOD)
    cafe.collector.round(50)
    assert cafe.world.invoices("cafe")[-1].state == "paid"
    assert (cafe.plan(), cafe.state()) == ("monthly", "active")
    cafe.day(4, 1)  # the April renewal is the restored plan's price, paid
    april = cafe.world.invoices("cafe")[-1]
    assert (april.issued_on.isoformat(), april.total_minor, april.state) == (
        "2026-04-01",
        2900,
        "paid",
    )


def test_p4_a_hard_decline_is_not_retried_until_the_card_changes(cafe: Cafe) -> None:
    cafe.card("4000000000009987")  # lost card
    cafe.day(3, 1)
    cafe.hours(since=(3, 1), days=16)
    march = [c for c in cafe.charges() if c["status"] != "succeeded"]
    assert [(c["decline_code"], c["hard"]) for c in march] == [("lost_card", 1)]  # 0 retries
    assert cafe.state() == "past_due"
    assert cafe.plan() == "monthly"  # no schedule ran out: the rule waits with it
    cafe.card(GOOD)
    cafe.collector.round(50)
    assert cafe.world.invoices("cafe")[-1].state == "paid"


def test_p4_nothing_is_charged_after_a_cancel(cafe: Cafe) -> None:
    cafe.day(3, 1)  # declined, past_due
    sub = cafe.world.subscription("cafe")
    with cafe.db.transaction() as conn:
        payments.cancel(conn, cafe.world.clock, account_id="cafe", subscription_id=sub.id)
    before = len(cafe.charges())
    cafe.card(GOOD)  # even a good card now charges nothing
    cafe.hours(since=(3, 1), days=40)
    assert len(cafe.charges()) == before
    assert cafe.world.invoices("cafe")[-1].issued_on.isoformat() == "2026-03-01"  # no April


def test_p4_a_card_that_needs_authentication_is_action_required_not_a_failure(
    cafe: Cafe,
) -> None:
    cafe.card("4000002760003184")
    cafe.day(3, 1)
    status = cafe.status()
    assert status.state == "action_required"
    assert status.action is not None
    assert status.action.kind == "confirm_payment"
    assert cafe.emails("payment_failed") == []
    assert len(cafe.emails("payment_action")) == 1
    assert status.action.payment_id is not None
    done = payments.confirm_in_sandbox(
        cafe.collector, account_id="cafe", payment_id=status.action.payment_id, success=True
    )
    assert done.state == "succeeded"
    assert cafe.world.invoices("cafe")[-1].state == "paid"
    assert cafe.status().state == "ok"
    assert cafe.state() == "active"


@pytest.mark.parametrize("settled", ["paid by transfer", "voided", "canceled"])
def test_p4_a_payment_waiting_on_its_cardholder_is_withdrawn_once_not_needed(
    cafe: Cafe, settled: str
) -> None:
    """The café's March payment waits for 3-D Secure; then March is settled another way. The
    waiting payment is canceled at the provider in the next round: confirming it later
    charges nothing."""
    from allot.invoice import service as invoice_service
    from allot.payment.gateway import GatewayError

    cafe.card("4000002760003184")
    cafe.day(3, 1)
    march = cafe.world.invoices("cafe")[-1]
    waiting = next(c for c in cafe.charges() if c["status"] == "requires_action")
    with cafe.db.transaction() as conn:
        if settled == "paid by transfer":
            invoice_service.mark_paid(conn, cafe.world.clock, invoice_id=march.id)
        elif settled == "voided":
            invoice_service.void(conn, cafe.world.clock, invoice_id=march.id, reason="mistake")
        else:
            payments.cancel(conn, cafe.world.clock, account_id="cafe",
                            subscription_id=march.subscription_id or 0)  # fmt: skip
    cafe.collector.round(50)
    withdrawn = next(c for c in cafe.charges() if c["ref"] == waiting["ref"])
    assert (withdrawn["status"], withdrawn["decline_code"]) == ("failed", "canceled")
    with pytest.raises(GatewayError):  # the cardholder follows the old link: nothing to confirm
        cafe.sandbox.authenticate(provider_ref=str(waiting["ref"]), success=True)
    assert cafe.status().state == "ok"
    assert cafe.events("payment.failed") == 0  # withdrawn, not a failure
    with cafe.db.read() as conn:
        assert pay_repo.attempts_of(conn, march.id)[-1].decline_code == "canceled"


def test_p4_a_payment_confirmed_as_it_is_withdrawn_is_kept_as_credit(cafe: Cafe) -> None:
    """The cardholder confirms at the provider just as the operator marks March paid by
    transfer: the provider keeps the payment, and allot keeps it as the café's credit."""
    from allot.account import repository as account_repo
    from allot.invoice import service as invoice_service

    cafe.card("4000002760003184")
    cafe.day(3, 1)
    march = cafe.world.invoices("cafe")[-1]
    waiting = next(c for c in cafe.charges() if c["status"] == "requires_action")
    with cafe.db.transaction() as conn:
        invoice_service.mark_paid(conn, cafe.world.clock, invoice_id=march.id)
    cafe.sandbox.authenticate(provider_ref=str(waiting["ref"]), success=True)
    cafe.collector.round(50)
    with cafe.db.read() as conn:
        account = account_repo.get(conn, "cafe")
        assert account is not None
        assert account.credit_balance_minor == 2900
        assert pay_repo.attempts_of(conn, march.id)[-1].state == "succeeded"


def test_p4_a_card_saved_while_the_old_one_is_charged_is_tried_at_once(cafe: Cafe) -> None:
    """The business replaces its lost card while the round is charging the old one: the old
    card's hard decline does not leave March waiting for a new card — it has one."""
    import dataclasses

    class CardReplacedMidCharge(SandboxGateway):
        def charge(self, **kw: object) -> Outcome:
            cafe.card(GOOD)
            return super().charge(**kw)  # type: ignore[arg-type]

    cafe.card("4000000000009987")  # lost
    cafe.world.at(KYIV, 2026, 3, 1, 9)
    cafe.world.bill()
    dataclasses.replace(cafe.collector, gateway=CardReplacedMidCharge(cafe.sandbox.path)).round(50)
    assert [c["decline_code"] for c in cafe.charges()][-1] == "lost_card"
    cafe.collector.round(50)  # the next round charges the new card
    assert cafe.world.invoices("cafe")[-1].state == "paid"
    assert (cafe.state(), cafe.status().state) == ("active", "ok")


def test_p2_a_payment_never_confirmed_is_withdrawn_after_the_schedule(cafe: Cafe) -> None:
    """March's payment waits for 3-D Secure, and the owner never confirms it. It is waited
    for as long as the retries would last (13 days); then it is withdrawn and the final rule
    applies, as after the last retry — and a new card undoes it."""
    from allot.payment.gateway import GatewayError

    cafe.card("4000002760003184")
    cafe.day(3, 1)
    confirm_by = cafe.status().invoices[0].confirm_by
    assert confirm_by == local(KYIV, 2026, 3, 14, 9)
    assert (cafe.status().next_retry_at, cafe.state()) == (None, "active")
    cafe.hours(since=(3, 1), days=13)  # to 14 March 00:00: still waiting
    assert (cafe.status().state, cafe.plan()) == ("action_required", "monthly")
    cafe.hours(since=(3, 14), days=1)
    assert (cafe.status().state, cafe.state()) == ("past_due", "past_due")
    assert cafe.plan() == "card-scanner-free"  # stamp-card's final rule
    assert cafe.events("dunning.exhausted") == 1
    waiting = next(c for c in cafe.charges() if c["decline_code"] == "canceled")
    with pytest.raises(GatewayError):  # the old link confirms nothing now
        cafe.sandbox.authenticate(provider_ref=str(waiting["ref"]), success=True)
    assert cafe.events("payment.failed") == 0  # never counted as a failure
    assert len(cafe.emails("payment_failed")) == 1  # but the business is told, as at one
    cafe.card(GOOD)
    cafe.collector.round(50)
    assert cafe.world.invoices("cafe")[-1].state == "paid"
    assert (cafe.plan(), cafe.status().state) == ("monthly", "ok")


def test_p2_an_external_channel_account_is_never_charged(db: Database, tmp_path: Path) -> None:
    c = Cafe(db, tmp_path)
    with db.transaction() as conn:
        update_account(conn, c.world.clock, account_id="cafe", billing_channel="external")
    c.card(GOOD)
    c.day(2, 1)
    c.day(3, 1)
    assert c.charges() == []
    assert [i.state for i in c.world.invoices("cafe")] == ["finalized", "finalized"]
    assert c.status().state == "ok"


def test_p2_an_invoice_paid_by_transfer_clears_the_banner(cafe: Cafe) -> None:
    from allot.invoice import service as invoice_service

    cafe.day(3, 1)
    march = cafe.world.invoices("cafe")[-1]
    with cafe.db.transaction() as conn:
        invoice_service.mark_paid(conn, cafe.world.clock, invoice_id=march.id, note="bank transfer")
    cafe.collector.round(50)
    assert cafe.status().state == "ok"
    assert cafe.state() == "active"
    assert Decimal(2900) == march.total_minor


def test_p4_a_credit_note_on_a_card_paid_invoice_is_refunded_once(cafe: Cafe) -> None:
    from allot.billing.refunds import refund_note
    from allot.core.errors import Conflict
    from allot.invoice import service as invoice_service

    february = cafe.world.invoices("cafe")[0]
    with cafe.db.transaction() as conn:
        note = invoice_service.credit_note(
            conn, cafe.world.clock, invoice_id=february.id, reason="a week closed for works",
            amounts={0: "7.25"}, issued_on=february.issued_on,
        )  # fmt: skip
    done = refund_note(cafe.collector, number=note.number)
    again = refund_note(cafe.collector, number=note.number)  # a retry gives back nothing more
    assert (done.state, done.amount_minor) == ("succeeded", 725)
    assert again == done
    with sqlite3.connect(cafe.sandbox.path) as books:
        refunds = books.execute("SELECT charge, amount, succeeded FROM refunds").fetchall()
    paid = next(c for c in cafe.charges() if c["status"] == "succeeded")
    assert refunds == [(paid["ref"], 725, 1)]
    assert cafe.events("payment.refunded") == 1

    with cafe.db.transaction() as conn:
        rest = invoice_service.credit_note(
            conn, cafe.world.clock, invoice_id=february.id, reason="the rest",
            issued_on=february.issued_on,
        )  # fmt: skip
    assert refund_note(cafe.collector, number=rest.number).amount_minor == 2175
    cafe.day(3, 1)  # declined: unpaid
    march = cafe.world.invoices("cafe")[-1]
    with cafe.db.transaction() as conn:
        unpaid = invoice_service.credit_note(
            conn, cafe.world.clock, invoice_id=march.id, reason="goodwill", amounts={0: "4"},
            issued_on=march.issued_on,
        )  # fmt: skip
    with pytest.raises(Conflict) as refused:  # it only lowered what March asks for
        refund_note(cafe.collector, number=unpaid.number)
    assert refused.value.code == "credit_note_not_charged"
    assert [str(m.amount) for m in cafe.status().past_due] == ["25.00"]  # the note took 4 off


def test_p4_a_refund_a_crash_left_pending_is_asked_again_with_its_key(cafe: Cafe) -> None:
    from allot.billing import refunds
    from allot.billing.refunds import payments_round
    from allot.payment import repository as pay_repo

    february = cafe.world.invoices("cafe")[0]
    with cafe.db.transaction() as conn:  # the note and its refund, recorded; then the process dies
        note = refunds.credit_note(
            conn, cafe.world.clock, invoice_id=february.id, reason="refund", amounts=None,
            issued_on=february.issued_on, settle="refund",
        )  # fmt: skip
        attempt = pay_repo.attempts_of(conn, february.id)[0]
    cafe.sandbox.refund(
        provider_ref=str(attempt.provider_ref), amount_minor=2900, key=f"allot-{note.number}"
    )
    cafe.world.clock.advance(timedelta(minutes=6))
    payments_round(cafe.collector)(50)
    with cafe.db.read() as conn:
        refund = pay_repo.get_refund(conn, note.id)
    assert refund is not None
    assert refund.state == "succeeded"
    with sqlite3.connect(cafe.sandbox.path) as books:
        assert books.execute("SELECT count(*) FROM refunds").fetchone() == (1,)  # once


# --- what the review of the round found (each once a way to charge wrongly) -----------------


class Unreachable(SandboxGateway):
    """The sandbox behind a network that loses every charge request (it never arrives)."""

    def charge(self, **kw: object) -> Outcome:
        raise GatewayError("connection refused")


def test_p4_a_credit_note_the_charge_left_out_is_not_refunded(cafe: Cafe) -> None:
    from allot.billing.refunds import refund_note
    from allot.core.errors import Conflict
    from allot.invoice import service as invoice_service

    cafe.card(GOOD)
    cafe.world.at(KYIV, 2026, 3, 1, 9)
    cafe.world.bill()
    march = cafe.world.invoices("cafe")[-1]
    with cafe.db.transaction() as conn:  # before the round charges it: EUR 19 is charged
        note = invoice_service.credit_note(
            conn, cafe.world.clock, invoice_id=march.id, reason="closed", amounts={0: "10"},
            issued_on=march.issued_on,
        )  # fmt: skip
    cafe.collector.round(50)
    assert [c["amount"] for c in cafe.charges()][-1] == 1900
    with pytest.raises(Conflict) as refused:
        refund_note(cafe.collector, number=note.number)
    assert refused.value.code == "credit_note_not_charged"


def test_p4_a_charge_lost_in_flight_is_withdrawn_when_the_subscription_is_canceled(
    cafe: Cafe,
) -> None:
    lossy = Unreachable(cafe.sandbox.path)
    collector = Collector(cafe.db, cafe.world.clock, lossy, LINKS)
    cafe.card(GOOD)
    cafe.world.at(KYIV, 2026, 3, 1, 9)
    cafe.world.bill()
    collector.round(50)  # the request never reaches the provider: the attempt stays pending
    sub = cafe.world.subscription("cafe")
    with cafe.db.transaction() as conn:
        payments.cancel(conn, cafe.world.clock, account_id="cafe", subscription_id=sub.id)
    before = len(cafe.charges())
    cafe.hours(since=(3, 1), days=2)  # the network is back: the round reconciles
    assert len(cafe.charges()) == before  # nothing charged after the cancel
    with cafe.db.read() as conn:
        states = [a.state for a in pay_repo.attempts_of(conn, cafe.world.invoices("cafe")[-1].id)]
    assert states == ["canceled"]


def test_p4_a_worker_with_another_provider_leaves_this_ones_attempts_alone(cafe: Cafe) -> None:
    """The operator moved to another provider while an attempt was in flight at the first:
    a worker on the new one neither asks it about that attempt nor withdraws it."""

    class Other(SandboxGateway):
        name = "other"

    lossy = Unreachable(cafe.sandbox.path)
    cafe.card(GOOD)
    cafe.world.at(KYIV, 2026, 3, 1, 9)
    cafe.world.bill()
    Collector(cafe.db, cafe.world.clock, lossy, LINKS).round(50)  # lost in flight: pending
    cafe.world.clock.advance(timedelta(minutes=6))
    elsewhere = Collector(cafe.db, cafe.world.clock, Other(cafe.tmp / "other.db"), LINKS)
    elsewhere.round(50)
    march = cafe.world.invoices("cafe")[-1]
    with cafe.db.read() as conn:
        assert [a.state for a in pay_repo.attempts_of(conn, march.id)] == ["pending"]
    cafe.collector.round(50)  # a worker that has the first provider charges it, once
    with cafe.db.read() as conn:
        assert [a.state for a in pay_repo.attempts_of(conn, march.id)] == ["succeeded"]


def test_p4_a_success_the_provider_reports_after_a_failure_is_recorded(cafe: Cafe) -> None:
    """Stripe: the cardholder failed 3-D Secure (recorded as a failure), then paid on the
    provider's page; the success that follows is money moved, and is never dropped."""
    from allot.payment.gateway import ChargeStatus

    cafe.day(3, 1)  # declined: past due
    march = cafe.world.invoices("cafe")[-1]
    with cafe.db.read() as conn:
        failed = pay_repo.attempts_of(conn, march.id)[0]
    assert (failed.state, cafe.state()) == ("failed", "past_due")
    paid = Outcome(ChargeStatus.SUCCEEDED, provider_ref=failed.provider_ref)
    cafe.collector.record(failed.id, paid)
    cafe.collector.record(failed.id, paid)  # a redelivery changes nothing
    assert cafe.world.invoices("cafe")[-1].state == "paid"
    assert (cafe.state(), cafe.status().state) == ("active", "ok")
    assert cafe.events("payment.succeeded") == 2  # February's and this one
    late = Outcome(ChargeStatus.FAILED, provider_ref=failed.provider_ref, decline_code="x")
    cafe.collector.record(failed.id, late)  # and a failure after a success is dropped
    with cafe.db.read() as conn:
        assert pay_repo.attempts_of(conn, march.id)[0].state == "succeeded"


def test_p2_a_provider_that_keeps_refusing_is_a_failure_after_an_hour(cafe: Cafe) -> None:
    lossy = Unreachable(cafe.sandbox.path)
    collector = Collector(cafe.db, cafe.world.clock, lossy, LINKS)
    cafe.world.at(KYIV, 2026, 3, 1, 9)
    cafe.world.bill()
    for _ in range(16):  # every six minutes, past each lease
        collector.round(50)
        cafe.world.clock.advance(timedelta(minutes=6))
    assert cafe.state() == "past_due"
    assert len(cafe.emails("payment_failed")) == 1
    with cafe.db.read() as conn:
        attempts = pay_repo.attempts_of(conn, cafe.world.invoices("cafe")[-1].id)
    assert [(a.state, a.decline_code) for a in attempts] == [("failed", "provider_refused")]


def test_p4_a_cancel_after_the_dunning_canceled_stops_every_charge(
    db: Database, tmp_path: Path
) -> None:
    c = Cafe(db, tmp_path)
    with db.transaction() as conn:  # a line whose final rule cancels (as Loyalty's)
        conn.execute(sa.text("UPDATE product_lines SET final_rule = 'cancel'"))
    c.card(GOOD)
    c.day(2, 1)
    c.card(DECLINES)
    c.day(3, 1)
    c.hours(since=(3, 1), days=15)
    sub = next(iter(_subs(c)))
    assert sub.state == "canceled"
    with db.transaction() as conn:
        payments.cancel(conn, c.world.clock, account_id="cafe", subscription_id=sub.id)
    before = len(c.charges())
    c.card(GOOD)
    c.hours(since=(3, 17), days=3)
    assert len(c.charges()) == before
    assert next(iter(_subs(c))).state == "canceled"


def _subs(c: Cafe) -> list[LiveSubscription]:
    with c.db.read() as conn:
        rows = conn.execute(sa.text("SELECT id FROM subscriptions")).scalars().all()
        return [s for i in rows if (s := sub_repo.by_id(conn, int(i))) is not None]


def test_p4_saving_the_same_card_again_retries_nothing(cafe: Cafe) -> None:
    cafe.card("4000000000009987")  # lost
    cafe.day(3, 1)
    with cafe.db.read() as conn:
        card = pay_repo.active_method(conn, "cafe")
        customer = pay_repo.customer_ref(conn, "cafe", "sandbox")
    assert card is not None
    assert customer is not None
    # the page posts the same confirmed setup again, and again
    with sqlite3.connect(cafe.sandbox.path) as books:
        setup = books.execute(
            "SELECT ref FROM setups WHERE card = ?", (card.method_ref,)
        ).fetchone()[0]
    for _ in range(3):
        payments.save_card(
            cafe.db, cafe.world.clock, cafe.sandbox, account_id="cafe", setup_ref=setup
        )
        cafe.collector.round(50)
    lost = [c for c in cafe.charges() if c["decline_code"] == "lost_card"]
    assert len(lost) == 1


def test_p2_an_invoice_credited_in_full_is_no_longer_past_due(cafe: Cafe) -> None:
    from allot.invoice import service as invoice_service

    cafe.card("4000000000009987")  # lost: waits for a new card
    cafe.day(3, 1)
    assert cafe.state() == "past_due"
    march = cafe.world.invoices("cafe")[-1]
    with cafe.db.transaction() as conn:
        invoice_service.credit_note(
            conn, cafe.world.clock, invoice_id=march.id, reason="waived", issued_on=march.issued_on
        )
    cafe.collector.round(50)
    assert (cafe.state(), cafe.status().state) == ("active", "ok")


def test_p4_an_old_cards_failed_confirmation_lets_the_new_card_be_tried(cafe: Cafe) -> None:
    """March waits for 3-D Secure on card A; the business saves card B, then fails the check
    on A: B is charged in the next round, not left waiting for a payment that is gone."""
    cafe.card("4000002760003184")
    cafe.day(3, 1)
    waiting = cafe.status().action
    assert waiting is not None
    assert waiting.payment_id is not None
    cafe.card(GOOD)
    payments.confirm_in_sandbox(
        cafe.collector, account_id="cafe", payment_id=waiting.payment_id, success=False
    )
    cafe.collector.round(50)
    assert cafe.world.invoices("cafe")[-1].state == "paid"
    assert cafe.status().state == "ok"
