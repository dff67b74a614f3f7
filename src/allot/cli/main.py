"""`allot` — one transaction per command, the services do the work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from allot.cli import render
from allot.cli.audit import audit_app
from allot.cli.billing import advice, bill, clock_app, invoices_app, plans_app
from allot.cli.codes import codes_app, partners_app
from allot.cli.context import clock, console, domain_errors, fail, open_database
from allot.cli.parse import allowances as parse_allowances
from allot.cli.parse import day as _date
from allot.cli.parse import instant as _instant
from allot.cli.parties import accounts_billing, print_details, seller_app
from allot.cli.payments import cancel, dunning_app, payments_app
from allot.cli.referral import referral_app
from allot.cli.reviews import orders_app, reviews_app, topup_app
from allot.cli.users import users_app
from allot.cli.webhooks import webhooks_app
from allot.cli.worker import worker
from allot.core.errors import InvalidInput
from allot.core.periods import Month
from allot.kit.ids import new_token

# Each command imports the services it calls in its body, so that the command line starts
# at once (see `allot.cli.context`).
app = typer.Typer(help="allot: usage-based billing and entitlements.", no_args_is_help=True)
catalog_app = typer.Typer(help="Validate, load and show the catalog.", no_args_is_help=True)
accounts_app = typer.Typer(help="Create and show accounts.", no_args_is_help=True)
seats_app = typer.Typer(help="Take and release staff seats.", no_args_is_help=True)
grants_app = typer.Typer(help="Give, pause and resume grants.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(accounts_app, name="accounts")
app.add_typer(seats_app, name="seats")
app.add_typer(grants_app, name="grants")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(partners_app, name="partners")
app.add_typer(codes_app, name="codes")
app.add_typer(clock_app, name="clock")
app.add_typer(invoices_app, name="invoices")
app.add_typer(plans_app, name="plans")
app.add_typer(referral_app, name="referral")
app.add_typer(orders_app, name="orders")
app.add_typer(reviews_app, name="reviews")
app.add_typer(topup_app, name="topup")
app.add_typer(seller_app, name="seller")
app.add_typer(payments_app, name="payments")
app.add_typer(dunning_app, name="dunning")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.command("cancel")(cancel)
accounts_app.command("billing")(accounts_billing)
app.command()(worker)
app.command()(bill)
app.command()(advice)


@app.command()
@domain_errors
def init() -> None:
    """Create or upgrade the database schema (ALLOT_DATABASE_URL)."""
    from allot.kit.migrate import upgrade

    with open_database() as db:
        if db.is_sqlite and db.url.database:
            Path(db.url.database).parent.mkdir(parents=True, exist_ok=True)
        upgrade(db)
        console.print(f"database ready: {db.url.render_as_string(hide_password=True)}")


@catalog_app.command("validate")
def catalog_validate(files: list[Path]) -> None:
    """Check catalog files; every problem is reported with file, line and field."""
    from allot.catalog.loader import load_catalog_with_extras

    bad = 0
    for path in files:
        try:
            loaded = load_catalog_with_extras(path)
        except InvalidInput as exc:
            bad += 1
            console.print(f"[red]{escape(str(exc))}[/]")
            continue
        console.print(f"{path}: ok — {len(loaded.catalog.plans)} plans")
    if bad:
        raise typer.Exit(1)


@catalog_app.command("load")
@domain_errors
def catalog_load(files: list[Path]) -> None:
    """Load catalog files; a plan whose terms changed becomes a new version."""
    from allot.catalog.loader import load_catalog_with_extras
    from allot.catalog.service import load_catalog

    with open_database() as db:
        for path in files:
            loaded = load_catalog_with_extras(path)
            with db.transaction() as conn:
                report = load_catalog(
                    conn,
                    clock(),
                    catalog=loaded.catalog,
                    details=loaded.extras.details(),
                    names=loaded.extras.names,
                )
            console.print(
                f"{report.catalog}: {len(report.added)} added, "
                f"{len(report.new_versions)} new versions {report.new_versions or ''}, "
                f"{len(report.unchanged)} unchanged"
            )


@catalog_app.command("show")
@domain_errors
def catalog_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show the newest version of every plan."""
    from rich.table import Table

    from allot.catalog import repository as catalog_repo

    with open_database() as db, db.read() as conn:
        plans = catalog_repo.latest_plans(conn)
    if as_json:
        rows = [
            {
                "id": pid,
                "code": p.code,
                "version": p.version,
                "name": p.name,
                "product_line": p.product_line,
                "currency": p.currency,
                "price": None if p.price is None else str(p.price),
                "interval": p.interval.value,
                "included": {m: r.included for m, r in p.rules.items()},
            }
            for pid, p, _ in plans
        ]
        console.print_json(json.dumps(rows))
        return
    table = Table(title="Catalog")
    for col in ("Plan", "Line", "Version", "Price", "Included per month", "Past the allowance"):
        table.add_column(col)
    for _pid, p, _details in plans:
        price = "by agreement" if p.price is None else f"{p.price} {p.currency}/{p.interval.value}"
        if p.per_quantity:
            price += " per location"
        table.add_row(
            f"{p.name} ({p.code})",
            p.product_line,
            str(p.version),
            price,
            ", ".join(f"{r.included} {m}" for m, r in p.rules.items()),
            ", ".join(
                f"{m}: {r.policy.value}"
                + (f" {r.overage_price}" if r.overage_price is not None else "")
                + (f" top-up {r.top_up_price}" if r.top_up_price is not None else "")
                for m, r in p.rules.items()
            ),
        )
    console.print(table)


@accounts_app.command("create")
@domain_errors
def accounts_create(
    account_id: str,
    name: Annotated[str, typer.Option(help="The business's name.")],
    timezone: Annotated[str, typer.Option(help="IANA zone, e.g. Europe/Kyiv.")],
    currency: Annotated[str, typer.Option(help="ISO 4217, e.g. EUR.")],
    locale: str = "en",
    channel: Annotated[str, typer.Option(help="card or external.")] = "card",
    tax_rate: Annotated[str, typer.Option(help="A fraction on every line: 0.2 = 20 %.")] = "0",
    referral: Annotated[
        str | None, typer.Option(help="The referral code the business signed up through.")
    ] = None,
) -> None:
    """Create an account (one business)."""
    from allot.account.service import create_account
    from allot.referral.service import attribute

    with open_database() as db, db.transaction() as conn:
        account = create_account(
            conn,
            clock(),
            account_id=account_id,
            name=name,
            timezone=timezone,
            currency=currency,
            locale=locale,
            billing_channel=channel,
            tax_rate=tax_rate,
        )
        if referral is not None:
            attribute(conn, clock(), account_id=account.id, code=referral)
    console.print(
        f"created account {account.id} ({account.name}, {account.timezone}, {account.currency})"
    )


@accounts_app.command("show")
@domain_errors
def accounts_show(account_id: str) -> None:
    """Show an account, its subscriptions and grants."""
    from allot.account.service import get_account
    from allot.grant import repository as grant_repo
    from allot.subscription import repository as subscription_repo

    with open_database() as db, db.read() as conn:
        account = get_account(conn, account_id)
        subs = subscription_repo.live(conn, account_id)
        grants = grant_repo.for_account(conn, account_id)
    console.print(
        f"[bold]{account.name}[/] ({account.id}) — {account.timezone}, "
        f"{account.currency}, {account.locale}, billed by {account.billing_channel}"
    )
    print_details(account.details)
    for s in subs:
        console.print(
            f"  subscription #{s.id}: {s.plan.name} v{s.plan.version} × {s.quantity}, "
            f"started {s.started_on}, {s.state}"
            + (
                f", × {s.pending_quantity} from {s.pending_quantity_on}"
                if s.pending_quantity is not None
                else ""
            )
        )
    for g in grants:
        allow = ", ".join(f"{q} {m}" for m, q in g.allowances.items())
        term = f"until {g.ends_at:%Y-%m-%d %H:%M}Z" if g.ends_at else "lifetime"
        console.print(
            f"  {g.label} (grant {g.id}) from {g.issuer}: {allow} per month, {term}"
            + (" [yellow]paused[/]" if g.paused else "")
        )


@app.command()
@domain_errors
def subscribe(
    account_id: str,
    plan: str,
    quantity: Annotated[int, typer.Option(help="Locations (per-location plans).")] = 1,
    start: Annotated[str | None, typer.Option(help="Contract date YYYY-MM-DD.")] = None,
) -> None:
    """Subscribe an account to the newest version of a plan."""
    from allot.subscription.service import subscribe as subscribe_account

    with open_database() as db, db.transaction() as conn:
        sub = subscribe_account(
            conn,
            clock(),
            account_id=account_id,
            plan_code=plan,
            quantity=quantity,
            started_on=_date(start, "start"),
        )
    console.print(
        f"{account_id} subscribed to {sub.plan.name} v{sub.plan.version} × "
        f"{sub.quantity} from {sub.started_on} (subscription #{sub.id})"
    )


@grants_app.command("give")
@domain_errors
def grants_give(
    account_id: str,
    allow: Annotated[list[str], typer.Option(help="metric=monthly quantity, repeatable.")],
    label: str | None = None,
    issuer: str = "operator",
    starts: Annotated[str | None, typer.Option(help="ISO 8601 instant.")] = None,
    ends: Annotated[str | None, typer.Option(help="ISO 8601 instant (fixed-term).")] = None,
) -> None:
    """Give an account a prepaid monthly allowance, drawn before its plan."""
    from allot.code.grants import grant as give_grant

    with open_database() as db, db.transaction() as conn:
        found = give_grant(
            conn,
            clock(),
            account_id=account_id,
            allowances=parse_allowances(allow),
            label=label,
            issuer=issuer,
            starts_at=_instant(starts, "starts"),
            ends_at=_instant(ends, "ends"),
        )
    console.print(f"{found.label} (grant {found.id}) given to {account_id}")


def _pause(grant_id: int, paused: bool) -> None:
    from allot.code.grants import set_paused

    with open_database() as db, db.transaction() as conn:
        found = set_paused(conn, clock(), grant_id=grant_id, paused=paused)
    console.print(f"{found.label} (grant {found.id}) {'paused' if paused else 'resumed'}")


@grants_app.command("pause")
@domain_errors
def grants_pause(grant_id: int) -> None:
    """Pause a grant: the waterfall skips it from now on."""
    _pause(grant_id, True)


@grants_app.command("resume")
@domain_errors
def grants_resume(grant_id: int) -> None:
    """Resume a paused grant."""
    _pause(grant_id, False)


@app.command()
@domain_errors
def consume(
    account_id: str,
    metric: str,
    quantity: int = typer.Argument(1),
    key: Annotated[str | None, typer.Option(help="Idempotency key (default: random).")] = None,
    at: Annotated[str | None, typer.Option(help="When it happened, ISO 8601.")] = None,
) -> None:
    """Record a billable action and show who paid for it."""
    from allot.config import Settings
    from allot.usage.service import consume as consume_units

    with open_database() as db, db.transaction() as conn:
        result = consume_units(
            conn,
            clock(),
            account_id=account_id,
            metric=metric,
            quantity=quantity,
            idempotency_key=key or new_token(),
            occurred_at=_instant(at, "at"),
            future_tolerance=Settings.from_env().future_tolerance,
        )
    render.print_result(result)


def _seat(account_id: str, holder: str, metric: str, key: str | None, take: bool) -> None:
    from allot.usage.service import release_seat, take_seat

    action = take_seat if take else release_seat
    with open_database() as db, db.transaction() as conn:
        result = action(
            conn,
            clock(),
            account_id=account_id,
            metric=metric,
            holder=holder,
            idempotency_key=key or new_token(),
        )
    render.print_result(result)


@seats_app.command("take")
@domain_errors
def seats_take(
    account_id: str, holder: str, metric: str = "staff_seats", key: str | None = None
) -> None:
    """Give a staff login a seat: codes first, then the plan, then an extra seat."""
    _seat(account_id, holder, metric, key, True)


@seats_app.command("release")
@domain_errors
def seats_release(
    account_id: str, holder: str, metric: str = "staff_seats", key: str | None = None
) -> None:
    """Free a staff login's seat at once."""
    _seat(account_id, holder, metric, key, False)


@app.command()
@domain_errors
def usage(
    account_id: str,
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")] = None,
) -> None:
    """The billing page's numbers: used / included, codes, seats, the split by source."""
    from allot.usage.summary import usage_summary

    with open_database() as db, db.read() as conn:
        summary = usage_summary(
            conn,
            clock(),
            account_id=account_id,
            month=None if month is None else Month.from_input(month),
        )
    render.print_summary(summary)


@app.command()
@domain_errors
def verify() -> None:
    """Prove that every counter equals the sum of its ledger entries, top-ups their charge,
    and every credit balance the sum of its moves."""
    from allot.invoice.balance import mismatches as balance_mismatches
    from allot.usage.verify import verify as verify_ledger

    with open_database() as db, db.read() as conn:
        report = verify_ledger(conn)
        balances = balance_mismatches(conn)
    for m in report.mismatches:
        console.print(
            f"[red]MISMATCH[/] {m.account_id} {m.metric} {m.period} {m.source}: {m.problem}"
        )
    for account_id, on_row, in_entries in balances:
        console.print(
            f"[red]MISMATCH[/] {account_id} credit balance: the account says {on_row}, "
            f"its moves sum to {in_entries} (minor units)"
        )
    if not report.ok or balances:
        raise fail(f"{len(report.mismatches) + len(balances)} mismatches", code=1)
    console.print(f"ok: {report.counters} counters equal the sums of {report.entries} entries")


@app.command()
@domain_errors
def demo() -> None:
    """A month of a coffee shop and an online store, printing who paid for each action."""
    from allot.cli.demo import run_demo

    with open_database() as db:
        run_demo(db)


keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
@domain_errors
def keys_create(
    role: Annotated[str, typer.Option(help="operator, partner or account.")],
    for_: Annotated[str | None, typer.Option("--for", help="The account or partner id.")] = None,
    label: str = "",
) -> None:
    """Create an API key; its secret is printed once and never stored."""
    from allot.billing.keys import issue_key

    with open_database() as db, db.transaction() as conn:
        row, secret = issue_key(conn, clock(), role=role, subject=for_, label=label)
    console.print(f"key {row.id} ({row.role}{' for ' + row.subject if row.subject else ''}):")
    console.print(secret, soft_wrap=True)


@keys_app.command("list")
@domain_errors
def keys_list() -> None:
    """List API keys (prefixes only)."""
    from allot.apikey.service import list_keys

    with open_database() as db, db.read() as conn:
        rows = list_keys(conn)
    for r in rows:
        state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
        console.print(
            f"{r.id:>4} {r.prefix}…  {r.role:<8} {r.subject or '-':<20} {state}  {escape(r.label)}"
        )


@keys_app.command("revoke")
@domain_errors
def keys_revoke(key_id: int) -> None:
    """Revoke an API key at once."""
    from allot.billing.keys import revoke

    with open_database() as db, db.transaction() as conn:
        row = revoke(conn, clock(), key_id=key_id)
    console.print(f"key {row.id} revoked")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Processes (PostgreSQL for more than 1).")] = 1,
) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    uvicorn.run("allot.asgi:app", host=host, port=port, workers=workers, log_level="info")
