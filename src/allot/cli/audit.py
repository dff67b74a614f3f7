"""`allot audit`: the audit log, searched, or exported as CSV (S1)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from allot.cli.context import console, domain_errors, open_database
from allot.cli.parse import instant

audit_app = typer.Typer(help="The audit log: every change, by whom, before and after.")


@audit_app.callback(invoke_without_command=True)
@domain_errors
def audit_list(
    change: Annotated[str | None, typer.Option(help="`code.paused`, or a family: `code.`.")] = None,
    account: Annotated[str | None, typer.Option(help="Changes to this account's data.")] = None,
    partner: Annotated[str | None, typer.Option(help="Changes to this partner's data.")] = None,
    actor: Annotated[str | None, typer.Option(help="By this actor id (key, user, …).")] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 instant with an offset.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 instant with an offset.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    csv: Annotated[
        Path | None, typer.Option(help="Write every match (up to --limit) to this CSV file.")
    ] = None,
) -> None:
    """The newest changes first: when, who, what, on what."""
    from allot.audit.service import Search, search, to_csv

    query = Search(
        actor_id=actor,
        change=change,
        account_id=account,
        partner_id=partner,
        since=instant(since, field="since"),
        until=instant(until, field="until"),
        limit=limit,
    )
    with open_database() as db, db.read() as conn:
        found = search(conn, query)
    if csv is not None:
        csv.write_text(to_csv(found), encoding="utf-8")
        console.print(f"{len(found)} events written to {escape(str(csv))}")
        return
    for e in found:
        who = f"{e.actor_kind}:{e.actor_id}" + (f" for {e.acting_for}" if e.acting_for else "")
        console.print(
            f"{e.id:>6} {e.at:%Y-%m-%d %H:%M:%S} {escape(who):<28} {e.change:<28} "
            f"{e.subject_kind} {escape(e.subject_id)}"
        )
    if not found:
        console.print("no changes recorded")
