"""``srdi demo``: a realistic sample history through the real handlers, then a summary."""

from __future__ import annotations

import typer

from cli_commands.common import guarded, print_json, services, stderr_progress
from cli_commands.output import console as plain_console


@guarded
def demo(
    ctx: typer.Context,
    enterprises: int = typer.Option(200, "--enterprises", min=1, max=1_000_000, help="How many enterprises."),
    seed: int = typer.Option(7, "--seed", help="The same seed gives the same history."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON document."),
) -> None:
    """Generate enterprises climbing the ladders over 2019-2026 (demo today: 2026-11-01) and summarise."""
    from rich.table import Table

    from service_layer.commands import reactor_of
    from service_layer.demo import generate
    from service_layer.demo_plan import TODAY
    from service_layer.policies import activate_all, ledger_totals_by_district

    svc = services(ctx)
    activate_all(svc)  # each built-in policy on its in-force date; a no-op when already active
    bar = stderr_progress("generating", quiet=as_json)
    with bar:
        task = bar.add_task("demo", total=enterprises)
        summary = generate(
            svc.store,
            enterprises,
            seed,
            reactor=reactor_of(svc),
            progress=lambda done, total: bar.update(task, completed=done),
        )
    ledger = ledger_totals_by_district(svc.engine)
    if as_json:
        print_json({**summary.to_json(), "ledger_totals": ledger})
        return
    console = plain_console()
    head = f"srdi demo: {summary.enterprises} enterprises, seed {seed}, today {TODAY.isoformat()}"
    events = Table(title=head)
    events.add_column("event type")
    events.add_column("events", justify="right")
    for name, n in sorted(summary.events.items()):
        events.add_row(name, f"{n:,}")
    events.add_row("total", f"{summary.total:,}", style="bold")
    console.print(events)
    tracks = sorted({t for counts in summary.titles.values() for t in counts})
    titles = Table(title=f"valid titles on {TODAY.isoformat()}, by district")
    titles.add_column("district")
    for track in tracks:
        titles.add_column(track, justify="right")
    for district, counts in sorted(summary.titles.items()):
        titles.add_row(district, *(str(counts.get(t, 0)) for t in tracks))
    console.print(titles)
    listings = Table(title="listing stage reached")
    listings.add_column("stage")
    listings.add_column("enterprises", justify="right")
    for stage, n in sorted(summary.listings.items()):
        listings.add_row(stage, str(n))
    console.print(listings)
    money = Table(title="ledger totals by district (yuan)")
    for column in ("district", "entries", "fixed", "ceilings", "approved", "paid"):
        money.add_column(column, justify="left" if column == "district" else "right")
    for district, row in ledger.items():
        money.add_row(
            district,
            f"{row['entries']:,}",
            *(f"{row[k]:,}" for k in ("fixed", "ceilings", "approved", "paid")),
        )
    console.print(money)
    resumed = (
        f"; {summary.already_there:,} enterprises were there from an interrupted run, "
        f"{summary.written:,} events written now"
        if summary.already_there
        else ""
    )
    console.print(
        f"{summary.total:,} events in {summary.seconds:.1f} s; "
        f"{summary.refused} planned steps refused{resumed}"
    )
