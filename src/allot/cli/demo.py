"""`allot demo`: a month in the life of two businesses, on a clock that moves by hand.

A coffee shop in Kyiv on the free "Card scanner" plan, with a partner's code
of 18 card operations and 36 staff seats (seed 000's example), and an online
store in New York on Full Suite Business that sells 1,800 orders in January
(seed 003's example). Every action prints the source that paid for it. The
keys are fixed, so running the demo again replays the same answers (U1). Then
the invoice run, and the store's card on the sandbox provider: declined, then
replaced and paid (P1, P2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from allot.account import repository as account_repo
from allot.account.service import create_account
from allot.cli.context import console
from allot.cli.render import PROMPT_TEXT, print_summary
from allot.cli.reviews import show_status
from allot.code.grants import grant
from allot.core.money import Money
from allot.core.periods import Month
from allot.grant import repository as grant_repo
from allot.invoice import repository as invoice_repo
from allot.invoice.run import run as run_billing
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.reviews.service import OrderIn, ingest_orders, review_status, set_top_up_limit
from allot.subscription import repository as subscription_repo
from allot.subscription.service import subscribe
from allot.usage.service import UsageResult, consume, take_seat
from allot.usage.summary import usage_summary

KYIV = ZoneInfo("Europe/Kyiv")
NEW_YORK = ZoneInfo("America/New_York")


def _local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def _ensure_accounts(db: Database, clock: FixedClock) -> None:
    with db.transaction() as conn:
        if account_repo.get(conn, "demo-coffee") is None:
            create_account(
                conn,
                clock,
                account_id="demo-coffee",
                name="Bean & Leaf coffee shop",
                timezone="Europe/Kyiv",
                currency="EUR",
                locale="uk",
            )
            subscribe(
                conn,
                clock,
                account_id="demo-coffee",
                plan_code="card-scanner-free",
                started_on=date(2026, 1, 1),
            )
        if not grant_repo.for_account(conn, "demo-coffee"):
            grant(
                conn,
                clock,
                account_id="demo-coffee",
                label="Code #1",
                issuer="Brew Consultants (partner)",
                allowances={"card_operations": 18, "staff_seats": 36},
            )
        if account_repo.get(conn, "demo-candles") is None:
            create_account(
                conn,
                clock,
                account_id="demo-candles",
                name="Ivy & Oak candles",
                timezone="America/New_York",
                currency="USD",
            )
            subscribe(
                conn,
                clock,
                account_id="demo-candles",
                plan_code="reviews-business",
                started_on=date(2025, 12, 1),
            )
        if account_repo.get(conn, "demo-store") is None:
            create_account(
                conn,
                clock,
                account_id="demo-store",
                name="Northwind Decor",
                timezone="America/New_York",
                currency="USD",
            )
            subscribe(
                conn,
                clock,
                account_id="demo-store",
                plan_code="full-suite-business",
                started_on=date(2025, 12, 21),
            )


LABELS: dict[str, str] = {
    "overage": "billed overage",
    "free_overage": "recorded past the free plan",
    "top_up": "paid by the top-up limit",
    "backlog": "past the limit",
}


def _signature(result: UsageResult) -> str:
    if not result.allowed:
        return f"refused ({result.reason})"
    return " + ".join(LABELS.get(d.source, d.source) for d in result.draws)


def _learn_labels(db: Database, account_id: str) -> None:
    with db.read() as conn:
        for g in grant_repo.for_account(conn, account_id):
            LABELS[g.source] = f"{g.label} ({g.issuer})"
        for sub in subscription_repo.live(conn, account_id):
            LABELS[sub.source] = f"{sub.plan.name} allowance"


@dataclass
class _Run:
    first: int
    last: int
    signature: str
    prompt: tuple[str, ...]


def _run_lengths(noun: str, results: Iterable[UsageResult]) -> None:
    """Print consecutive actions that drew from the same sources as one line."""
    runs: list[_Run] = []
    replays = total = 0
    for n, result in enumerate(results, start=1):
        total, replays = n, replays + result.replayed
        sig = _signature(result)
        if runs and runs[-1].signature == sig:
            runs[-1].last = n
        else:
            runs.append(_Run(n, n, sig, result.prompt))
    for run in runs:
        span = f"{run.first:,}" if run.first == run.last else f"{run.first:,}–{run.last:,}"
        console.print(f"  {noun} {span:>13} → {run.signature}")
        if run.prompt:
            console.print(
                "      [yellow]prompt:[/] " + "; ".join(PROMPT_TEXT[p] for p in run.prompt)
            )
    if replays:
        console.print(
            f"  [dim]({replays} of {total} were replays of an earlier demo run: "
            "same key, same answer)[/]"
        )


def _actions(
    clock: FixedClock, times: Iterable[datetime], act: Callable[[int, datetime], UsageResult]
) -> Iterable[UsageResult]:
    for n, at in enumerate(times, start=1):
        clock.set(at)
        yield act(n, at)


def _stamps(db: Database, clock: FixedClock, month: str) -> Callable[[int, datetime], UsageResult]:
    """The coffee shop's till: one card operation per stamp, keyed by month and number."""

    def stamp(n: int, _at: datetime) -> UsageResult:
        with db.transaction() as conn:
            return consume(
                conn,
                clock,
                account_id="demo-coffee",
                metric="card_operations",
                quantity=1,
                idempotency_key=f"demo:coffee:{month}:{n}",
            )

    return stamp


def _december_rush(db: Database, clock: FixedClock) -> None:
    """A Reviews Business store's December: 4,500 orders against 1,500, a $150 top-up."""
    console.rule("[bold]Ivy & Oak candles — Reviews Business, the December 2025 rush")
    clock.set(_local(NEW_YORK, 2025, 12, 1, 9))
    with db.transaction() as conn:
        set_top_up_limit(conn, clock, account_id="demo-candles", mode="defined", cap=Decimal(150))
    start = _local(NEW_YORK, 2025, 12, 1, 9)
    step = (_local(NEW_YORK, 2025, 12, 31, 20) - start) / 4500
    orders = [
        OrderIn(f"dec-{n:04d}", start + step * n, excluded=n % 10 == 0) for n in range(1, 4501)
    ]
    clock.set(_local(NEW_YORK, 2025, 12, 31, 21))
    for week in range(0, len(orders), 1000):
        with db.transaction() as conn:
            ingest_orders(conn, clock, account_id="demo-candles", orders=orders[week : week + 1000])
    with db.transaction() as conn:
        show_status(review_status(conn, clock, account_id="demo-candles"), "demo-candles")
    console.print(
        "[dim]Orders 1-1,500 within the limit; $150 at $0.14 buys 1,071 more ($149.94, billed "
        "on 1 January); then 1,500 requests wait and the newest are archived.[/]"
    )
    clock.set(_local(NEW_YORK, 2026, 1, 2, 9))
    console.print("\n[bold]2 January: the backlog goes first, oldest first, in January's limit[/]")
    with db.transaction() as conn:
        show_status(review_status(conn, clock, account_id="demo-candles"), "demo-candles")


def run_demo(db: Database) -> None:
    clock = FixedClock(_local(KYIV, 2026, 1, 1, 8))
    _ensure_accounts(db, clock)
    _learn_labels(db, "demo-coffee")
    _learn_labels(db, "demo-store")
    _december_rush(db, clock)
    clock.set(_local(KYIV, 2026, 1, 1, 8))
    _coffee_shop(db, clock)
    _store(db, clock)
    _invoice_run(db, clock)
    _payments(db, clock)


def _coffee_shop(db: Database, clock: FixedClock) -> None:
    """January on the free plan with partner Code #1, then February's reset (K4)."""
    console.rule("[bold]Bean & Leaf coffee shop — free plan + partner Code #1, January 2026")
    times = [_local(KYIV, 2026, 1, day, 8 + i * 2) for day in range(1, 32) for i in range(4)]

    _run_lengths("card operation", _actions(clock, times, _stamps(db, clock, "2026-01")))
    for holder in ("owner", "barista-olena"):
        with db.transaction() as conn:
            result = take_seat(
                conn,
                clock,
                account_id="demo-coffee",
                metric="staff_seats",
                holder=holder,
                idempotency_key=f"demo:coffee:seat:{holder}",
            )
        console.print(f"  staff seat for {holder:>14} → {_signature(result)}")
    with db.read() as conn:
        print_summary(usage_summary(conn, clock, account_id="demo-coffee"))

    console.print("\n[bold]February: the code is full again (monthly reset, no rollover)[/]")
    feb = [_local(KYIV, 2026, 2, 3, 9 + i) for i in range(3)]

    _run_lengths("card operation", _actions(clock, feb, _stamps(db, clock, "2026-02")))


def _order(db: Database, clock: FixedClock, n: int, at: datetime) -> UsageResult:
    with db.transaction() as conn:
        return consume(
            conn,
            clock,
            account_id="demo-store",
            metric="orders",
            quantity=1,
            idempotency_key=f"demo:store:order:{n}",
            occurred_at=at,
        )


def _store(db: Database, clock: FixedClock) -> None:
    """January's 1,799 orders past the plan's limit, and one placed on the 31st, reported late."""
    console.rule("[bold]Northwind Decor — Full Suite Business, January 2026 (New York)")
    start = _local(NEW_YORK, 2026, 1, 1, 0, 5)
    step = (_local(NEW_YORK, 2026, 1, 31, 22) - start) / 1799
    order_times = [start + step * i for i in range(1799)]
    _run_lengths("order", _actions(clock, order_times, functools.partial(_order, db, clock)))
    late = _local(NEW_YORK, 2026, 1, 31, 23, 30)
    clock.set(_local(NEW_YORK, 2026, 2, 2, 10))
    result = _order(db, clock, 1800, late)
    console.print(
        f"  order 1,800 placed 31 Jan 23:30 New York, reported 2 Feb → month "
        f"{result.period}: {_signature(result)}"
    )
    with db.read() as conn:
        print_summary(usage_summary(conn, clock, account_id="demo-store", month=Month(2026, 1)))
    clock.set(clock.now() + timedelta(days=1))
    console.print("[dim]Overage is billed per calendar month on a separate invoice on the 8th.[/]")


def _invoice_run(db: Database, clock: FixedClock) -> None:
    """The invoice run, as of 8 February 2026 in New York: every charge due so far,
    each issued once (running the demo again issues nothing new)."""
    clock.set(_local(NEW_YORK, 2026, 2, 8, 9))
    report = run_billing(db, clock)
    console.print(f"\n[bold]Invoice run as of {clock.now():%d %b %Y}[/]")
    with db.read() as conn:
        for account_id in ("demo-coffee", "demo-candles", "demo-store"):
            for row in reversed(invoice_repo.listing(conn, account_id=account_id)):
                console.print(
                    f"  {row.number} {row.issued_on} {account_id}: {row.kind}, "
                    f"{Money.from_minor(row.total_minor, row.currency)}"
                )
    console.print(f"  ({len(report.invoices)} issued by this run)")


def _payments(db: Database, clock: FixedClock) -> None:
    """The store's invoices charged to its card on the sandbox: a card that declines, the
    banner, a new card, paid in the next round. Once: a second demo finds them paid."""
    from allot.billing.collect import Collector
    from allot.billing.payments import billing_status, sandbox_card
    from allot.config import Settings
    from allot.invoice.parties import seller_details, set_seller
    from allot.payment import repository as pay_repo

    settings = Settings.from_env()
    if settings.payment_gateway != "sandbox":
        return
    gateway = settings.gateway()
    collector = Collector(db, clock, gateway, settings.payment_links())
    with db.transaction() as conn:
        if seller_details(conn) is None:
            set_seller(conn, clock, DEMO_SELLER)
        card = pay_repo.active_method(conn, "demo-store")
    console.print("\n[bold]Card payments (the sandbox provider)[/]")

    def banner() -> None:
        with db.read() as conn:
            s = billing_status(conn, account_id="demo-store", links=collector.links)
        due = ", ".join(f"{m}" for m in s.past_due) or "nothing"
        nxt = f", next retry {s.next_retry_at:%d %b %H:%M} UTC" if s.next_retry_at else ""
        console.print(f"  demo-store: {s.state}; past due: {due}{nxt}")

    if card is None:
        for number in ("4000000000000341", "4242424242424242"):  # declines, then a good one
            sandbox_card(
                db, clock, gateway, account_id="demo-store", number=number, exp_month=12,
                exp_year=2030,
            )  # fmt: skip
            console.print(f"  card on file: visa •••• {number[-4:]}")
            while collector.round(100) >= 100:
                pass
            banner()
    else:
        banner()


DEMO_SELLER = {
    "legal_name": "allot demo operator Ltd",
    "email": "billing@allot.example",
    "address": {"line1": "1 Demo Street", "city": "Kyiv", "postal_code": "01001", "country": "UA"},
}
