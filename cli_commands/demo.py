"""``srdi demo``: a realistic sample history, then a summary."""

from __future__ import annotations

import typer

from cli_commands.common import guarded, services


@guarded
def demo(
    ctx: typer.Context,
    enterprises: int = typer.Option(20, "--enterprises", min=1, max=1_000_000),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Generate a realistic sample history through the store and summarise it."""
    from rich.console import Console
    from rich.table import Table

    from service_layer.demo import generate

    counts = generate(services(ctx).store, enterprises, seed)
    table = Table(title=f"srdi demo: {enterprises} enterprises (seed {seed})")
    table.add_column("event type")
    table.add_column("events", justify="right")
    for name, n in sorted(counts.items()):
        table.add_row(name, str(n))
    table.add_row("total", str(sum(counts.values())))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
