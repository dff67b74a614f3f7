"""`allot seller …` and `allot accounts billing`: who bills, and the details a business is
billed under (A1, B8). Both take the same options: one set of billing details."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, open_database

seller_app = typer.Typer(
    help="The operator's identity on every invoice and credit note.", no_args_is_help=True
)

LegalName = Annotated[str | None, typer.Option(help="As printed at the head of the party.")]
Email = Annotated[str | None, typer.Option(help="Billing e-mail (notices go there).")]
TaxId = Annotated[str | None, typer.Option(help="VAT or tax number, as printed.")]
Line1 = Annotated[str | None, typer.Option(help="Street and number.")]
Line2 = Annotated[str | None, typer.Option(help="Second address line.")]
City = Annotated[str | None, typer.Option()]
Region = Annotated[str | None, typer.Option(help="State, province or county.")]
PostalCode = Annotated[str | None, typer.Option()]
Country = Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2, e.g. UA.")]


def details_from(
    legal_name: str | None, email: str | None, tax_id: str | None, **address: str | None
) -> dict[str, Any]:
    """The options as the details the services check (an address only if any part is given)."""
    raw: dict[str, Any] = {
        k: v for k, v in (("legal_name", legal_name), ("email", email), ("tax_id", tax_id)) if v
    }
    given = {k: v for k, v in address.items() if v is not None}
    if given:
        raw["address"] = given
    return raw


def print_details(details: Any) -> None:
    """`BillingDetails` as lines (imported lazily by the caller, so typed loosely here)."""
    if details.legal_name:
        console.print(f"  legal name: {escape(details.legal_name)}")
    if details.email:
        console.print(f"  e-mail: {escape(details.email)}")
    if details.tax_id:
        console.print(f"  tax id: {escape(details.tax_id)}")
    if details.address is not None:
        console.print("  address: " + escape(", ".join(details.address.lines())))


@seller_app.command("set")
@domain_errors
def seller_set(
    legal_name: LegalName = None,
    email: Email = None,
    tax_id: TaxId = None,
    line1: Line1 = None,
    line2: Line2 = None,
    city: City = None,
    region: Region = None,
    postal_code: PostalCode = None,
    country: Country = None,
) -> None:
    """Set the seller (legal name and address required); documents issued later carry it."""
    from allot.invoice.parties import set_seller

    with open_database() as db, db.transaction() as conn:
        details = set_seller(
            conn,
            clock(),
            details_from(
                legal_name,
                email,
                tax_id,
                line1=line1,
                line2=line2,
                city=city,
                region=region,
                postal_code=postal_code,
                country=country,
            ),
        )
    console.print("seller set: every document issued from now on carries it")
    print_details(details)


@seller_app.command("show")
@domain_errors
def seller_show() -> None:
    """The seller documents are issued under now."""
    from allot.invoice.parties import seller_details

    with open_database() as db, db.read() as conn:
        details = seller_details(conn)
    if details is None:
        console.print('no seller set: documents name the seller "allot" (see `allot seller set`)')
        return
    print_details(details)


@domain_errors
def accounts_billing(
    account_id: str,
    legal_name: LegalName = None,
    email: Email = None,
    tax_id: TaxId = None,
    line1: Line1 = None,
    line2: Line2 = None,
    city: City = None,
    region: Region = None,
    postal_code: PostalCode = None,
    country: Country = None,
) -> None:
    """Replace an account's billing details (A1); issued invoices keep the old ones (B8)."""
    from allot.account.service import update_account

    raw = details_from(
        legal_name,
        email,
        tax_id,
        line1=line1,
        line2=line2,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
    )
    with open_database() as db, db.transaction() as conn:
        account = update_account(conn, clock(), account_id=account_id, billing_details=raw)
    console.print(f"billing details of {account.id}:" + ("" if raw else " none"))
    print_details(account.details)
