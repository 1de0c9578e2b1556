"""A small history with every kind of entitlement event, recorded through the real handlers on SQL.

`build_history` records, on a migrated database, Yubei and Rongchang enterprises whose milestones
and reports trigger accrued, ceiling, unstated and pending-data entitlements, a resolution, an
approval, payments and a reversal by retraction. Each step is a callable so a test can catch the
projections up between steps (incremental) and compare with a rebuild.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from typer.testing import CliRunner

import cli
from domain.commands import AnyCommand, RecordMilestone, RegisterEnterprise, ReportFinancials, Retract
from domain.policy.model import load_builtin
from domain.policy.payouts import ApproveEntitlement, PayEntitlement
from domain.uscc import make_uscc
from events.sql_store import SqlEventStore
from service_layer.activation import activate
from service_layer.policies import LiveReactor
from service_layer.unit_of_work import CommandResult, handle
from service_layer.unit_of_work import decide_on_entitlement as decide

TODAY = date(2026, 11, 1)
YB, RC = make_uscc("91500112MA5UL0001"), make_uscc("91500153MA5UL0002")
RUNNER = CliRunner()


class Office:
    """The handlers on an SQL store, with the live reactor, on a fixed day."""

    def __init__(self, engine: Engine) -> None:
        self.store = SqlEventStore(engine)
        self.reactor = LiveReactor(self.store)
        self.results: dict[str, CommandResult] = {}

    def run(self, command: AnyCommand, key: str | None = None) -> CommandResult:
        result = handle(self.store, command, today=TODAY, actor="clerk", reactor=self.reactor)
        if key is not None:
            self.results[key] = result
        return result

    def record(self, who: str, milestone: str, on: str, key: str | None = None) -> CommandResult:
        return self.run(RecordMilestone.parse(who, milestone, date.fromisoformat(on)), key)

    def entitlement(self, key: str, rule: str) -> str:
        return next(r.entitlement_id for r in self.results[key].entitlements() if r.rule == rule)

    def decide(self, who: str, command: ApproveEntitlement | PayEntitlement) -> None:
        actor = "treasury" if isinstance(command, PayEntitlement) else "finance"  # four eyes
        decide(self.store, who, command, today=TODAY, actor=actor)


def build_history(engine: Engine) -> tuple[Office, list[Callable[[], Any]]]:
    """The steps of the sample history (run them in order)."""
    o = Office(engine)

    def activate_both() -> None:
        for key in ("yubei-2024", "rongchang-2022"):
            policy = load_builtin(key)
            activate(o.store, policy, on=policy.in_force_from, today=TODAY, actor="finance")

    def yubei() -> None:
        o.run(RegisterEnterprise(uscc=YB, name="重庆渝北测试科技有限公司", district="yubei", size="medium"))
        o.record(YB, "innovative-sme.certified", "2022-01-05")
        o.record(YB, "srdi-municipal.certified", "2023-01-10", key="srdi")
        for year, revenue in ((2023, 100), (2024, 110)):
            o.run(ReportFinancials(uscc=YB, year=year, revenue=revenue, on=date(year + 1, 3, 31)))
        o.record(YB, "listing.neeq-filed", "2024-01-05", key="filed")
        o.record(YB, "srdi-municipal.review-passed", "2026-01-10", key="review")

    def resolve() -> None:
        o.run(ReportFinancials(uscc=YB, year=2025, revenue=122, on=date(2026, 4, 1)), key="fin2025")

    def rongchang() -> None:
        o.run(
            RegisterEnterprise(uscc=RC, name="重庆荣昌测试科技有限公司", district="rongchang", size="small")
        )
        o.record(RC, "innovative-sme.certified", "2021-05-01")
        o.record(RC, "srdi-municipal.certified", "2022-08-01", key="rc27b")
        o.record(RC, "listing.otc-listed", "2023-03-01", key="otc")

    def decisions() -> None:
        ceiling = o.entitlement("rc27b", "RC-27b")
        o.decide(RC, ApproveEntitlement(entitlement_id=ceiling, amount="150000", on=date(2024, 1, 10)))
        o.decide(
            RC, PayEntitlement(entitlement_id=ceiling, amount="100000", ref="荣财1", on=date(2024, 2, 1))
        )
        fixed = o.entitlement("srdi", "YB-5a")
        o.decide(YB, PayEntitlement(entitlement_id=fixed, amount="100000", ref="渝财1", on=date(2024, 5, 1)))

    def retract() -> None:
        o.run(Retract(event_id=o.results["filed"].event_id, reason="recorded in error", on=date(2026, 5, 1)))

    return o, [activate_both, yubei, resolve, rongchang, decisions, retract]


def cli_ok(db_url: str, *args: str) -> str:
    result = RUNNER.invoke(cli.app, ["--db", db_url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def cli_json(db_url: str, *args: str) -> Any:
    return json.loads(cli_ok(db_url, *args, "--json"))
