"""``srdi report USCC financials|lease|talent|rd-subsidy|patent|demonstration|retrofit|…``: what rules need.

The measures of the documents that carry no stated amount are reported here too: ``retrofit``
(RC-28, JJ-28, YB-6), ``incubation`` (Rongchang art 29), ``innovation-project`` (YB-9),
``standard`` (YB-18) and ``specialist`` (一企一策一人, a register of who serves whom).

Amounts are passed to the domain as text so they stay exact (Decimal yuan) and so every refusal
is the domain's own one-line message naming the option. ``--on`` (an addition) is the date of the
report; it defaults to today.
"""

from __future__ import annotations

from typing import Any

import typer

from cli_commands.common import guarded, optional_date, run_command
from cli_commands.options import Json, ReportOn

report_app = typer.Typer(
    help="Report the figures the policy rules need (financials, lease, talent, R&D subsidy…).",
    no_args_is_help=True,
)


@report_app.callback()
def report(ctx: typer.Context, uscc: str = typer.Argument(..., metavar="USCC")) -> None:
    """Report figures for the enterprise USCC."""


def _submit(ctx: typer.Context, what: str, as_json: bool, **fields: Any) -> None:
    from domain import commands

    model = {
        "financials": commands.ReportFinancials,
        "lease": commands.ReportLease,
        "talent": commands.ReportTalent,
        "rd-subsidy": commands.ReportRdSubsidy,
        "patent": commands.ReportPatent,
        "demonstration": commands.RecordDemonstration,
        "retrofit": commands.ReportRetrofit,
        "incubation": commands.RecordIncubation,
        "innovation-project": commands.RecordInnovationProject,
        "standard": commands.RecordStandard,
        "specialist": commands.AssignSpecialist,
    }[what]
    on = fields.pop("on", None)
    uscc = ctx.parent.params["uscc"] if ctx.parent is not None else ""
    command = model(uscc=uscc, on=optional_date(on, "--on"), **fields)
    run_command(ctx, command, as_json, f"reported {what} for {command.uscc}")


@report_app.command("financials")
@guarded
def financials(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year", help="Financial year YYYY."),
    revenue: str = typer.Option(..., "--revenue", help="主营业务收入 in yuan."),
    rd_expense: str | None = typer.Option(None, "--rd-expense", help="R&D expense in yuan."),
    on: ReportOn = None,
    as_json: Json = False,
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
    on: ReportOn = None,
    as_json: Json = False,
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
    on: ReportOn = None,
    as_json: Json = False,
) -> None:
    """A named talent's contribution to the district in a year (LJ-21)."""
    _submit(ctx, "talent", as_json, person=person, year=year, contribution=contribution, on=on)


@report_app.command("rd-subsidy")
@guarded
def rd_subsidy(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year"),
    amount: str = typer.Option(..., "--amount", help="Municipal R&D subsidy granted, in yuan."),
    on: ReportOn = None,
    as_json: Json = False,
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
    as_json: Json = False,
) -> None:
    """A patent granted (LJ-13 rewards invention patents). Beyond the contract (docs/cli.md)."""
    _submit(ctx, "patent", as_json, number=number, kind=kind, on=on)


@report_app.command("demonstration")
@guarded
def demonstration(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year", help="Year of the selection."),
    on: str | None = typer.Option(None, "--on", help="Date of the selection (default today)."),
    as_json: Json = False,
) -> None:
    """Chosen as a district demonstration enterprise (JJ-27). Beyond the contract (docs/cli.md)."""
    _submit(ctx, "demonstration", as_json, year=year, on=on)


@report_app.command("retrofit")
@guarded
def retrofit(
    ctx: typer.Context,
    year: str = typer.Option(..., "--year", help="Year of the project YYYY."),
    kind: str = typer.Option(
        ..., "--kind", help="smart (智能化), green (绿色化) or digital (数字化 new models)."
    ),
    investment: str = typer.Option(..., "--investment", help="Investment in yuan."),
    project: str | None = typer.Option(None, "--project", help="Name of the project."),
    on: ReportOn = None,
    as_json: Json = False,
) -> None:
    """A smart or green retrofit or new digital model and its investment (RC-28, JJ-28, YB-6)."""
    _submit(ctx, "retrofit", as_json, year=year, kind=kind, investment=investment, project=project, on=on)


@report_app.command("incubation")
@guarded
def incubation(
    ctx: typer.Context,
    institute: str | None = typer.Option(
        None, "--institute", help="The incubating institute (default 重庆市高新技术产业研究院)."
    ),
    on: str | None = typer.Option(None, "--on", help="Date of the record (default today)."),
    as_json: Json = False,
) -> None:
    """Incubated by the municipal high-tech research institute (Rongchang art 29, RC-29i)."""
    _submit(ctx, "incubation", as_json, institute=institute, on=on)


@report_app.command("innovation-project")
@guarded
def innovation_project(
    ctx: typer.Context,
    project: str = typer.Option(..., "--project", help="Name of the project (揭榜挂帅…)."),
    field: str | None = typer.Option(
        None, "--field", help="Industry key or Chinese name (高端装备, 新材料…)."
    ),
    on: str | None = typer.Option(None, "--on", help="Date of the project's approval (default today)."),
    as_json: Json = False,
) -> None:
    """A major innovation project of the enterprise (Yubei art 9, YB-9)."""
    _submit(ctx, "innovation-project", as_json, project=project, field=field, on=on)


@report_app.command("standard")
@guarded
def standard(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="The standard (number and title)."),
    level: str = typer.Option(..., "--level", help="international, national, industry, local or group."),
    role: str = typer.Option("participant", "--role", help="lead (主导) or participant (参与)."),
    on: str | None = typer.Option(None, "--on", help="Date the standard was issued (default today)."),
    as_json: Json = False,
) -> None:
    """A standard the enterprise led or took part in setting (Yubei art 18, YB-18)."""
    _submit(ctx, "standard", as_json, standard=name, level=level, role=role, on=on)


@report_app.command("specialist")
@guarded
def specialist(
    ctx: typer.Context,
    person: str = typer.Option(..., "--person", help="The service specialist (服务专员)."),
    unit: str | None = typer.Option(None, "--unit", help="The specialist's unit (区经济信息委…)."),
    on: str | None = typer.Option(None, "--on", help="Date of the assignment (default today)."),
    as_json: Json = False,
) -> None:
    """Assign the enterprise's service specialist (一企一策一人); a later assignment replaces it."""
    _submit(ctx, "specialist", as_json, person=person, unit=unit, on=on)
