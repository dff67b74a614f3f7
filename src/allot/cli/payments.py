"""`allot payments …`, `allot dunning …` and `allot cancel`: cards, charges, the banner's state.

The charging round itself runs in `allot worker`; `allot payments collect` runs it alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, open_database
from allot.kit.rounds import DEFAULT_BATCH

if TYPE_CHECKING:
    from allot.billing.collect import Collector
    from allot.kit.db import Database

payments_app = typer.Typer(help="Cards on file and card payments.", no_args_is_help=True)
dunning_app = typer.Typer(help="Failed payments: what is past due, retries.", no_args_is_help=True)


def collector(db: Database) -> Collector:
    from allot.billing.collect import Collector
    from allot.config import Settings

    settings = Settings.from_env()
    return Collector(db, clock(), settings.gateway(), settings.payment_links())


@payments_app.command("card")
@domain_errors
def payments_card(
    account_id: str,
    test_card: Annotated[
        str, typer.Option(help="A sandbox test card, e.g. 4242424242424242 (see the README).")
    ],
    expiry: Annotated[str, typer.Option(help="MM/YYYY")] = "12/2030",
) -> None:
    """Save a sandbox test card as the account's card (open invoices are retried)."""
    from allot.billing.payments import sandbox_card
    from allot.core.errors import InvalidInput

    month, _, year = expiry.partition("/")
    if not (month.isdigit() and year.isdigit()):
        raise InvalidInput("invalid_expiry", "write the expiry as MM/YYYY", field="expiry")
    if not 1 <= int(month) <= 12:
        raise InvalidInput("invalid_expiry", "the month is 1-12", field="expiry")
    with open_database() as db:
        c = collector(db)
        card = sandbox_card(
            db, c.clock, c.gateway, account_id=account_id, number=test_card,
            exp_month=int(month), exp_year=int(year),
        )  # fmt: skip
    console.print(f"card on file for {account_id}: {card.brand} •••• {card.last4}")


@payments_app.command("list")
@domain_errors
def payments_list(account_id: str) -> None:
    """The account's charge attempts, newest first."""
    from allot.core.money import Money
    from allot.payment import repository as repo

    with open_database() as db, db.read() as conn:
        rows = repo.attempts_of_account(conn, account_id)
    if not rows:
        console.print(f"no payments for {account_id}")
    for a in rows:
        amount = Money.from_minor(a.amount_minor, a.currency)
        why = f" ({a.decline_code}{', hard' if a.hard else ''})" if a.decline_code else ""
        console.print(
            f"#{a.id} invoice {a.invoice_id}: {amount.amount} {a.currency} {a.state}{why} "
            f"{a.created_at:%Y-%m-%d %H:%M}Z"
        )


@payments_app.command("collect")
@domain_errors
def payments_collect(
    batch: Annotated[
        int, typer.Option(min=1, max=1000, help="Invoices per round.")
    ] = DEFAULT_BATCH,
) -> None:
    """Run the charging round until nothing is due (what `allot worker` does continuously)."""
    from allot.billing.refunds import payments_round

    with open_database() as db:
        work = payments_round(collector(db))
        total = 0
        while (done := work(batch)) > 0:
            total += done
            if done < batch:
                break
    console.print(f"{total} invoices worked on")


@payments_app.command("refund")
@domain_errors
def payments_refund(credit_note: str) -> None:
    """Refund to the card what a credit note (CN-…) kept as credit gave back of money paid,
    once (refused once later invoices took that credit)."""
    from allot.billing.refunds import refund_note
    from allot.core.money import Money

    with open_database() as db:
        c = collector(db)
        done = refund_note(c, number=credit_note)
        with db.read() as conn:
            from allot.payment import repository as repo

            currency = repo.get_attempt(conn, done.attempt_id).currency
    amount = Money.from_minor(done.amount_minor, currency)
    console.print(f"refund of {credit_note}: {amount.amount} {currency} {done.state}")


@payments_app.command("confirm")
@domain_errors
def payments_confirm(
    account_id: str,
    payment_id: int,
    fail: Annotated[bool, typer.Option("--fail", help="The cardholder fails.")] = False,
) -> None:
    """The sandbox's confirmation page: the cardholder authenticates a payment."""
    from allot.billing.payments import confirm_in_sandbox

    with open_database() as db:
        done = confirm_in_sandbox(
            collector(db), account_id=account_id, payment_id=payment_id, success=not fail
        )
    console.print(f"payment #{done.id}: {done.state}")


@dunning_app.command("status")
@domain_errors
def dunning_status(account_id: str) -> None:
    """What the billing page's banner shows for the account."""
    from allot.billing.payments import billing_status
    from allot.core.money import Money

    with open_database() as db:
        links = collector(db).links
        with db.read() as conn:
            s = billing_status(conn, account_id=account_id, links=links)
    due = ", ".join(f"{m.amount} {m.currency}" for m in s.past_due) or "nothing"
    console.print(f"{account_id}: {s.state}; past due: {due}")
    for i in s.invoices:
        amount = Money.from_minor(i.owed_minor, i.currency)
        nxt = f", next try {i.next_try_at:%Y-%m-%d %H:%M}Z" if i.next_try_at else ""
        console.print(
            f"  {i.number}: {amount.amount} {i.currency} {i.state}, {i.tries} failed "
            f"({i.decline_code}){nxt}"
        )
    if s.action is not None:
        console.print(f"  action: {s.action.kind} → {escape(s.action.url)}")
    if s.card is not None:
        console.print(f"  card: {s.card.brand} •••• {s.card.last4}")


@dunning_app.command("retry")
@domain_errors
def dunning_retry(invoice_id: int) -> None:
    """Charge an invoice in the next round, whatever its schedule says."""
    from allot.billing.payments import retry_now

    with open_database() as db, db.transaction() as conn:
        retry_now(conn, clock(), invoice_id=invoice_id)
    console.print(f"invoice {invoice_id} is charged in the next round")


@domain_errors
def cancel(account_id: str, subscription_id: int) -> None:
    """End a subscription now: nothing is charged after this (P4)."""
    from allot.billing.payments import cancel as cancel_subscription

    with open_database() as db, db.transaction() as conn:
        sub = cancel_subscription(
            conn, clock(), account_id=account_id, subscription_id=subscription_id
        )
    console.print(f"subscription #{sub.id} ({sub.plan.name}) is {sub.state}")
