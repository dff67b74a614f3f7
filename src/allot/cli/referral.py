"""`allot referral enable|disable|show`: the referral program of an account (A4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, open_database
from allot.core.money import Money

if TYPE_CHECKING:
    from allot.referral.service import ReferralPage

referral_app = typer.Typer(
    help="Switch an account's referral link on or off and see its rewards.", no_args_is_help=True
)


def _show(page: ReferralPage, currency: str) -> None:
    from rich.table import Table

    def money(minor: int) -> str:
        return f"{Money.from_minor(minor, currency).amount} {currency}"

    state = "on" if page.program.enabled else "off"
    console.print(f"referral for {page.program.account_id}: {state}, code {page.code}")
    console.print(f"link: {escape(page.link)}")
    table = Table("referred", "signed up", "state", "reward", "credited")
    for r in page.referred:
        table.add_row(
            f"{escape(r.referred_name)} ({r.referred_account_id})",
            f"{r.attributed_at:%Y-%m-%d}",
            "signed up" if r.earned_at is None else f"rewarded {r.earned_at:%Y-%m-%d}",
            "—" if r.reward_minor is None else money(r.reward_minor),
            money(r.applied_minor),
        )
    console.print(table)
    console.print(
        f"earned {money(page.earned_minor)}, credited {money(page.applied_minor)}, "
        f"to credit on the next invoice {money(page.balance_minor)}"
    )


def _page_of(account_id: str, enabled: bool | None) -> None:
    from allot.account.service import get_account
    from allot.config import Settings
    from allot.referral.service import disable_referral, enable_referral, referral_page

    link = Settings.from_env().referral_link
    with open_database() as db, db.transaction() as conn:
        if enabled is True:
            enable_referral(conn, clock(), account_id=account_id)
        elif enabled is False:
            disable_referral(conn, clock(), account_id=account_id)
        page = referral_page(conn, account_id=account_id, link_template=link)
        currency = get_account(conn, account_id).currency
    _show(page, currency)


@referral_app.command("enable")
@domain_errors
def referral_enable(account_id: str) -> None:
    """Switch referral on: the account gets its personal referral link."""
    _page_of(account_id, True)


@referral_app.command("disable")
@domain_errors
def referral_disable(account_id: str) -> None:
    """Switch referral off: no new sign-ups are attributed; earned rewards are still credited."""
    _page_of(account_id, False)


@referral_app.command("show")
@domain_errors
def referral_show(account_id: str) -> None:
    """The link, the businesses that signed up through it and the rewards."""
    _page_of(account_id, None)
