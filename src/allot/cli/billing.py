"""`allot clock`, `allot bill`, `allot invoices`, `allot plans`, `allot advice`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, fail, open_database
from allot.cli.parse import instant as _instant
from allot.core.errors import InvalidInput, NotFound
from allot.core.money import Money
from allot.core.periods import Month, zone
from allot.kit.i18n import Language

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from allot.billing.changes import ChangePreview, QuantityPreview
    from allot.invoice.repository import InvoiceRow

clock_app = typer.Typer(
    help="Show or move this database's clock (simulation mode).", no_args_is_help=True
)
invoices_app = typer.Typer(help="List, show, export, settle and correct invoices.")
plans_app = typer.Typer(
    help="Change an account's plan or quantity (EDIT TARIFF PLAN).", no_args_is_help=True
)

# --- clock -----------------------------------------------------------------------


def _show_clock(conn: Connection) -> None:
    from allot.kit import simclock

    stored = simclock.stored(conn)
    if stored is None:
        console.print(f"real time: {clock().now().isoformat()}")
    else:
        console.print(f"simulated: {stored.isoformat()}")


@clock_app.command("show")
@domain_errors
def clock_show() -> None:
    """The time every command on this database reads."""
    with open_database() as db, db.read() as conn:
        _show_clock(conn)


@clock_app.command("set")
@domain_errors
def clock_set(when: Annotated[str, typer.Argument(help="ISO 8601 with an offset.")]) -> None:
    """Freeze this database's clock at WHEN (it moves only when told to)."""
    from allot.invoice.simulation import set_clock

    at = _instant(when, field="when")
    with open_database() as db, db.transaction() as conn:
        set_clock(conn, clock(), at=at)
        _show_clock(conn)


@clock_app.command("advance")
@domain_errors
def clock_advance(
    months: Annotated[int, typer.Option(min=0, max=1200)] = 0,
    days: Annotated[int, typer.Option(min=0, max=100_000)] = 0,
    hours: Annotated[int, typer.Option(min=0, max=1_000_000)] = 0,
) -> None:
    """Move the clock forward (from real time if none was set yet)."""
    from allot.invoice.simulation import advance_clock

    with open_database() as db, db.transaction() as conn:
        advance_clock(conn, clock(), months=months, days=days, hours=hours)
        _show_clock(conn)


@clock_app.command("reset")
@domain_errors
def clock_reset() -> None:
    """Back to real time."""
    from allot.invoice.simulation import set_clock

    with open_database() as db, db.transaction() as conn:
        set_clock(conn, clock(), at=None)
        _show_clock(conn)


# --- the invoice run ----------------------------------------------------------------


@domain_errors
def bill(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Accounts per query.")] = 500,
) -> None:
    """Issue every invoice due as of the clock, exactly once (safe to repeat or resume)."""
    from rich.progress import Progress

    from allot.invoice.run import run as run_billing

    with open_database() as db:
        now = clock()
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("billing accounts", total=None)
            report = run_billing(db, now, batch=batch, progress=lambda n: progress.advance(task, n))
    kinds = ", ".join(
        f"{report.count(k)} {k}" for k in ("subscription", "usage", "partner") if report.count(k)
    )
    console.print(
        f"{len(report.invoices)} invoices issued for {report.accounts} accounts"
        + (f" ({kinds})" if kinds else "")
        + f", as of {now.now().isoformat()}"
    )


# --- invoices -------------------------------------------------------------------------


def _find(conn: Connection, ref: str) -> InvoiceRow:
    from allot.invoice import repository as invoice_repo

    found = invoice_repo.get_by_number(conn, ref)
    if found is None and ref.isdigit():
        found = invoice_repo.get(conn, int(ref))
    if found is None:
        raise NotFound("invoice_not_found", f"no invoice {ref!r}", field="invoice")
    return found


def _money(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency))


@invoices_app.command("list")
@domain_errors
def invoices_list(
    account: Annotated[str | None, typer.Option(help="Only this account's.")] = None,
    partner: Annotated[str | None, typer.Option(help="Only this partner's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Newest first."""
    from rich.table import Table

    from allot.invoice import repository as invoice_repo

    with open_database() as db, db.read() as conn:
        rows = invoice_repo.listing(conn, account_id=account, partner_id=partner, limit=limit)
    table = Table("number", "issued", "payer", "kind", "period", "state", "total")
    for r in rows:
        period = f"{r.period_start} – {r.period_end}" if r.period_start else ""
        table.add_row(
            r.number or "draft",
            str(r.issued_on),
            escape(r.payer),
            r.kind,
            period,
            r.state,
            _money(r.total_minor, r.currency),
        )
    console.print(table)


@invoices_app.command("show")
@domain_errors
def invoices_show(
    ref: Annotated[str, typer.Argument(help="Number (INV-2026-000001) or id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    from rich.table import Table

    from allot.invoice import repository as invoice_repo
    from allot.invoice import service as invoices
    from allot.invoice.pdf import format_rate

    with open_database() as db, db.read() as conn:
        inv = _find(conn, ref)
        notes = invoice_repo.credit_notes_of(conn, inv.id)
    if as_json:
        typer.echo(invoices.dumps(invoices.to_json(inv, notes)))
        return
    console.print(
        f"[bold]{inv.number or 'DRAFT'}[/] {inv.kind} for {escape(inv.payer)}, "
        f"issued {inv.issued_on}, {inv.state}"
    )
    table = Table("#", "description", "qty", "unit price", "amount")
    for i, f in enumerate(inv.lines):
        table.add_row(
            str(i),
            escape(f.charge.description),
            str(f.charge.quantity),
            str(f.charge.unit_price),
            _money(f.amount_minor, inv.currency),
        )
    console.print(table)
    console.print(f"subtotal {_money(inv.subtotal_minor, inv.currency)}")
    for t in inv.taxes:
        console.print(
            f"tax {format_rate(t.rate)} on {_money(t.base_minor, inv.currency)}: "
            f"{_money(t.tax_minor, inv.currency)}"
        )
    console.print(f"[bold]total {_money(inv.total_minor, inv.currency)}[/]")
    for note in inv.notes:
        console.print(f"note: {escape(note)}")
    for n in notes:
        console.print(
            f"credit note {n.number} ({n.issued_on}): -{_money(n.total_minor, inv.currency)} "
            f"{escape(n.reason)}"
        )


@invoices_app.command("pdf")
@domain_errors
def invoices_pdf(
    ref: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the PDF.")],
    lang: Annotated[
        Language | None,
        typer.Option("--lang", help="en, ko, th, hi or uk; by default the document's own."),
    ] = None,
) -> None:
    """Write an invoice (or a credit note, by its CN- number) as a PDF, in the language it was
    issued in (its account's then) unless --lang asks for another."""
    from allot.invoice import repository as invoice_repo
    from allot.invoice import service as invoices
    from allot.invoice.pdf import render_pdf

    with open_database() as db, db.read() as conn:
        note = invoice_repo.credit_note_by_number(conn, ref)
        if note is not None:
            inv = invoices.get_invoice(conn, note.invoice_id)
            doc = invoices.credit_note_document(inv, note, locale=lang)
        else:
            inv = _find(conn, ref)
            doc = invoices.document(inv, locale=lang)
    output.write_bytes(render_pdf(doc))
    console.print(f"wrote {output}")


@invoices_app.command("csv")
@domain_errors
def invoices_csv(
    output: Annotated[Path, typer.Option("--output", "-o")],
    account: Annotated[str | None, typer.Option()] = None,
    partner: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Every line of every (or one payer's) invoice, one row each."""
    from allot.invoice import repository as invoice_repo
    from allot.invoice import service as invoices

    with open_database() as db, db.read() as conn:
        rows = invoice_repo.listing(conn, account_id=account, partner_id=partner, limit=100_000)
        full = [invoices.get_invoice(conn, r.id) for r in reversed(rows)]
    output.write_text(invoices.to_csv(full))
    console.print(f"wrote {len(full)} invoices to {output}")


def _settle(ref: str, action: str, note: str) -> None:
    from allot.invoice import service as invoices

    with open_database() as db, db.transaction() as conn:
        inv = _find(conn, ref)
        now = clock()
        if action == "paid":
            done = invoices.mark_paid(conn, now, invoice_id=inv.id, note=note)
        elif action == "void":
            done = invoices.void(conn, now, invoice_id=inv.id, reason=note)
        else:
            done = invoices.mark_uncollectible(conn, now, invoice_id=inv.id, reason=note)
    console.print(f"{done.number}: {done.state}")


@invoices_app.command("pay")
@domain_errors
def invoices_pay(
    ref: str, note: Annotated[str, typer.Option()] = "marked paid by the operator"
) -> None:
    """Record a payment received outside allot."""
    _settle(ref, "paid", note)


@invoices_app.command("void")
@domain_errors
def invoices_void(ref: str, reason: Annotated[str, typer.Option()]) -> None:
    """Void an unpaid invoice (its number stays used)."""
    _settle(ref, "void", reason)


@invoices_app.command("uncollectible")
@domain_errors
def invoices_uncollectible(ref: str, reason: Annotated[str, typer.Option()]) -> None:
    _settle(ref, "uncollectible", reason)


@invoices_app.command("credit")
@domain_errors
def invoices_credit(
    ref: str,
    reason: Annotated[str, typer.Option()],
    line: Annotated[
        list[str] | None,
        typer.Option(
            help="POSITION=AMOUNT to take back part of a line; repeatable. "
            "Without it, the whole invoice."
        ),
    ] = None,
    refund: Annotated[
        bool,
        typer.Option(
            "--refund",
            help="Refund what it gives back of money paid to the card that paid the invoice; "
            "without it, that part is kept as the account's credit for its next invoices.",
        ),
    ] = False,
) -> None:
    """Issue a credit note against a finalized invoice."""
    from allot.account.service import get_account
    from allot.billing import refunds
    from allot.cli.payments import collector

    amounts: dict[int, Decimal | str] | None = None
    if line:
        amounts = {}
        for item in line:
            pos, sep, amount = item.partition("=")
            if not sep or not pos.strip().isdigit():
                raise InvalidInput("invalid_line", f"{item!r} is not POSITION=AMOUNT", field="line")
            amounts[int(pos)] = amount.strip()
    with open_database() as db:
        with db.transaction() as conn:
            inv = _find(conn, ref)
            now = clock()
            account_tz = get_account(conn, inv.account_id).timezone if inv.account_id else "UTC"
            note = refunds.credit_note(
                conn,
                now,
                invoice_id=inv.id,
                reason=reason,
                amounts=amounts,
                issued_on=now.now().astimezone(zone(account_tz)).date(),
                settle="refund" if refund else None,
            )
        console.print(
            f"{note.number}: -{_money(note.total_minor, inv.currency)} against {inv.number}"
        )
        if note.settled_as == "refund":
            done = refunds.refund_note(collector(db), number=note.number)
            console.print(
                f"refund to the card: {_money(done.amount_minor, inv.currency)} {done.state}"
            )
        elif note.settled_as == "balance":
            console.print(
                f"kept as credit for the next invoices: {_money(note.settled_minor, inv.currency)}"
            )


# --- plans and advice -----------------------------------------------------------------


def _print_preview(p: ChangePreview) -> None:
    when = "now" if p.immediate else f"at the renewal on {p.effective_on}"
    console.print(f"{p.direction}: {p.from_plan} → {p.to_plan}, {when}")
    if p.period is not None:
        console.print(
            f"prorated charge: {p.charge_rounded} "
            f"({p.days_left} of {p.days_in_period} days left in {p.period[0]} – {p.period[1]})"
        )
    if p.waived_months:
        console.print(f"overage waived for: {', '.join(p.waived_months)}")


@plans_app.command("change")
@domain_errors
def plans_change(
    account_id: str,
    plan: str,
    preview: Annotated[bool, typer.Option("--preview", help="Show the charge only.")] = False,
    subscription: Annotated[int | None, typer.Option(help="Default: the only one.")] = None,
) -> None:
    """Upgrade now (prorated) or downgrade at the renewal."""
    from allot.billing.changes import change_plan, preview_change

    with open_database() as db, db.transaction() as conn:
        subscription = _only_subscription(conn, account_id, subscription)
        now = clock()
        if preview:
            _print_preview(
                preview_change(
                    conn, now, account_id=account_id, subscription_id=subscription, plan_code=plan
                )
            )
            return
        done, invoice = change_plan(
            conn, now, account_id=account_id, subscription_id=subscription, plan_code=plan
        )
    _print_preview(done)
    if invoice is not None:
        console.print(f"invoice {invoice.number}: {_money(invoice.total_minor, invoice.currency)}")


def _only_subscription(conn: Connection, account_id: str, subscription: int | None) -> int:
    from allot.subscription import repository as subscription_repo

    if subscription is not None:
        return subscription
    subs = subscription_repo.live(conn, account_id)
    if len(subs) != 1:
        raise fail(f"{account_id} has {len(subs)} subscriptions: pass --subscription")
    return subs[0].id


def _print_quantity_preview(p: QuantityPreview) -> None:
    if not p.changes:
        console.print(f"no change: {p.plan} × {p.from_quantity}", end="")
        console.print(
            f", {p.pending_quantity} from {p.pending_on}" if p.pending_quantity is not None else ""
        )
        return
    if p.direction == "increase":
        console.print(f"increase: {p.plan} × {p.from_quantity} → {p.to_quantity}, now")
    elif p.direction == "decrease":
        console.print(
            f"decrease: {p.plan} × {p.from_quantity} → {p.to_quantity}, "
            f"at the renewal on {p.effective_on}"
        )
    else:
        console.print(f"keep: {p.plan} × {p.from_quantity}")
    if p.replaced_pending is not None:
        console.print(f"replaces the decrease to {p.replaced_pending} scheduled for the renewal")
    if p.period is not None:
        console.print(
            f"prorated charge: {p.charge_rounded} "
            f"({p.days_left} of {p.days_in_period} days left in {p.period[0]} – {p.period[1]})"
        )


@plans_app.command("quantity")
@domain_errors
def plans_quantity(
    account_id: str,
    quantity: int,
    preview: Annotated[bool, typer.Option("--preview", help="Show the charge only.")] = False,
    subscription: Annotated[int | None, typer.Option(help="Default: the only one.")] = None,
) -> None:
    """Locations: an increase now (prorated), a decrease at the renewal."""
    from allot.billing.changes import change_quantity, preview_quantity_change

    with open_database() as db, db.transaction() as conn:
        subscription = _only_subscription(conn, account_id, subscription)
        now = clock()
        if preview:
            _print_quantity_preview(
                preview_quantity_change(
                    conn,
                    now,
                    account_id=account_id,
                    subscription_id=subscription,
                    quantity=quantity,
                )
            )
            return
        done, invoice = change_quantity(
            conn, now, account_id=account_id, subscription_id=subscription, quantity=quantity
        )
    _print_quantity_preview(done)
    if invoice is not None:
        console.print(f"invoice {invoice.number}: {_money(invoice.total_minor, invoice.currency)}")


@domain_errors
def advice(
    account_id: str,
    month: Annotated[str | None, typer.Option(help="YYYY-MM; default this month and last.")] = None,
) -> None:
    """Upgrade advice: the cost of staying against each plan above (V1)."""
    from rich.table import Table

    from allot.billing.advice import upgrade_advice

    with open_database() as db, db.read() as conn:
        found = upgrade_advice(
            conn, clock(), account_id=account_id, month=Month.from_input(month) if month else None
        )
    for item in found:
        a = item.advice
        title = f"{item.month}{' (to date)' if item.to_date else ''}: {a.units:,} {a.metric}"
        table = Table("plan", "price", "over", "charge past it", "cost", title=title)
        for o in a.options:
            table.add_row(
                ("→ " if o is a.cheapest else "") + o.plan_name,
                str(o.plan_cost.rounded()) if o.plan_cost else "by agreement",
                str(o.units_over),
                str(o.over_charge.rounded()),
                str(o.cost.rounded()) if o.cost else "—",
            )
        console.print(table)
        console.print(escape(a.message))
