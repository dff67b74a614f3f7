"""`allot webhooks …`: endpoints, the delivery log, redelivery (`allot worker` sends)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, open_database
from allot.webhook.events import EVENT_TYPES

webhooks_app = typer.Typer(
    help="Webhook endpoints, the delivery log and redelivery.", no_args_is_help=True
)


@webhooks_app.command("add")
@domain_errors
def webhooks_add(
    url: str,
    event: Annotated[
        list[str], typer.Option("--event", help=f"Repeatable: {', '.join(EVENT_TYPES)}.")
    ],
    secret: Annotated[
        str | None, typer.Option(help="A whsec_… secret (default: a new random one).")
    ] = None,
    description: str = "",
) -> None:
    """Register an endpoint; its signing secret is printed once."""
    from allot.webhook.service import create_endpoint

    with open_database() as db, db.transaction() as conn:
        row = create_endpoint(
            conn, clock(), url=url, event_types=event, secret=secret, description=description
        )
    console.print(f"endpoint {row.id}: {escape(row.url)} ← {', '.join(row.event_types)}")
    if secret is None:
        console.print("signing secret (shown once):")
        console.print(row.secret, soft_wrap=True)


@webhooks_app.command("list")
@domain_errors
def webhooks_list(
    all_: Annotated[bool, typer.Option("--all", help="Include removed endpoints.")] = False,
) -> None:
    """Registered endpoints."""
    from rich.table import Table

    from allot.webhook.service import list_endpoints

    with open_database() as db, db.read() as conn:
        rows = list_endpoints(conn, include_disabled=all_)
    table = Table(title="Webhook endpoints")
    for column in ("ID", "URL", "Events", "Description", "Created"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.id) + (" (removed)" if r.disabled else ""),
            escape(r.url),
            "\n".join(r.event_types),
            escape(r.description),
            f"{r.created_at:%Y-%m-%d %H:%M}Z",
        )
    console.print(table)


@webhooks_app.command("remove")
@domain_errors
def webhooks_remove(endpoint_id: int) -> None:
    """Stop sending to an endpoint; its pending deliveries are marked failed."""
    from allot.webhook.service import remove_endpoint

    with open_database() as db, db.transaction() as conn:
        row = remove_endpoint(conn, clock(), endpoint_id=endpoint_id)
    console.print(f"endpoint {row.id} removed ({escape(row.url)})")


@webhooks_app.command("deliveries")
@domain_errors
def webhooks_deliveries(
    endpoint: Annotated[int | None, typer.Option(help="Only this endpoint's.")] = None,
    state: Annotated[str | None, typer.Option(help="pending, delivered or failed.")] = None,
    limit: int = 50,
    attempts: Annotated[bool, typer.Option("--attempts", help="Show every attempt.")] = False,
) -> None:
    """The delivery log, newest first."""
    from rich.table import Table

    from allot.webhook.service import delivery_attempts, list_deliveries

    with open_database() as db, db.read() as conn:
        rows = list_deliveries(conn, endpoint_id=endpoint, state=state, limit=limit)
        logs = {r.id: delivery_attempts(conn, r.id) for r in rows} if attempts else {}
    table = Table(title="Webhook deliveries")
    for column in ("ID", "Event", "Endpoint", "State", "Tries", "Last", "Next / delivered"):
        table.add_column(column)
    for r in rows:
        when = r.delivered_at or r.next_attempt_at
        table.add_row(
            str(r.id),
            f"{r.event_id} {r.event_type}",
            str(r.endpoint_id),
            r.state,
            str(r.attempts),
            escape(
                " ".join(p for p in (str(r.last_status_code or ""), r.last_error or "") if p)[:80]
            ),
            "" if when is None else f"{when:%Y-%m-%d %H:%M:%S}Z",
        )
        for a in logs.get(r.id, []):
            table.add_row(
                "",
                f"  {a.at:%Y-%m-%d %H:%M:%S}Z",
                "",
                "",
                "",
                escape(f"{a.status_code or '—'} {a.error or ''}"[:80]),
                f"{a.duration_ms} ms",
            )
    console.print(table)


@webhooks_app.command("redeliver")
@domain_errors
def webhooks_redeliver(delivery_id: int) -> None:
    """Send a delivery again, now, on a fresh retry schedule."""
    from allot.webhook.service import redeliver

    with open_database() as db, db.transaction() as conn:
        row = redeliver(conn, clock(), delivery_id=delivery_id)
    console.print(f"delivery {row.id} ({row.event_type} → endpoint {row.endpoint_id}) is due now")
