"""45 days of 2,000 card accounts with every kind of test card (P1-P4, seeds 000 and 003).

From 1 February 2026, businesses sign up for stamp-card Monthly through the month, each
with a sandbox test card drawn from a mix: good cards, soft declines, insufficient funds,
lost cards, cards that need authentication once or every time, cards that save but never
pay. Along the way some replace their card with a good one, some cancel, and some
cardholders confirm the payment their bank asked them to. Every six hours the invoice run
and the worker's charging round run, until 17 March. Then, whatever happened:

* no invoice was charged successfully twice at the provider, and every charge the
  provider made is an attempt allot recorded (none pending);
* no account was charged after its cancel;
* every account whose card failed was told by e-mail at its first failure, in the same
  instant;
* every account's standing follows from its invoices: all paid → active (or canceled);
  every retry spent → on the free plan.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from allot.account.service import create_account
from allot.billing import payments
from allot.billing.collect import Collector
from allot.invoice.models import invoices
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.notify.models import emails
from allot.payment.models import collections, payment_attempts, payment_methods
from allot.payment.sandbox import SandboxGateway
from allot.subscription.models import subscriptions
from allot.subscription.service import subscribe
from tests.scenarios.world import World, local

pytestmark = pytest.mark.slow

SEED = 45
ACCOUNTS = 2000
DAYS = 45
KYIV = "Europe/Kyiv"
GOOD = "4242424242424242"
HELD = ("waiting_for_card", "exhausted")  # collections a failure leaves without a next try
MIX = [
    (GOOD, 60),
    ("4000000000000002", 10),  # declined
    ("4000000000009995", 8),  # insufficient funds
    ("4000000000009987", 5),  # lost: hard
    ("4000002500003155", 5),  # authentication on the first charge
    ("4000002760003184", 5),  # authentication on every charge
    ("4000000000000341", 7),  # saves, never pays
]


def test_p2_45_days_of_2000_card_accounts(db: Database, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    start = local(KYIV, 2026, 2, 1, 0)
    world = World(db, FixedClock(start))
    sandbox = SandboxGateway(tmp_path / "sandbox.db")
    collector = Collector(db, world.clock, sandbox)
    cards = [n for n, weight in MIX for _ in range(weight)]
    signups: dict[int, list[str]] = defaultdict(list)  # step → accounts that sign up then
    for i in range(ACCOUNTS):
        signups[rng.randrange(0, 28 * 4)].append(f"biz-{i:04d}")
    card_of = {a: rng.choice(cards) for step in signups.values() for a in step}
    fixes = {
        a: rng.randrange(4, DAYS * 4) for a in card_of if card_of[a] != GOOD and rng.random() < 0.3
    }
    cancels = {a: rng.randrange(8, DAYS * 4) for a in card_of if rng.random() < 0.05}
    canceled_at: dict[str, int] = {}  # account → provider charges when it canceled

    joined: set[str] = set()
    for step in range(DAYS * 4):
        world.clock.set(start + timedelta(hours=6 * step))
        for account in signups.get(step, []):
            _sign_up(db, world, sandbox, account, card_of[account])
            joined.add(account)
        for account, at in fixes.items():
            if at == step and account in joined and account not in canceled_at:
                _card(db, world, sandbox, account, GOOD)
        _confirm_some(db, collector, rng)
        for account, at in cancels.items():
            if at == step and account in joined:
                _cancel(db, world, account)
                canceled_at[account] = _charges_of(sandbox)[account]
        world.bill()
        while collector.round(100) >= 100:
            pass

    provider = sandbox.charges()
    provider_count = _charges_of(sandbox)
    paid = Counter(str(c["metadata"]["invoice"]) for c in provider if c["status"] == "succeeded")  # type: ignore[index]
    assert [n for n, k in paid.items() if k > 1] == []  # no double charge
    assert len(provider) > ACCOUNTS  # renewals and retries were made

    with db.read() as conn:
        attempts = conn.execute(sa.select(payment_attempts)).all()
        failed_mail = conn.execute(
            sa.select(emails.c.account_id, emails.c.created_at).where(
                emails.c.kind == "payment_failed"
            )
        ).all()
        subs = {r.account_id: r for r in conn.execute(sa.select(subscriptions))}
    assert sorted(str(c["key"]) for c in provider) == sorted(a.key for a in attempts)
    assert [a.id for a in attempts if a.state == "pending"] == []

    for account, count in canceled_at.items():  # nothing charged after a cancel
        assert provider_count[account] == count, account

    first_failure: dict[str, object] = {}
    with db.read() as conn:
        methods = conn.execute(
            sa.select(
                payment_methods.c.id, payment_methods.c.account_id, payment_methods.c.created_at
            )
        ).all()

    def replaced_before(a: sa.Row[tuple[object, ...]]) -> bool:
        """The card was replaced before its failure landed: the new card is tried instead."""
        return any(
            c.account_id == a.account_id and c.id > a.method_id and c.created_at <= a.finished_at
            for c in methods
        )

    for a in sorted(attempts, key=lambda a: a.id):
        # a payment withdrawn at the provider ("canceled") is no failure of the card: its
        # invoice was settled otherwise, or its confirmation expired (told then as well)
        if a.state == "failed" and a.decline_code != "canceled" and not replaced_before(a):
            first_failure.setdefault(a.account_id, a.finished_at)
    told = {(r.account_id, r.created_at) for r in failed_mail}
    for account, when in first_failure.items():
        assert (account, when) in told, account  # told at its first failure, that instant

    with db.read() as conn:
        standing = conn.execute(
            sa.select(
                collections.c.account_id, collections.c.state, collections.c.tries, invoices.c.state
            ).join(invoices, invoices.c.id == collections.c.invoice_id)
        ).all()
    owing = {a for a, c, _t, i in standing if i == "finalized" and c != "closed"}
    failing = {  # a charge of it failed (or found no card) and it is still owed
        a for a, c, t, i in standing if i == "finalized" and c != "closed" and (t or c in HELD)
    }
    waiting = {a for a, c, _t, i in standing if i == "finalized" and c == "requires_action"}
    spent = {a for a, c, _t, i in standing if c == "exhausted" and i == "finalized"}
    for account, sub in subs.items():
        if sub.state == "canceled":
            continue
        if account not in owing:  # everything paid: in good standing, on its plan
            assert (sub.state, world.plan_of(account)) == ("active", "monthly"), account
        elif account in failing:  # a charge failed and is still owed: past due
            assert sub.state == "past_due", account
        else:  # only waiting for its cardholder: never a failure (P4)
            assert account in waiting
            assert sub.state == "active", account
        if account in spent:  # every retry of an invoice still owed failed: the free plan
            assert world.plan_of(account) == "card-scanner-free", account
    assert spent  # the final rule ran
    assert len(owing) < len(subs) // 2


def _sign_up(db: Database, world: World, sandbox: SandboxGateway, account: str, card: str) -> None:
    with db.transaction() as conn:
        create_account(
            conn, world.clock, account_id=account, name=account, timezone=KYIV, currency="EUR",
            billing_details={"email": f"owner@{account}.example"},
        )  # fmt: skip
    _card(db, world, sandbox, account, card)
    today = world.clock.now().astimezone(ZoneInfo(KYIV)).date()
    with db.transaction() as conn:
        subscribe(conn, world.clock, account_id=account, plan_code="monthly", started_on=today)


def _card(db: Database, world: World, sandbox: SandboxGateway, account: str, number: str) -> None:
    payments.sandbox_card(
        db, world.clock, sandbox, account_id=account, number=number, exp_month=12, exp_year=2030
    )


def _cancel(db: Database, world: World, account: str) -> None:
    sub = world.subscription(account)
    with db.transaction() as conn:
        payments.cancel(conn, world.clock, account_id=account, subscription_id=sub.id)


def _confirm_some(db: Database, collector: Collector, rng: random.Random) -> None:
    """Half the cardholders asked to authenticate do so, a few hours later."""
    with db.read() as conn:
        waiting = conn.execute(
            sa.select(payment_attempts.c.id, payment_attempts.c.account_id)
            .where(payment_attempts.c.state == "requires_action")
            .order_by(payment_attempts.c.id)
        ).all()
    for attempt_id, account in waiting:
        if rng.random() < 0.15:
            payments.confirm_in_sandbox(
                collector, account_id=account, payment_id=attempt_id, success=rng.random() < 0.8
            )


def _charges_of(sandbox: SandboxGateway) -> Counter[str]:
    return Counter(str(c["metadata"]["account"]) for c in sandbox.charges())  # type: ignore[index]
