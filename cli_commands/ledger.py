"""``srdi ledger``, ``explain``, ``entitlement approve|pay`` (and, via `policies`, ``policy``, ``simulate``).

The ledger reads the ledger projection (caught up first; ``--recorded-before`` rebuilds a snapshot
of what the log knew then); ``--as-of`` folds every entry to a business date. Decisions go through
`service_layer.ledger` to the domain's payout handlers; a refusal is one line, exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli_commands.common import fail, guarded, parse_date, print_json, services
from cli_commands.output import console as plain_console
from cli_commands.output import echo

if TYPE_CHECKING:
    from decimal import Decimal

    from projections.ledger_view import LedgerEntry

entitlement_app = typer.Typer(
    help="Decide on entitlements: approve an amount, record a payment.", no_args_is_help=True
)
_JSON = typer.Option(False, "--json", help="Print one JSON document.")
_LEDGER_WIDTH = 172
_LANG = typer.Option("en", "--lang", help="Labels and export headers: en or zh.")


def _yuan(value: Decimal | None) -> str:
    from domain.policy.fmt import yuan

    return "—" if value is None else yuan(value)


@guarded
def ledger(
    ctx: typer.Context,
    enterprise: str | None = typer.Option(None, "--enterprise", metavar="USCC", help="Only this enterprise."),
    district: str | None = typer.Option(None, "--district", help="Only this district (key or Chinese name)."),
    year: int | None = typer.Option(None, "--year", min=2000, max=2100, help="Only entries accrued in YYYY."),
    unit: str | None = typer.Option(
        None, "--unit", help="Only entries this responsible unit pays or handles (区财政局…)."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Entries accrued by DATE, decided as of DATE."),
    recorded_before: str | None = typer.Option(
        None, "--recorded-before", help="Only what the log knew before TIMESTAMP."
    ),
    as_json: bool = _JSON,
    csv_path: Path | None = typer.Option(
        None, "--csv", metavar="PATH", help="Write a CSV file (UTF-8, Excel)."
    ),
    xlsx_path: Path | None = typer.Option(None, "--xlsx", metavar="PATH", help="Write an Excel workbook."),
    force: bool = typer.Option(False, "--force", help="Replace the --csv/--xlsx file if it exists."),
    lang: str = _LANG,
) -> None:
    """Every entitlement with its amount, approval, payments and status, and the totals."""
    from cli_commands.ledger_export import write_csv, write_xlsx
    from domain.reference import label, normalise, parse_district
    from domain.uscc import validate_uscc
    from projections.feed import view
    from projections.framework import Cutoff
    from projections.ledger_view import LedgerFilter, read_ledger, totals

    if sum((as_json, csv_path is not None, xlsx_path is not None)) > 1:
        fail("give at most one of --json, --csv PATH, --xlsx PATH")
    label("x", lang)  # refuse an unknown --lang before any work
    if csv_path is not None or xlsx_path is not None:
        from service_layer.files import check_output

        check_output(csv_path or xlsx_path or "", force=force)  # refuse a bad path before any work
    svc = services(ctx, reading=True)
    cutoff = Cutoff.parse(as_of, recorded_before, svc.settings.timezone)
    filters = LedgerFilter(
        validate_uscc(enterprise) if enterprise else None,
        parse_district(district) if district else None,
        year,
        cutoff.as_of,
    )
    with view(svc.engine, ["ledger"], Cutoff(recorded_before=cutoff.recorded_before)) as conn:
        entries = read_ledger(conn, filters)
    if unit is not None:  # the catalogue: "a ledger can be split by unit"
        wanted = normalise(unit)
        entries = [e for e in entries if wanted in {normalise(u) for u in e.responsible_units}]
    sums = totals(entries)
    if csv_path is not None or xlsx_path is not None:
        path = csv_path or xlsx_path
        assert path is not None
        (write_csv if csv_path is not None else write_xlsx)(path, entries, sums, lang, force=force)
        echo(f"wrote {len(entries)} entries and a totals row to {path}")
        return
    if as_json:
        print_json({"entries": [e.to_json() for e in entries], "totals": sums})
        return
    _print_ledger(entries, sums, lang)


def _print_ledger(entries: list[LedgerEntry], sums: dict[str, Decimal], lang: str) -> None:
    from rich.table import Table

    from cli_commands.ledger_export import STATUS_ZH
    from domain.reference import label

    zh = lang == "zh"
    names = ("发生日期", "企业", "区县", "条款", "金额", "上限", "核定", "已拨付", "状态", "编号")
    english = (
        "accrued",
        "enterprise",
        "district",
        "rule",
        "amount",
        "ceiling",
        "approved",
        "paid",
        "status",
        "id",
    )
    table = Table(title=f"{'台账' if zh else 'ledger'} ({len(entries)})")
    money = ("amount", "approved", "paid", "金额", "核定", "已拨付")
    for name in names if zh else english:
        # Nothing is cut short: ids and USCCs are copied from here (`entitlement pay ID`).
        table.add_column(name, justify="right" if name in money else "left", no_wrap=True)
    for e in entries:
        table.add_row(
            e.accrued_on.isoformat(),
            e.enterprise,
            label(e.district, lang, namespace="district"),
            e.rule,
            _yuan(e.amount),
            ("是" if zh else "yes") if e.ceiling else "",
            _yuan(e.approved_amount),
            _yuan(e.paid_amount),
            STATUS_ZH.get(e.status, e.status) if zh else e.status,
            e.id,
        )
    console = plain_console()
    console.width = max(console.width, _LEDGER_WIDTH)  # a row per entry, whole ids, even when piped
    console.print(table)
    f, c, a, p = (_yuan(sums[k]) for k in ("fixed", "ceilings", "approved", "paid"))
    if zh:
        echo(f"合计（元）：定额 {f}，待核定上限 {c}，已核定 {a}，已拨付 {p}")
    else:
        echo(f"totals (yuan): fixed {f}, ceilings awaiting approval {c}, approved {a}, paid {p}")


@guarded
def explain(
    ctx: typer.Context,
    entitlement_id: str = typer.Argument(..., metavar="ENTITLEMENT_ID"),
    as_json: bool = _JSON,
    lang: str = _LANG,
) -> None:
    """Why an entitlement: the rule, the article quoted, its triggers, figures, readings and arithmetic."""
    from domain.reference import label
    from service_layer.ledger import explain as explain_entitlement

    label("x", lang)  # refuse an unknown --lang before any work
    doc = explain_entitlement(services(ctx, reading=True), entitlement_id, lang)
    if as_json:
        print_json(doc)
        return
    _print_explanation(doc, lang)


_EXPLAIN_ZH = {
    "entitlement": "兑现事项",
    "of": "企业",
    "rule": "条款",
    "responsible units": "责任单位",
    "status": "状态",
    "amount": "金额",
    "ceiling": "上限",
    "approved": "核定",
    "paid": "已拨付",
    "accrued on": "发生日期",
    "note": "说明",
    "triggered by": "触发事件",
    "retracted": "已撤回",
    "readings used": "条文解读",
    "figures": "数据",
    "missing figures": "缺少数据",
    "arithmetic": "计算过程",
    "lifecycle": "处理过程",
    "in force": "现行",
    "superseded by": "已被更正",
    "adjustments": "更正调整",
    "recovery due": "应追回",
    "before": "调整前",
    "after": "调整后",
    "cap set by": "上限依据",
    "ref": "凭证",
    "reason": "原因",
    "cause_event_id": "起因事件",
    "on": "于",
    "event": "事件",
}


def _print_explanation(doc: dict[str, Any], lang: str = "en") -> None:
    from domain.reference import label

    zh = lang == "zh"

    def t(text: str) -> str:
        return _EXPLAIN_ZH.get(text, text) if zh else text

    district = label(doc["district"], lang, namespace="district")
    status = doc.get("status_label", doc["status"]) if zh else doc["status"]
    kind = doc.get("kind_label", doc["kind"]) if zh else doc["kind"]
    echo(f"{t('entitlement')} {doc['id']} {t('of')} {doc['enterprise']} {doc['name'] or ''} ({district})")
    article = f"第{doc['article']}条" if zh else f"article {doc['article']}"
    rule = f"{t('rule')} {doc['rule']}: {doc['policy']} {article} ({kind})"
    echo(rule if zh else f"{rule} {doc['summary']}".rstrip())  # in Chinese the article's words say it
    echo(f"  「{doc['quote']}」")
    for cap in doc.get("caps", []):
        if cap.get("quote_zh"):
            echo(
                f"  {t('cap set by')}: 「{cap['quote_zh']}」 ({_yuan(cap['total'])} {'元' if zh else 'yuan'})"
            )
    echo(f"  {t('responsible units')}: {'、'.join(doc['responsible_units'])}")
    ceiling = f" ({t('ceiling')})" if doc["ceiling"] else ""
    echo(
        f"{t('status')} {status}: {t('amount')} {_yuan(doc['amount'])}{ceiling}, "
        f"{t('approved')} {_yuan(doc['approved_amount'])}, {t('paid')} {_yuan(doc['paid_amount'])} "
        f"{'元' if zh else 'yuan'}; {t('accrued on')} {doc['accrued_on']}"
    )
    if doc.get("recovery_amount"):
        echo(f"  {t('recovery due')}: {_yuan(doc['recovery_amount'])} {'元' if zh else 'yuan'}")
    if doc["note"]:
        echo(f"  {t('note')}: {doc['note']}")
    echo(f"{t('triggered by')}:")
    for trigger in doc["triggers"]:
        gone = f" [{t('retracted')}]" if trigger.get("retracted") else ""
        if trigger.get("in_force"):
            gone += f" [{t('in force')}]"
        if trigger.get("superseded_by"):
            gone += f" [{t('superseded by')} {trigger['superseded_by']}]"
        data = trigger.get("data", {})
        what = " ".join(label(str(data[k]), lang) for k in ("track", "action", "year") if data.get(k))
        event_type = str(trigger["event_type"])
        if zh:
            from service_layer.explain_zh import EVENT_ZH

            event_type = EVENT_ZH.get(event_type, event_type)
        echo(
            f"  {event_type} {what} {t('on')} {trigger.get('occurred_on')} "
            f"({t('event')} {trigger['event_id']}){gone}"
        )
    for title, key in (("readings used", "readings"), ("figures", "figures")):
        if doc[key]:
            echo(f"{t(title)}:")
            for name, value in doc[key].items():
                echo(f"  {name}: {value}")
    if doc["missing"]:
        echo(f"{t('missing figures')}: {', '.join(doc['missing'])}")
    echo(f"{t('arithmetic')}:")
    for n, step in enumerate(doc["steps"], start=1):
        echo(f"  {n}. {step}")
    if doc.get("adjustments"):
        echo(f"{t('adjustments')}:")
        for adj in doc["adjustments"]:
            echo(
                f"  {adj['on']} {_yuan(adj['from'])} → {_yuan(adj['to'])} "
                f"({adj['status_to']}): {adj['reason']}"
            )
            for side in ("before", "after"):
                for step in adj[side]["steps"]:
                    echo(f"    {t(side)}: {step}")
    echo(f"{t('lifecycle')}:")
    for step in doc["history"]:
        extra = " ".join(f"{t(k)}={v}" for k, v in step.items() if k not in ("event", "on"))
        echo(f"  {step['on']} {step['event']} {extra}".rstrip())


@entitlement_app.command("approve")
@guarded
def approve(
    ctx: typer.Context,
    entitlement_id: str = typer.Argument(..., metavar="ENTITLEMENT_ID"),
    amount: str = typer.Option(..., "--amount", help="Approved amount in yuan (at most the ceiling)."),
    on: str | None = typer.Option(None, "--on", help="Date of the approval (default today)."),
    as_json: bool = _JSON,
) -> None:
    """Approve the amount of an entitlement awaiting approval (a ceiling or an unstated amount)."""
    from service_layer.ledger import approve as approve_entitlement
    from service_layer.ledger import record_json

    record = approve_entitlement(services(ctx), entitlement_id, amount, parse_date(on) if on else None)
    _done(record_json(record), as_json, "approved")


@entitlement_app.command("pay")
@guarded
def pay(
    ctx: typer.Context,
    entitlement_id: str = typer.Argument(..., metavar="ENTITLEMENT_ID"),
    amount: str = typer.Option(..., "--amount", help="Amount paid in yuan."),
    ref: str = typer.Option(..., "--ref", help="Payment reference (拨付文号 / voucher)."),
    on: str = typer.Option(..., "--on", help="Date of the payment YYYY-MM-DD."),
    as_json: bool = _JSON,
) -> None:
    """Record a payment (several may add up to what is approved or owed, never more).

    The same voucher again (same amount and date) writes nothing and prints the first payment; the
    same voucher with another amount or date is refused (exit 3).
    """
    from service_layer.ledger import pay as pay_entitlement
    from service_layer.ledger import record_json

    done = pay_entitlement(services(ctx), entitlement_id, amount, ref, parse_date(on))
    p = done.payment
    doc = record_json(done.record) | {
        "payment": {"event_id": p.event_id, "amount": p.amount, "ref": p.ref, "on": p.on.isoformat()},
        "repeated": not done.written,
    }
    if not as_json and not done.written:
        echo(
            f"voucher {p.ref} was already recorded: {_yuan(p.amount)} yuan paid on {p.on.isoformat()} "
            f"(event {p.event_id}); nothing written"
        )
    _done(doc, as_json, "paid" if done.written else "unchanged")


def _done(doc: dict[str, Any], as_json: bool, what: str) -> None:
    if as_json:
        print_json(doc)
        return
    echo(
        f"{what} {doc['id']} ({doc['rule']}): {doc['status']}, approved {_yuan(doc['approved_amount'])}, "
        f"paid {_yuan(doc['paid_amount'])} yuan"
    )


def register(app: typer.Typer) -> None:
    """Add ledger, explain, entitlement, policy and simulate."""
    from cli_commands import policies

    app.command("ledger")(ledger)
    app.command("explain")(explain)
    app.add_typer(entitlement_app, name="entitlement")
    policies.register(app)
