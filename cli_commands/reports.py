"""``srdi report USCC financials|lease|talent|rd-subsidy|patent|demonstration``: the figures rules need.

Amounts are passed to the domain as text so they stay exact (Decimal yuan) and so every refusal
is the domain's own one-line message naming the option. ``--on`` (an addition) is the date of the
report; it defaults to today.
"""

from __future__ import annotations

from typing import Any

import typer

from cli_commands.common import guarded, parse_date, services
from cli_commands.enterprises import JSON_OPTION, print_result

report_app = typer.Typer(
    help="Report the figures the policy rules need (financials, lease, talent, R&D subsidy…).",
    no_args_is_help=True,
)
ON_OPTION = typer.Option(None, "--on", help="Date of the report YYYY-MM-DD (default today).")


@report_app.callback()
def report(ctx: typer.Context, uscc: str = typer.Argument(..., metavar="USCC")) -> None:
    """Report figures for the enterprise USCC."""


def _submit(ctx: typer.Context, what: str, as_json: bool, **fields: Any) -> None:
    from domain import commands
    from service_layer.commands import execute

    model = {
        "financials": commands.ReportFinancials,
        "lease": commands.ReportLease,
        "talent": commands.ReportTalent,
        "rd-subsidy": commands.ReportRdSubsidy,
        "patent": commands.ReportPatent,
        "demonstration": commands.RecordDemonstration,
    }[what]
    on = fields.pop("on", None)
    uscc = ctx.parent.params["uscc"] if ctx.parent is not None else ""
    command = model(uscc=uscc, on=parse_date(on) if on else None, **fields)
    result = execute(services(ctx), command)
    print_result(result, as_json, f"reported {what} for {command.uscc}")


@report_app.command("financials")
@guarded
def financials(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year", help="Financial year YYYY."),
    revenue: str = typer.Option(..., "--revenue", help="主营业务收入 in yuan."),
    rd_expense: str | None = typer.Option(None, "--rd-expense", help="R&D expense in yuan."),
    on: str | None = ON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A year's revenue and R&D expense; a later report for the same year supersedes."""
    _submit(ctx, "financials", as_json, year=year, revenue=revenue, rd_expense=rd_expense, on=on)


@report_app.command("lease")
@guarded
def lease(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year"),
    area: str = typer.Option(..., "--area", help="Area in m²."),
    rent: str = typer.Option(..., "--rent", help="Rent in yuan per m² per month."),
    months: str = typer.Option(..., "--months", help="Months rented in the year (1-12)."),
    owner: str = typer.Option(..., "--owner", help="state or private."),
    on: str | None = ON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Space rented in a year (YB-3 rent subsidy)."""
    fields = {"area_m2": area, "rent_per_m2_month": rent, "months": months, "owner": owner}
    _submit(ctx, "lease", as_json, year=year, on=on, **fields)


@report_app.command("talent")
@guarded
def talent(
    ctx: typer.Context,
    person: str = typer.Option(..., "--person", help="The talent's id."),
    year: str = typer.Option(..., "--year"),
    contribution: str = typer.Option(..., "--contribution", help="Salary-tax contribution in yuan."),
    on: str | None = ON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A named talent's contribution to the district in a year (LJ-21)."""
    _submit(ctx, "talent", as_json, person=person, year=year, contribution=contribution, on=on)


@report_app.command("rd-subsidy")
@guarded
def rd_subsidy(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year"),
    amount: str = typer.Option(..., "--amount", help="Municipal R&D subsidy granted, in yuan."),
    on: str | None = ON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A municipal R&D subsidy granted (RC-29a)."""
    _submit(ctx, "rd-subsidy", as_json, year=year, amount=amount, on=on)


@report_app.command("patent")
@guarded
def patent(
    ctx: typer.Context,
    number: str = typer.Option(..., "--number", help="Patent number."),
    kind: str = typer.Option("invention", "--kind", help="invention, utility or design."),
    on: str | None = typer.Option(None, "--on", help="Grant date (default today)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A patent granted (LJ-13 rewards invention patents). Beyond the contract (docs/cli.md)."""
    _submit(ctx, "patent", as_json, number=number, kind=kind, on=on)


@report_app.command("demonstration")
@guarded
def demonstration(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year", help="Year of the selection."),
    on: str | None = typer.Option(None, "--on", help="Date of the selection (default today)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Chosen as a district demonstration enterprise (JJ-27). Beyond the contract (docs/cli.md)."""
    _submit(ctx, "demonstration", as_json, year=year, on=on)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
