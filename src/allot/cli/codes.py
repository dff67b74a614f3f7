"""`allot partners …` and `allot codes …`: the partner program from the command line."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, open_database
from allot.cli.parse import allowances, instant, pairs
from allot.core.codes import display
from allot.core.periods import Month
from allot.kit.i18n import Language

if TYPE_CHECKING:
    from allot.grant.repository import GrantRow
    from allot.notify.repository import EmailRow

partners_app = typer.Typer(help="Enrol and list partners.", no_args_is_help=True)
codes_app = typer.Typer(help="Issue and manage Access Codes.", no_args_is_help=True)


def _show(code: GrantRow) -> None:
    state = (
        "revoked"
        if code.revoked_at
        else ("paused" if code.paused else ("claimed" if code.account_id else "issued"))
    )
    package = ", ".join(f"{q} {m}" for m, q in code.allowances.items())
    term = f", until {code.ends_at:%Y-%m-%d %H:%M}Z" if code.ends_at else ""
    owner = f" by {code.account_id}" if code.account_id else ""
    console.print(
        f"{escape(code.label)}  {display(code.code or '')}  {state}{owner}  "
        f"[{escape(package)}]{term}"
    )


@partners_app.command("enroll")
@domain_errors
def partners_enroll(
    partner_id: str,
    name: Annotated[str, typer.Option()],
    kind: Annotated[
        str, typer.Option(help="agency, consultant, pos_vendor, restaurant_consultant")
    ],
    contact: Annotated[str, typer.Option()],
    currency: Annotated[str, typer.Option()],
    discount: Annotated[str, typer.Option(help="Wholesale discount, 0.30 = 30 %.")] = "0",
    price: Annotated[
        list[str] | None, typer.Option(help="metric=price per month, repeatable.")
    ] = None,
) -> None:
    """Enrol a partner with its wholesale terms."""
    from allot.partner.service import enroll_partner

    prices = {m: Decimal(v) for m, v in pairs(price or [], "price").items()}
    with open_database() as db, db.transaction() as conn:
        row = enroll_partner(
            conn,
            clock(),
            partner_id=partner_id,
            name=name,
            kind=kind,
            contact=contact,
            currency=currency,
            wholesale_discount=discount,
            prices=prices,
        )
    console.print(f"enrolled partner {row.id} ({escape(row.name)}, {row.kind})")


@partners_app.command("list")
@domain_errors
def partners_list() -> None:
    from allot.partner.service import list_partners

    with open_database() as db, db.read() as conn:
        for p in list_partners(conn):
            console.print(
                f"{p.id:<20} {escape(p.name):<30} {p.kind:<22} discount {p.wholesale_discount}"
            )


@codes_app.command("issue")
@domain_errors
def codes_issue(
    partner_id: str,
    allow: Annotated[list[str], typer.Option(help="metric=monthly quantity, repeatable.")],
    ends: Annotated[str | None, typer.Option(help="Fixed-term end, ISO 8601.")] = None,
) -> None:
    """Issue `Code #N` with a package; prints the code to hand out."""
    from allot.code.service import issue_code

    with open_database() as db, db.transaction() as conn:
        code = issue_code(
            conn,
            clock(),
            partner_id=partner_id,
            allowances=allowances(allow),
            ends_at=instant(ends, "ends"),
        )
    _show(code)


@codes_app.command("list")
@domain_errors
def codes_list(partner_id: str) -> None:
    from allot.code.service import list_codes

    with open_database() as db, db.read() as conn:
        for code in list_codes(conn, partner_id):
            _show(code)


@codes_app.command("show")
@domain_errors
def codes_show(partner_id: str, number: int) -> None:
    """The code, and the activation e-mails sent for it."""
    from allot.code.mail import code_emails
    from allot.code.service import partner_code

    with open_database() as db, db.read() as conn:
        _show(partner_code(conn, partner_id, number))
        for e in code_emails(conn, partner_id=partner_id, number=number):
            _show_email(e)


def _show_email(e: EmailRow) -> None:
    when = f" {e.sent_at:%Y-%m-%d %H:%M}Z" if e.sent_at else ""
    error = f" — {escape(e.last_error)}" if e.last_error and e.state != "sent" else ""
    console.print(f"  e-mail #{e.id} to {escape(e.to_address)}: {e.state}{when}{error}")


@codes_app.command("email")
@domain_errors
def codes_email(
    partner_id: str,
    number: int,
    to: Annotated[str, typer.Option(help="The business's e-mail address.")],
    note: Annotated[str | None, typer.Option(help="A line from the partner.")] = None,
    lang: Annotated[
        Language,
        typer.Option("--lang", help="The language the business reads: en, ko, th, hi, uk."),
    ] = "en",
) -> None:
    """E-mail the code's activation link to a business (sent by `allot worker`)."""
    from allot.code.mail import check_template, email_activation_link, require_email
    from allot.config import Settings

    settings = Settings.from_env()
    require_email(settings.smtp() is not None)
    with open_database() as db, db.transaction() as conn:
        queued = email_activation_link(
            conn,
            clock(),
            partner_id=partner_id,
            number=number,
            to=to,
            note=note,
            lang=lang,
            link_template=check_template(settings.activation_link),
        )
    console.print(
        f"e-mail #{queued.id} to {escape(queued.to_address)} queued; `allot worker` sends it"
    )


def _pause(partner_id: str, number: int, paused: bool) -> None:
    from allot.code.service import pause_code

    with open_database() as db, db.transaction() as conn:
        _show(pause_code(conn, clock(), partner_id=partner_id, number=number, paused=paused))


@codes_app.command("pause")
@domain_errors
def codes_pause(partner_id: str, number: int) -> None:
    """Skip the code in the waterfall from now on."""
    _pause(partner_id, number, True)


@codes_app.command("resume")
@domain_errors
def codes_resume(partner_id: str, number: int) -> None:
    _pause(partner_id, number, False)


@codes_app.command("revoke")
@domain_errors
def codes_revoke(partner_id: str, number: int) -> None:
    """Revoke a code its business never used."""
    from allot.code.service import revoke_code

    with open_database() as db, db.transaction() as conn:
        _show(revoke_code(conn, clock(), partner_id=partner_id, number=number))


@codes_app.command("assign")
@domain_errors
def codes_assign(partner_id: str, number: int, account_id: str) -> None:
    """Give an unclaimed code to a business."""
    from allot.code.service import assign_code

    with open_database() as db, db.transaction() as conn:
        _show(
            assign_code(conn, clock(), partner_id=partner_id, number=number, account_id=account_id)
        )


@codes_app.command("claim")
@domain_errors
def codes_claim(account_id: str, code: str) -> None:
    """Activate a code for a business, as typed on its billing page."""
    from allot.code.service import claim_code

    with open_database() as db, db.transaction() as conn:
        claimed = claim_code(conn, clock(), account_id=account_id, code=code)
    console.print(f"{escape(claimed.label)} claimed by {account_id}")


@partners_app.command("inventory")
@domain_errors
def partners_inventory(
    partner_id: str,
    add: Annotated[
        list[str] | None,
        typer.Option("--add", help="Repeatable: staff_seats=100 (negative gives units back)."),
    ] = None,
    note: str = "",
) -> None:
    """A3: what the partner bought for its codes, what they hold, what is left; --add tops
    it up (codes past it are refused)."""
    from allot.partner.inventory import stock, top_up

    with open_database() as db, db.transaction() as conn:
        if add:
            quantities = {m: _signed(q, "add") for m, q in pairs(add, "add").items()}
            rows = top_up(conn, clock(), partner_id=partner_id, quantities=quantities, note=note)
        else:
            rows = stock(conn, clock(), partner_id=partner_id)
    for s in rows:
        console.print(
            f"{s.metric:<24} bought {s.bought:>10,}  held {s.held:>10,}  left {s.left:>10,}"
        )
    if not rows:
        console.print("no inventory: its codes are issued without a cap")


def _signed(text: str, field: str) -> int:
    from allot.core.errors import InvalidInput

    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit() or len(digits) > 10:
        raise InvalidInput("invalid_quantity", f"{text!r} is not a whole number", field=field)
    return int(text)


@partners_app.command("report")
@domain_errors
def partners_report(
    partner_id: str,
    month: Annotated[str, typer.Option(help="YYYY-MM (UTC).")],
    store: Annotated[bool, typer.Option(help="Keep the charges for invoicing.")] = False,
) -> None:
    """Per code and client: used / available, and what the partner owes at wholesale."""
    from allot.partner.reporting import partner_month

    with open_database() as db, db.transaction() as conn:
        report = partner_month(
            conn, clock(), partner_id=partner_id, month=Month.from_input(month), store=store
        )
    for code in report.codes:
        owner = code.account_id or "unclaimed"
        used = ", ".join(f"{r.metric} {r.used} / {r.available}" for r in code.resources)
        charge = sum(r.amount for r in code.resources)
        console.print(
            f"{escape(code.label):<10} {owner:<20} {used}  "
            f"{'billed ' + str(charge) if code.billed else 'not billed'}"
        )
    console.print(
        f"total for {report.month}: {report.total_rounded} "
        f"(exact {report.total.amount}, discount {report.discount})"
        + (" — stored" if store else "")
    )
