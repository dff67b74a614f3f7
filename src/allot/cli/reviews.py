"""`allot orders ingest`, `allot reviews status|requests`, `allot topup set` (R1-R5)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, open_database
from allot.cli.parse import instant
from allot.core.errors import InvalidInput
from allot.core.money import to_decimal
from allot.reviews.limits import MAX_BATCH

if TYPE_CHECKING:
    from allot.reviews.service import OrderIn, ReviewStatus

orders_app = typer.Typer(help="Report the stores' orders.", no_args_is_help=True)
reviews_app = typer.Typer(help="The Reviews gate: status and requests.", no_args_is_help=True)
topup_app = typer.Typer(help="Set a store's top-up limit (R2).", no_args_is_help=True)

_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


@dataclass
class Lines:
    """A store's orders read from a file, each with the line it was on."""

    orders: list[OrderIn] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def read_orders(path: Path, account: str | None) -> dict[str, Lines]:
    """Orders by account from a CSV (columns: [account_id,] order_id, placed_at[, excluded]).

    Every line is checked before anything is written; an error names the line and field.
    """
    from allot.reviews.service import OrderIn

    found: dict[str, Lines] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        missing = {"order_id", "placed_at"} - columns
        if missing or (account is None and "account_id" not in columns):
            need = sorted(missing | ({"account_id"} if account is None else set()))
            raise InvalidInput(
                "missing_columns",
                f"{path}: the header needs {', '.join(need)} (or pass --account)",
                field="file",
            )
        for row in reader:
            where = f"{path}:{reader.line_num}"
            owner = row.get("account_id") or account
            if not owner:
                raise InvalidInput("required", f"{where}: no account_id", field="account_id")
            placed = instant(row["placed_at"], f"{where}: placed_at")
            flag = (row.get("excluded") or "").strip().lower()
            if flag not in _TRUE | _FALSE:
                raise InvalidInput(
                    "not_boolean", f"{where}: {flag!r} is not true or false", field="excluded"
                )
            assert placed is not None
            mine = found.setdefault(owner, Lines())
            mine.orders.append(OrderIn(row["order_id"], placed, flag in _TRUE))
            mine.lines.append(reader.line_num)
    return found


_ORDER_FIELD = re.compile(r"orders\[(\d+)\]\.(\w+)")


def _on_line(error: InvalidInput, path: Path, lines: list[int], recorded: int) -> InvalidInput:
    """The batch's error, naming the file's line instead of the order's index in the batch."""
    found = _ORDER_FIELD.fullmatch(error.field or "")
    if found is None:
        return error
    line = lines[int(found[1])]
    return InvalidInput(
        error.code,
        f"{path}:{line}: {error.message} ({recorded} orders in earlier batches were recorded; "
        "running the file again once fixed is safe)",
        field=found[2],
    )


@orders_app.command("ingest")
@domain_errors
def orders_ingest(
    file: Path,
    account: Annotated[
        str | None, typer.Option(help="The store, when the file has no account_id column.")
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, max=MAX_BATCH, help="Orders per transaction.")
    ] = 5000,
) -> None:
    """Report orders from a CSV; an order already reported changes nothing (safe to re-run)."""
    from rich.progress import Progress

    from allot.config import Settings
    from allot.reviews.service import ingest_orders

    by_account = read_orders(file, account)
    totals = {"received": 0, "new": 0, "duplicates": 0, "released": 0}
    fates: dict[str, int] = {}
    with open_database() as db, Progress(console=console, transient=True) as progress:
        now = clock()
        tolerance = Settings.from_env().future_tolerance
        total = sum(len(read.orders) for read in by_account.values())
        task = progress.add_task("ingesting orders", total=total)
        for owner, read in by_account.items():
            for i in range(0, len(read.orders), batch):
                chunk = read.orders[i : i + batch]
                try:
                    with db.transaction() as conn:
                        result = ingest_orders(
                            conn, now, account_id=owner, orders=chunk, future_tolerance=tolerance
                        )
                except InvalidInput as error:
                    raise _on_line(error, file, read.lines[i:], totals["received"]) from None
                for key in totals:
                    totals[key] += getattr(result, key)
                for fate, n in result.outcomes.items():
                    fates[fate] = fates.get(fate, 0) + n
                progress.advance(task, len(chunk))
    console.print(
        f"{totals['received']} orders for {len(by_account)} accounts: {totals['new']} new, "
        f"{totals['duplicates']} already reported; {totals['released']} review requests to send"
    )
    if fates:
        console.print(", ".join(f"{n} {fate}" for fate, n in sorted(fates.items())))


def show_status(status: ReviewStatus, account_id: str) -> None:
    from rich.table import Table

    console.print(
        f"[bold]{escape(account_id)}[/] — {escape(status.plan)}, {status.month}: "
        f"{status.orders:,} orders / {status.limit:,} order limit"
    )
    if status.top_up == "none":
        top = "no top-up limit"
    elif status.top_up == "unlimited":
        top = "top-up limit: unlimited"
    else:
        top = f"top-up limit: {status.top_up_cap} (buys {status.top_up_orders:,} orders)"
    console.print(
        f"within the limit {status.within:,}; {top}; topped up {status.topped_up:,} "
        f"orders = {status.top_up_amount} so far"
    )
    table = Table("requests", "count")
    for state in ("to_send", "sent", "waiting", "archived"):
        table.add_row(state.replace("_", " "), f"{status.states.get(state, 0):,}")
    console.print(table)


@reviews_app.command("status")
@domain_errors
def reviews_status(account_id: str) -> None:
    """This month's orders against the limit, the top-up and the requests by state."""
    from allot.reviews.service import review_status

    with open_database() as db, db.transaction() as conn:
        status = review_status(conn, clock(), account_id=account_id)
    show_status(status, account_id)


@reviews_app.command("requests")
@domain_errors
def reviews_requests(
    account_id: str,
    state: Annotated[str, typer.Option(help="to_send, waiting, archived or sent.")] = "to_send",
    limit: Annotated[int, typer.Option(min=1, max=MAX_BATCH)] = 50,
) -> None:
    """The requests in one state, oldest placed first (R5)."""
    from rich.table import Table

    from allot.reviews.service import list_requests

    with open_database() as db, db.transaction() as conn:
        rows = list_requests(conn, clock(), account_id=account_id, state=state, limit=limit)
    table = Table("order", "placed", "month", "place", "paid by", "released")
    for r in rows:
        table.add_row(
            escape(r.order_id),
            f"{r.placed_at:%Y-%m-%d %H:%M}Z",
            r.month,
            f"{r.place:,}",
            r.paid_by or "",
            "" if r.released_month is None else r.released_month,
        )
    console.print(table)


@topup_app.command("set")
@domain_errors
def topup_set(
    account_id: str,
    cap: Annotated[str | None, typer.Option(help="A money cap per month, e.g. 150.")] = None,
    unlimited: Annotated[bool, typer.Option("--unlimited", help="No cap.")] = False,
    none: Annotated[bool, typer.Option("--none", help="No top-ups at all.")] = False,
) -> None:
    """Set the top-up limit: --cap 150, --unlimited or --none (refused on a free plan)."""
    from allot.reviews.service import review_status, set_top_up_limit

    if (cap is not None) + unlimited + none != 1:
        raise InvalidInput("one_of", "give exactly one of --cap, --unlimited, --none", field="cap")
    mode = "defined" if cap is not None else "unlimited" if unlimited else "none"
    amount: Decimal | None = None if cap is None else to_decimal(cap, field="cap")
    with open_database() as db, db.transaction() as conn:
        set_top_up_limit(conn, clock(), account_id=account_id, mode=mode, cap=amount)
        status = review_status(conn, clock(), account_id=account_id)
    show_status(status, account_id)
