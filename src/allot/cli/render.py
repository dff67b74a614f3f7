"""Rich renderings of results and the billing page's numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from allot.cli.context import console

if TYPE_CHECKING:
    from allot.usage.service import UsageResult
    from allot.usage.summary import UsageSummary

PROMPT_TEXT = {
    "activate_code": "activate a new Access Code",
    "upgrade_plan": "upgrade to a paid plan",
    "reduce_usage": "bring usage back within the free limits",
}


def draws_text(result: UsageResult) -> str:
    if not result.allowed:
        return f"[red]refused[/] ({result.reason})"
    parts = [
        f"{d.quantity:+d} {d.source}" if d.quantity < 0 else f"{d.quantity} from {d.source}"
        for d in result.draws
    ]
    return ", ".join(parts) or result.reason


def print_result(result: UsageResult) -> None:
    replay = " [dim](replayed)[/]" if result.replayed else ""
    console.print(
        f"{result.action} {result.metric} x{result.quantity} for {result.account_id} "
        f"[{result.period}]: [bold]{result.outcome.value}[/] — {draws_text(result)}{replay}"
    )
    if result.prompt:
        console.print(
            "  [yellow]Past the free plan:[/] "
            + "; ".join(PROMPT_TEXT.get(p, p) for p in result.prompt)
        )


def bar(used: int, total: int, width: int = 20) -> str:
    if total <= 0:
        return "[" + ("!" * width if used else " " * width) + "]"
    filled = min(width, round(width * used / total))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def print_summary(summary: UsageSummary) -> None:
    from rich.table import Table

    console.rule(
        f"[bold]{summary.name}[/] ({summary.account_id}) — {summary.month}, {summary.timezone}"
    )
    for g in summary.grants:
        state = "Paused" if g.paused else "Claimed"
        console.print(f"[bold]{g.label} — {state}[/]")
        for r in g.resources:
            console.print(f"  {r.name:<24} {r.used} / {r.available}  {bar(r.used, r.available)}")
    for p in summary.plans:
        console.print(
            f"[bold]Your Tariff Plan:[/] {p.plan_name} (v{p.version})"
            + (f" × {p.quantity}" if p.quantity > 1 else "")
            + f", started {p.started_on}"
        )
        if p.tip:
            console.print(f"  [dim]{p.tip}[/]")
    table = Table(title="Available Services", show_lines=False)
    table.add_column("Service")
    table.add_column("Usage")
    table.add_column("Split by source")
    table.add_column("Charge so far", justify="right")
    for m in summary.metrics:
        split = ", ".join(f"{s.used} {s.label}" for s in m.split) or "—"
        usage = m.headline()
        if m.kind == "counter":
            usage += " " + bar(m.used, m.included)
        if m.extra_seat_days:
            usage += f" ({m.extra_seat_days} extra seat-days)"
        if m.reported_late:
            usage += f" ({m.reported_late} reported after the month ended)"
        table.add_row(m.name, usage, split, "" if m.charge is None else str(m.charge))
    console.print(table)
    if summary.prompt:
        console.print(
            "[yellow]You are past the free plan's limits.[/] Choose: "
            + "; ".join(PROMPT_TEXT.get(p, p) for p in summary.prompt)
        )
