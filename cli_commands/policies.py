"""``srdi policy list | show KEY | activate KEY [--on DATE] [--file PATH]`` and ``srdi simulate``.

A policy is switched on by an event; activating evaluates the history it reaches and prints what
it created. A file that does not validate is refused naming the field and the reason (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli_commands.common import guarded, optional_date, print_json, services
from cli_commands.options import Json, Lang, Language
from cli_commands.output import echo

if TYPE_CHECKING:
    pass

policy_app = typer.Typer(help="District policies: what is in force, what a document says, switch one on.")


@policy_app.command("list")
@guarded
def policy_list(ctx: typer.Context, as_json: Json = False, lang: Language = Lang.en) -> None:
    """Every shipped policy and every active one, with when it was activated."""
    from domain.labels import label, sentence
    from service_layer.policies import listed

    rows = listed(services(ctx, reading=True))
    if as_json:
        print_json({"policies": rows})
        return
    for r in rows:
        state = (
            sentence("active-since", lang, on=r["activated_on"])
            if r["active"]
            else sentence("not-active", lang)
        )
        districts = ",".join(label(d, lang, namespace="district") for d in r["districts"])
        rules = sentence("rule-count", lang, n=f"{r['rules']:>2}")
        echo(f"{r['key']:<16} {state:<24} {rules}  {districts}  {r['title_zh']}")


@policy_app.command("show")
@guarded
def policy_show(
    ctx: typer.Context, key: str = typer.Argument(...), as_json: Json = False, lang: Language = Lang.en
) -> None:
    """A policy's document data: reach, rules with their articles and amounts, readings, caps."""
    from domain.labels import label, sentence
    from service_layer.policies import policy_json, shown

    policy, active = shown(services(ctx, reading=True), key)
    doc = policy_json(policy, active)
    if as_json:
        print_json(doc)
        return
    number = policy.document_number or sentence("no-number", lang)
    echo(f"{policy.key}: {policy.title_zh} ({number}, {policy.issuer_zh})")
    until = policy.in_force_until or sentence("open-ended", lang)
    between = label("names-separator", lang, namespace="text")
    districts = between.join(label(d, lang, namespace="district") for d in policy.districts)
    reach = policy.reach_from
    start = policy.in_force_from
    echo(f"  {sentence('in-force', lang, start=start, until=until, reach=reach, districts=districts)}")
    state = sentence("active-since", lang, on=active.activated_on) if active else sentence("not-active", lang)
    echo(f"  {state}")
    unstated = sentence("not-stated", lang)
    for rule in doc["rules"]:
        amount = rule["amount"] if rule["amount"] is not None else rule["formula"] or unstated
        where = sentence("article-short", lang, n=rule["article"])
        echo(f"  {rule['id']:<7} {where:<8} {rule['kind']:<13} {amount} {rule['summary']}")
    for reading in doc["readings"]:
        options = ", ".join(reading["options"])
        text = sentence("reading", lang, name=reading["name"], default=reading["default"], options=options)
        echo(f"  {text}")


@policy_app.command("activate")
@guarded
def policy_activate(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Policy key, e.g. yubei-2024."),
    on: str | None = typer.Option(None, "--on", help="Date of the activation (default today)."),
    file: Path | None = typer.Option(None, "--file", help="Activate this validated policy file instead."),
    as_json: Json = False,
) -> None:
    """Switch a policy on: one event, and every entitlement the history it reaches owes, once."""
    from service_layer.policies import activate_policy, created_entitlements

    result = activate_policy(services(ctx), key, optional_date(on, "--on"), file)
    created = created_entitlements(result)
    doc = {
        "key": result.key,
        "activated": result.activated,
        "event_id": result.event_id,
        "on": result.on,
        "digest": result.digest,
        "enterprises": result.enterprises,
        "entitlements": created,
    }
    if as_json:
        print_json(doc)
        return
    if not result.activated:
        echo(f"{key} is already active (since {result.on}, same data); nothing to do")
        return
    echo(f"activated {key} on {result.on}: event {result.event_id}")
    echo(f"  {result.enterprises} enterprises evaluated, {len(created)} entitlements created")
    for row in created:
        amount = "amount to be set" if row["amount"] is None else f"{row['amount']:,} yuan"
        echo(f"  entitlement {row['id']} {row['enterprise']} {row['rule']}: {amount}")


@guarded
def simulate(
    ctx: typer.Context,
    policy: Path = typer.Option(..., "--policy", metavar="FILE", help="A draft policy file (TOML)."),
    as_json: Json = False,
) -> None:
    """What a draft policy would owe over the whole history against the active one; writes nothing."""
    from service_layer.simulate import simulate_file

    doc = simulate_file(services(ctx, reading=True).store, policy).to_json()
    if as_json:
        print_json(doc)
        return
    from domain.policy.amounts import yuan

    against = ", ".join(a["key"] for a in doc["against"]) or "nothing active"
    echo(f"draft {doc['draft']['key']} against {against}, over {doc['enterprises']} enterprises")
    head = ("draft n", "active n", "draft fixed", "active fixed")
    echo(f"{'district':<12} {'rule':<7} {head[0]:>7} {head[1]:>8} {head[2]:>14} {head[3]:>14}")
    for r in [*doc["rows"], {"district": "total", "rule": "", **doc["totals"]}]:
        d, a = r["draft"], r["active"]
        echo(
            f"{r['district']:<12} {r['rule']:<7} {d['count']:>7} {a['count']:>8} "
            f"{yuan(d['fixed']):>14} {yuan(a['fixed']):>14}  "
            f"ceilings {yuan(d['ceilings'])} vs {yuan(a['ceilings'])}"
        )
