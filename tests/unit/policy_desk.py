"""A finance desk for policy tests: the real handlers, the live reactor and activation, in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.commands import (
    AnyCommand,
    RecordDemonstration,
    RecordMilestone,
    RegisterEnterprise,
    ReportFinancials,
    ReportLease,
    ReportPatent,
    ReportRdSubsidy,
    ReportTalent,
    Retract,
)
from domain.enterprise import Enterprise, EntitlementRecord
from domain.errors import DomainError
from domain.policy.activation import ActivationResult
from domain.policy.model import Policy, load_builtin
from domain.policy.payouts import ApproveEntitlement, PayEntitlement
from domain.uscc import make_uscc
from events.memory import InMemoryEventStore
from service_layer.activation import activate
from service_layer.policies import LiveReactor
from service_layer.unit_of_work import CommandResult, handle
from service_layer.unit_of_work import decide_on_entitlement as decide

TODAY = date(2026, 11, 1)


def uscc(n: int, division: str = "500112") -> str:
    """A valid USCC numbered `n` (check digit computed)."""
    return make_uscc(f"91{division}MA5UP{n:03d}A"[:17])


def snapshot(store: InMemoryEventStore) -> list[tuple[str, str, int]]:
    return [(e.event_id, e.stream_id, e.stream_version) for e in store.read_all()]


@dataclass
class Desk:
    """One store, one day; commands go through `handle` with the live policy reactor."""

    store: InMemoryEventStore = field(default_factory=InMemoryEventStore)
    today: date = TODAY
    vouchers: int = 0

    def __post_init__(self) -> None:
        self.reactor = LiveReactor(self.store)

    def activate(self, key: str | Policy, on: date | None = None) -> ActivationResult:
        policy = load_builtin(key) if isinstance(key, str) else key
        return activate(self.store, policy, on=on or policy.in_force_from, today=self.today, actor="finance")

    def run(self, command: AnyCommand) -> CommandResult:
        return handle(self.store, command, today=self.today, actor="clerk", reactor=self.reactor)

    def register(self, who: str, district: str, size: str | None = "small") -> CommandResult:
        return self.run(
            RegisterEnterprise(uscc=who, name="重庆测试科技有限公司", district=district, size=size)
        )

    def record(self, who: str, milestone: str, on: str) -> CommandResult:
        return self.run(RecordMilestone.parse(who, milestone, date.fromisoformat(on)))

    def climb(self, who: str, *steps: tuple[str, str]) -> list[CommandResult]:
        return [self.record(who, milestone, on) for milestone, on in steps]

    def financials(
        self, who: str, year: int, revenue: Any, rd: Any = None, on: str | None = None
    ) -> CommandResult:
        day = date.fromisoformat(on) if on else date(year + 1, 3, 31)
        return self.run(ReportFinancials(uscc=who, year=year, revenue=revenue, rd_expense=rd, on=day))

    def lease(
        self, who: str, year: int, area: Any, rent: Any, owner: str = "state", months: int = 12
    ) -> CommandResult:
        command = ReportLease(
            uscc=who,
            year=year,
            area_m2=area,
            rent_per_m2_month=rent,
            months=months,
            owner=owner,
            on=date(year, 6, 30),
        )
        return self.run(command)

    def talent(self, who: str, person: str, year: int, contribution: Any) -> CommandResult:
        command = ReportTalent(
            uscc=who, person=person, year=year, contribution=contribution, on=date(year + 1, 3, 31)
        )
        return self.run(command)

    def rd_subsidy(self, who: str, year: int, amount: Any) -> CommandResult:
        return self.run(ReportRdSubsidy(uscc=who, year=year, amount=amount, on=date(year, 10, 1)))

    def patent(self, who: str, number: str, on: str) -> CommandResult:
        return self.run(ReportPatent(uscc=who, number=number, on=date.fromisoformat(on)))

    def demonstration(self, who: str, year: int, on: str) -> CommandResult:
        return self.run(RecordDemonstration(uscc=who, year=year, on=date.fromisoformat(on)))

    def retract(self, event_id: str, on: str | None = None) -> CommandResult:
        day = date.fromisoformat(on) if on else None
        return self.run(Retract(event_id=event_id, reason="recorded in error", on=day))

    def approve(self, who: str, entitlement_id: str, amount: Any, on: str | None = None) -> EntitlementRecord:
        day = date.fromisoformat(on) if on else None
        command = ApproveEntitlement(entitlement_id=entitlement_id, amount=amount, on=day)
        return decide(self.store, who, command, today=self.today, actor="finance")[1]

    def pay(
        self,
        who: str,
        entitlement_id: str,
        amount: Any,
        on: str,
        ref: str | None = None,
        payer: str = "treasury",
    ) -> EntitlementRecord:
        """One payment; each gets its own voucher unless ``ref`` names one (one voucher, one payment)."""
        if ref is None:
            self.vouchers += 1
            ref = f"渝北财拨〔2025〕{self.vouchers}号"
        command = PayEntitlement(
            entitlement_id=entitlement_id, amount=amount, ref=ref, on=date.fromisoformat(on)
        )
        return decide(self.store, who, command, today=self.today, actor=payer)[1]

    def load(self, who: str) -> Enterprise:
        return Enterprise.load(self.store.read_stream(f"enterprise-{who}"))

    def entitlements(self, who: str, rule: str | None = None) -> list[EntitlementRecord]:
        found = self.load(who).entitlements.values()
        return [r for r in found if rule is None or r.rule == rule]

    def one(self, who: str, rule: str) -> EntitlementRecord:
        found = self.entitlements(who, rule)
        assert len(found) == 1, f"{rule}: {[(r.rule, r.status) for r in self.entitlements(who)]}"
        return found[0]


def owed(record: EntitlementRecord) -> tuple[Decimal | None, str, bool]:
    """(amount, status, ceiling) of an entitlement as it stands."""
    return record.amount, str(record.status), record.ceiling


def refused(desk: Desk, action: Callable[[], Any], match: str) -> None:
    """The action is refused with a one-line message matching `match`, and nothing is written."""
    before = snapshot(desk.store)
    with pytest.raises(DomainError, match=match) as caught:
        action()
    assert "\n" not in str(caught.value)
    assert snapshot(desk.store) == before
