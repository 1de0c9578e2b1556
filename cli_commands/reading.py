"""``srdi status``, ``srdi history`` and ``srdi machines``: reading one enterprise and the machines.

Status and history fold the enterprise's own stream with the same aggregate the handlers decide
with, so what staff read is exactly what the next command will be checked against. JSON keeps the
keys of docs/cli.md whatever ``--lang`` says (scripts parse it); ``--lang zh`` changes the tables only.
(Owned by the lifecycle work; the projections' read commands live in ``cli_commands/views.py``.)
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import typer

from cli_commands.common import guarded, parse_date, print_json, services
from cli_commands.enterprises import JSON_OPTION
from cli_commands.output import console as plain_console

if TYPE_CHECKING:
    from domain.enterprise import Enterprise
    from events.envelope import RecordedEvent

LANG_OPTION = typer.Option("en", "--lang", help="Labels: en or zh.")
TYPE_LABEL = {
    "EnterpriseRegistered": ("registered", "企业登记"),
    "EnterpriseDetailsChanged": ("details changed", "企业信息变更"),
    "MilestoneRecorded": ("milestone", "里程碑"),
    "FinancialsReported": ("financials", "财务数据"),
    "LeaseReported": ("lease", "租赁"),
    "TalentContributionReported": ("talent", "人才贡献"),
    "RdSubsidyReported": ("rd-subsidy", "市级研发补助"),
    "PatentGranted": ("patent", "专利授权"),
    "DemonstrationSelected": ("demonstration", "示范企业"),
    "RetrofitReported": ("retrofit", "技术改造"),
    "IncubationRecorded": ("incubation", "研究院孵化"),
    "InnovationProjectRecorded": ("innovation project", "重大创新攻关项目"),
    "StandardRecorded": ("standard", "标准制修订"),
    "SpecialistAssigned": ("specialist", "服务专员"),
    "EventRetracted": ("retraction", "更正撤回"),
    "EntitlementCreated": ("entitlement", "兑现产生"),
    "EntitlementResolved": ("entitlement resolved", "兑现核定"),
    "EntitlementApproved": ("entitlement approved", "兑现审批"),
    "EntitlementPaid": ("entitlement paid", "兑现支付"),
    "EntitlementReversed": ("entitlement reversed", "兑现冲回"),
}
SIZE_ZH = {"micro": "微型", "small": "小型", "medium": "中型"}
HEAD = {
    "en": (
        "track",
        "state",
        "certified on",
        "valid until",
        "listing",
        "date",
        "type",
        "what",
        "actor",
        "event id",
    ),
    "zh": ("称号", "状态", "认定日期", "有效期至", "挂牌上市", "日期", "类型", "内容", "操作人", "事件编号"),
}


def _stream(ctx: typer.Context, uscc: str) -> tuple[str, list[RecordedEvent]]:
    """The verified USCC and its stream; an unregistered enterprise is refused (exit 2)."""
    from domain.deciders import require_registered
    from domain.enterprise import Enterprise
    from domain.uscc import validate_uscc
    from events.schemas import enterprise_stream

    code = validate_uscc(uscc)
    events = services(ctx, reading=True).store.read_stream(enterprise_stream(code))
    require_registered(Enterprise.load(events), code)
    return code, events


def _lang(lang: str) -> str:
    from domain.reference import label

    label("en", lang)  # refuses an unknown language with one line
    return lang


def _type(event_type: str, lang: str) -> str:
    labels = TYPE_LABEL.get(event_type)
    return event_type if labels is None else labels[1 if lang == "zh" else 0]


@guarded
def status(
    ctx: typer.Context,
    uscc: str = typer.Argument(..., metavar="USCC"),
    as_of: str | None = typer.Option(None, "--as-of", help="The state on this date (YYYY-MM-DD)."),
    as_json: bool = JSON_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """The enterprise's titles and listing stage, now or as of a date.

    A title whose validity has passed by that day (today without --as-of) reads expired, whether or
    not the scheduler has recorded the expiry yet (`expiry_recorded` says which).
    """
    from domain.enterprise import Enterprise
    from service_layer.commands import today

    lang = _lang(lang)
    day = parse_date(as_of, "--as-of") if as_of else None
    _, events = _stream(ctx, uscc)
    enterprise = Enterprise.load(events, as_of=day)
    on = day or today(services(ctx).settings.timezone)
    if as_json:
        print_json(enterprise.status_json(on))
    else:
        _print_status(enterprise, lang, day, on)


def _print_status(ent: Enterprise, lang: str, as_of: date | None, on: date) -> None:
    from rich.table import Table

    from domain.reference import label, tracks

    head = HEAD["zh" if lang == "zh" else "en"]
    district = label(ent.district or "", lang, namespace="district")
    when = f" as of {as_of.isoformat()}" if as_of else ""
    table = Table(title=f"{ent.uscc} {ent.name} ({district}){when}")
    for column in head[:4]:
        table.add_column(column)
    for track in tracks():
        title = ent.titles.get(track)
        if title is None:
            continue
        state = label(title.state_on(on), lang, namespace="state", kind="qualification")
        if title.lapsed_unrecorded(on):
            state += " (未登记)" if lang == "zh" else " (not yet recorded)"
        table.add_row(
            label(track, lang, namespace="track"),
            state,
            title.certified_on.isoformat() if title.certified_on else "-",
            title.valid_until.isoformat() if title.valid_until else "-",
        )
    console = plain_console()
    console.print(table)
    size = (SIZE_ZH.get(ent.size, ent.size) if lang == "zh" else ent.size) if ent.size else "-"
    size_head, department_head = ("规模", "主管部门") if lang == "zh" else ("size", "department")
    console.print(f"{size_head}: {size}   {department_head}: {ent.department or '-'}")
    stage = label(ent.listing.stage, lang, namespace="state", kind="listing")
    since = f" ({ent.listing.since.isoformat()})" if ent.listing.since else ""
    console.print(f"{head[4]}: {stage}{since}")


def details_before(events: list[RecordedEvent]) -> dict[str, dict[str, str | None]]:
    """For each details change: the value each field it sets had on its date, before it.

    Taken from the registration and the changes recorded before it (retracted ones left out).
    """
    from domain.details import DetailsHistory, change_of

    gone = {e.data["retracted_event_id"] for e in events if e.event_type == "EventRetracted"}
    history = DetailsHistory()
    before: dict[str, dict[str, str | None]] = {}
    for e in events:
        if e.event_type not in ("EnterpriseRegistered", "EnterpriseDetailsChanged") or e.event_id in gone:
            continue
        change = change_of(e.event_id, e.occurred_on, e.data)
        if e.event_type == "EnterpriseDetailsChanged":
            then = history.on(e.occurred_on)
            before[e.event_id] = {k: then.get(k) for k, _ in change.fields}
        history = history.with_change(change)
    return before


def history_document(uscc: str, name: str | None, events: list[RecordedEvent]) -> dict[str, Any]:
    """`history --json`: every event of the stream in order, each retraction linked both ways.

    A details change also carries ``"previous"``: each field it sets as it stood on its date.
    """
    retracted_by = {e.data["retracted_event_id"]: e for e in events if e.event_type == "EventRetracted"}
    previous = details_before(events)
    entries = []
    for e in events:
        by = retracted_by.get(e.event_id)
        extra = {"previous": previous[e.event_id]} if e.event_id in previous else {}
        entries.append(
            {
                "event_id": e.event_id,
                "position": e.position,
                "stream_version": e.stream_version,
                "type": e.event_type,
                "schema_version": e.schema_version,
                "occurred_on": e.occurred_on.isoformat(),
                "recorded_at": e.recorded_at.isoformat(),
                "actor": e.actor,
                "causation_id": e.causation_id,
                "correlation_id": e.correlation_id,
                "data": e.data,
                "retracts": e.data.get("retracted_event_id") if e.event_type == "EventRetracted" else None,
                "retracted_by": None
                if by is None
                else {
                    "event_id": by.event_id,
                    "reason": by.data.get("reason"),
                    "occurred_on": by.occurred_on.isoformat(),
                    "recorded_at": by.recorded_at.isoformat(),
                    "actor": by.actor,
                },
                **extra,
            }
        )
    return {"uscc": uscc, "name": name, "events": entries}


def summary(event: RecordedEvent, lang: str = "en", previous: dict[str, str | None] | None = None) -> str:
    """One readable line of what an event says (a details change: old → new, given ``previous``)."""
    from domain.reference import label

    d, kind = event.data, event.event_type
    if kind == "EnterpriseDetailsChanged":
        was = previous or {}
        parts = []
        for key in ("name", "district", "department", "size"):
            if d.get(key) is None:
                continue
            old, new = was.get(key), str(d[key])
            if key == "district":
                old = None if old is None else label(old, lang, namespace="district")
                new = label(new, lang, namespace="district")
            parts.append(f"{key} {old if old is not None else '-'} → {new}")
        return ", ".join(parts)
    if kind == "MilestoneRecorded":
        text = f"{label(d['track'], lang, namespace='track')}.{label(d['action'], lang, namespace='action')}"
        ref = f" ref {d['ref']}" if d.get("ref") else ""
        override = f" override: {d['override_reason']}" if d.get("override_reason") else ""
        return text + ref + override
    if kind == "EnterpriseRegistered":
        return f"{d['name']} ({label(d['district'], lang, namespace='district')})"
    if kind == "EventRetracted":
        return f"retracts {d['retracted_event_id']}: {d['reason']}"
    skip = {"uscc", "explanation", "policy", "responsible_units", "entitlement_id", "trigger_event_id"}
    return ", ".join(f"{k}={v}" for k, v in d.items() if k not in skip and v not in (None, "", []))


@guarded
def history(
    ctx: typer.Context,
    uscc: str = typer.Argument(..., metavar="USCC"),
    as_json: bool = JSON_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """Every event of the enterprise, oldest first; retractions beside what they retract."""
    from domain.enterprise import Enterprise

    lang = _lang(lang)
    code, events = _stream(ctx, uscc)
    name = Enterprise.load(events).name
    if as_json:
        print_json(history_document(code, name, events))
        return
    from rich import box
    from rich.table import Table

    head = HEAD["zh" if lang == "zh" else "en"]
    table = Table(title=f"{code} {name}", box=box.SIMPLE_HEAD)
    table.add_column(head[5], no_wrap=True)
    table.add_column(head[6], no_wrap=True)
    table.add_column(head[7], overflow="fold", min_width=12)
    table.add_column(head[8], no_wrap=True)
    table.add_column(head[9], no_wrap=True)
    retractions = {e.data["retracted_event_id"]: e for e in events if e.event_type == "EventRetracted"}
    previous = details_before(events)
    for e in events:
        if e.event_type == "EventRetracted":
            continue  # shown beside what it retracts
        by = retractions.get(e.event_id)
        style = "strike dim" if by is not None else None
        table.add_row(
            e.occurred_on.isoformat(),
            _type(e.event_type, lang),
            summary(e, lang, previous.get(e.event_id)),
            e.actor,
            e.event_id,
            style=style,
        )
        if by is not None:
            kind = f"↳ {_type(by.event_type, lang)}"
            table.add_row(by.occurred_on.isoformat(), kind, by.data["reason"], by.actor, by.event_id)
    console = plain_console()
    console.width = max(console.width, 150)  # whole event ids, one line per event, even when piped
    console.print(table)


@guarded
def machines(
    fmt: str = typer.Option("text", "--format", help="text or mermaid."),
    as_json: bool = JSON_OPTION,
    lang: str = LANG_OPTION,
) -> None:
    """The track state machines, drawn from their definitions."""
    from domain.errors import InvalidInput
    from domain.machines import diagram

    lang = _lang(lang)
    if fmt not in ("text", "mermaid"):
        raise InvalidInput(f"--format {fmt!r} is unknown; use text or mermaid")
    if as_json:
        print_json(diagram.describe(lang))
    elif fmt == "mermaid":
        typer.echo(diagram.mermaid(), nl=False)  # our own drawing, not user text
    else:
        from rich.table import Table

        table = Table(title="track state machines")
        for column in ("kind", "action", "label", "from", "to", "system only"):
            table.add_column(column)
        for row in diagram.describe(lang):
            system = "yes" if row["system_only"] else ""
            table.add_row(row["kind"], row["action"], row["label"], ", ".join(row["from"]), row["to"], system)
        plain_console().print(table)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("history")(history)
    app.command("machines")(machines)
