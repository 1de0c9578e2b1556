"""``srdi ledger``, ``explain``, ``entitlement approve|pay`` (and, via `policies`, ``policy``, ``simulate``).

The ledger reads the ledger projection (caught up first; ``--recorded-before`` rebuilds a snapshot
of what the log knew then); ``--as-of`` folds every entry to a business date. Decisions go through
`service_layer.ledger` to the domain's payout handlers; a refusal is one line, exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli_commands.common import fail, guarded, optional_date, parse_date, print_done, print_json, services
from cli_commands.options import District, EntitlementId, ExportLanguage, Json, Lang, Language
from cli_commands.output import console as plain_console
from cli_commands.output import echo

if TYPE_CHECKING:
    from decimal import Decimal

    from service_layer.reads import LedgerEntry

entitlement_app = typer.Typer(
    help="Decide on entitlements: approve an amount, record a payment.", no_args_is_help=True
)
_LEDGER_WIDTH = 172


def _yuan(value: Decimal | None) -> str:
    from domain.policy.amounts import yuan

    return "—" if value is None else yuan(value)


@guarded
def ledger(
    ctx: typer.Context,
    enterprise: str | None = typer.Option(None, "--enterprise", metavar="USCC", help="Only this enterprise."),
    district: District = None,
    year: int | None = typer.Option(None, "--year", min=2000, max=2100, help="Only entries accrued in YYYY."),
    unit: str | None = typer.Option(
        None, "--unit", help="Only entries this responsible unit pays or handles (区财政局…)."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Entries accrued by DATE, decided as of DATE."),
    recorded_before: str | None = typer.Option(
        None, "--recorded-before", help="Only what the log knew before TIMESTAMP."
    ),
    as_json: Json = False,
    csv_path: Path | None = typer.Option(
        None, "--csv", metavar="PATH", help="Write a CSV file (UTF-8, Excel)."
    ),
    xlsx_path: Path | None = typer.Option(None, "--xlsx", metavar="PATH", help="Write an Excel workbook."),
    force: bool = typer.Option(False, "--force", help="Replace the --csv/--xlsx file if it exists."),
    lang: ExportLanguage = Lang.en,
) -> None:
    """Every entitlement with its amount, approval, payments and status, and the totals."""
    from cli_commands.ledger_export import write_csv, write_xlsx
    from service_layer import reads

    if sum((as_json, csv_path is not None, xlsx_path is not None)) > 1:
        fail("give at most one of --json, --csv PATH, --xlsx PATH")
    if csv_path is not None or xlsx_path is not None:
        from service_layer.files import check_output

        check_output(csv_path or xlsx_path or "", force=force)  # refuse a bad path before any work
    reading = reads.ledger(
        services(ctx, reading=True),
        enterprise=enterprise,
        district=district,
        year=year,
        unit=unit,
        as_of=as_of,
        recorded_before=recorded_before,
    )
    entries, sums = reading.entries, reading.totals
    if csv_path is not None or xlsx_path is not None:
        path = csv_path or xlsx_path
        assert path is not None
        (write_csv if csv_path is not None else write_xlsx)(path, entries, sums, lang, force=force)
        echo(f"wrote {len(entries)} entries and a totals row to {path}")
        return
    if as_json:
        print_json(reading.to_json())
        return
    _print_ledger(entries, sums, lang)


def _print_ledger(entries: list[LedgerEntry], sums: dict[str, Decimal], lang: str) -> None:
    from rich.table import Table

    from domain.labels import label, sentence

    columns = (
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
    table = Table(title=f"{label('ledger', lang, namespace='text')} ({len(entries)})")
    for name in columns:
        # Nothing is cut short: ids and USCCs are copied from here (`entitlement pay ID`).
        right = name in ("amount", "approved", "paid")
        table.add_column(
            label(name, lang, namespace="column"), justify="right" if right else "left", no_wrap=True
        )
    for e in entries:
        table.add_row(
            e.accrued_on.isoformat(),
            e.enterprise,
            label(e.district, lang, namespace="district"),
            e.rule,
            _yuan(e.amount),
            label("yes", lang, namespace="text") if e.ceiling else "",
            _yuan(e.approved_amount),
            _yuan(e.paid_amount),
            label(e.status, lang, namespace="status"),
            e.id,
        )
    console = plain_console()
    console.width = max(console.width, _LEDGER_WIDTH)  # a row per entry, whole ids, even when piped
    console.print(table)
    shown = {k: _yuan(sums[k]) for k in ("fixed", "ceilings", "approved", "paid")}
    echo(sentence("ledger-totals", lang, **shown))


@guarded
def explain(
    ctx: typer.Context,
    entitlement_id: EntitlementId,
    as_json: Json = False,
    lang: Language = Lang.en,
) -> None:
    """Why an entitlement: the rule, the article quoted, its triggers, figures, readings and arithmetic."""
    from service_layer.reads import explain as explain_entitlement

    doc = explain_entitlement(services(ctx, reading=True), entitlement_id, lang)
    if as_json:
        print_json(doc)
        return
    _print_explanation(doc, lang)


def _print_explanation(doc: dict[str, Any], lang: str = "en") -> None:
    from domain.labels import label, sentence

    zh = lang == "zh"

    def t(text: str) -> str:
        """A word of the explanation: as written in English, from the catalogue in Chinese."""
        return label(text.replace(" ", "-"), lang, namespace="text") if zh else text

    district = label(doc["district"], lang, namespace="district")
    status = doc.get("status_label", doc["status"]) if zh else doc["status"]
    kind = doc.get("kind_label", doc["kind"]) if zh else doc["kind"]
    echo(f"{t('entitlement')} {doc['id']} {t('of')} {doc['enterprise']} {doc['name'] or ''} ({district})")
    article = sentence("article", lang, n=doc["article"])
    rule = f"{t('rule')} {doc['rule']}: {doc['policy']} {article} ({kind})"
    echo(rule if zh else f"{rule} {doc['summary']}".rstrip())  # in Chinese the article's words say it
    echo(f"  {sentence('quoted', lang, text=doc['quote'])}")
    for cap in doc.get("caps", []):
        if cap.get("quote_zh"):
            quoted = sentence("quoted", lang, text=cap["quote_zh"])
            echo(f"  {t('cap set by')}: {quoted} ({_yuan(cap['total'])} {t('yuan')})")
    units = label("names-separator", lang, namespace="text").join(doc["responsible_units"])
    echo(f"  {t('responsible units')}: {units}")
    ceiling = f" ({t('ceiling')})" if doc["ceiling"] else ""
    echo(
        f"{t('status')} {status}: {t('amount')} {_yuan(doc['amount'])}{ceiling}, "
        f"{t('approved')} {_yuan(doc['approved_amount'])}, {t('paid')} {_yuan(doc['paid_amount'])} "
        f"{t('yuan')}; {t('accrued on')} {doc['accrued_on']}"
    )
    if doc.get("recovery_amount"):
        echo(f"  {t('recovery due')}: {_yuan(doc['recovery_amount'])} {t('yuan')}")
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
            event_type = label(event_type, lang, namespace="explain-event")
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
    entitlement_id: EntitlementId,
    amount: str = typer.Option(..., "--amount", help="Approved amount in yuan (at most the ceiling)."),
    on: str | None = typer.Option(None, "--on", help="Date of the approval (default today)."),
    as_json: Json = False,
) -> None:
    """Approve the amount of an entitlement awaiting approval (a ceiling or an unstated amount)."""
    from service_layer.ledger import approve as approve_entitlement
    from service_layer.ledger import record_json

    record = approve_entitlement(services(ctx), entitlement_id, amount, optional_date(on, "--on"))
    _done(record_json(record), as_json, "approved")


@entitlement_app.command("pay")
@guarded
def pay(
    ctx: typer.Context,
    entitlement_id: EntitlementId,
    amount: str = typer.Option(..., "--amount", help="Amount paid in yuan."),
    ref: str = typer.Option(..., "--ref", help="Payment reference (拨付文号 / voucher)."),
    on: str = typer.Option(..., "--on", help="Date of the payment YYYY-MM-DD."),
    as_json: Json = False,
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
    amounts = f"approved {_yuan(doc['approved_amount'])}, paid {_yuan(doc['paid_amount'])} yuan"
    print_done(doc, as_json, f"{what} {doc['id']} ({doc['rule']}): {doc['status']}, {amounts}")
