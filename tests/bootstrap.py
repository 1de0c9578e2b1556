"""One way to set up the world for a test: the product's own wiring, a store, a fake clock and notifier.

In the spirit of cosmicpython's bootstrap: `bootstrap` builds the product's `Services` (the same
wiring the CLI and the scheduler use) on an in-memory store (`events.memory`) or on a migrated
database from `tests.backends`, with the live policy reactor, and hands back an `Office`: the verbs
a test needs (add an enterprise, record, report, retract, activate a policy, approve, pay, read
the enterprise, its status and the ledger). Every write goes through the product's unit of work
(`service_layer.unit_of_work`), every read through its read façade (`service_layer.reads`); the
office only chooses the day (a `FakeClock`), who acts, and where notices go (a `FakeNotifier`:
the product's outbox channel, written to a file of the test's own).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy.engine import Engine

from domain import commands
from domain.enterprise import Enterprise, EntitlementRecord
from domain.errors import DomainError
from domain.policy.model import Policy, builtin_keys, load_builtin
from domain.policy.payouts import ApproveEntitlement, PayEntitlement
from domain.policy.reactor import ActivationResult
from domain.uscc import make_uscc
from events.envelope import RecordedEvent
from events.memory import InMemoryEventStore
from events.schemas import enterprise_stream, reminder_stream
from events.store import EventStore
from scheduler.jobs import ScanReport, scan_since_last
from service_layer import reads
from service_layer.activation import activate
from service_layer.bootstrap import Services, services_on
from service_layer.policies import locked_commit
from service_layer.settings import Settings
from service_layer.unit_of_work import (
    CommandResult,
    Reactor,
    decide_on_entitlement,
    handle,
    load,
    refresh_reactor,
)

TODAY = date(2026, 11, 1)
"""The business day an office works on unless a test moves its clock."""

NAME = "重庆测试科技有限公司"


LADDER = (
    ("innovative-sme.certified", "2021-05-01"),
    ("srdi-municipal.certified", "2022-03-01"),
    ("hnte.certified", "2022-06-01"),
    ("listing.neeq-filed", "2023-01-05"),
    ("listing.neeq-listed", "2023-06-05"),
    ("little-giant.certified", "2023-08-01"),
    ("listing.neeq-select", "2024-03-05"),
    ("srdi-municipal.review-passed", "2025-03-01"),
    ("little-giant.review-passed", "2026-08-01"),
)
"""One enterprise's climb, step by step (`Office.climb(who, *LADDER[:n])`): each milestone legal after
the ones before it, each title's prerequisite held, every date before `TODAY`."""


def uscc(n: int, division: str = "500000") -> str:
    """A valid USCC numbered ``n`` (GB 32100 check character computed), distinct per ``n``."""
    return make_uscc(f"91{division}MA{n:07d}")


@dataclass
class FakeClock:
    """The business day, set by the test instead of read from the wall clock."""

    today: date = TODAY

    def advance(self, days: int = 1) -> date:
        self.today += timedelta(days=days)
        return self.today


@dataclass
class FakeNotifier:
    """Where the scheduler's notices go: the product's outbox channel, into a file of the test's."""

    path: Path

    def channels(self) -> dict[str, Any]:
        """The settings that route every notice here (and to the log)."""
        return {"notify_channels": ("log", "outbox"), "outbox_path": self.path}

    def environment(self) -> dict[str, str]:
        """The same, for a `srdi scheduler` process of the test's."""
        return {"SRDI_NOTIFY_CHANNELS": '["log", "outbox"]', "SRDI_OUTBOX_PATH": str(self.path)}

    def sent(self) -> list[dict[str, Any]]:
        """Every notice delivered so far, in order."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]


class Inbox:
    """Where a real SMTP server on loopback delivers (an aiosmtpd handler): every delivery's
    envelope recipients and parsed message."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def snapshot(store: EventStore) -> list[tuple[str, str, int]]:
    """Everything a store holds, in a comparable form."""
    return [(e.event_id, e.stream_id, e.stream_version) for e in store.read_all()]


@dataclass
class Office:
    """A district office on one store: clerks record, finance approves, the treasury pays."""

    services: Services
    clock: FakeClock
    notifier: FakeNotifier | None = None
    reactor: Reactor | None = None
    actor: str = "clerk"
    vouchers: int = 0
    results: dict[str, CommandResult] = field(default_factory=dict)

    @property
    def store(self) -> EventStore:
        store: EventStore = self.services.store
        return store

    @property
    def today(self) -> date:
        return self.clock.today

    @property
    def engine(self) -> Engine:
        """The database (an office on the in-memory store has none)."""
        engine: Engine = self.services.engine
        return engine

    # ── writes: the product's unit of work ────────────────────────────────────────────────────
    def run(
        self, command: commands.AnyCommand, *, system: bool = False, key: str | None = None
    ) -> CommandResult:
        """One command through `handle`; ``key`` keeps its result for `entitlement`."""
        result = handle(
            self.store, command, today=self.today, actor=self.actor, reactor=self.reactor, system=system
        )
        if key is not None:
            self.results[key] = result
        return result

    def register(
        self,
        who: str,
        district: str = "yubei",
        size: str | None = "small",
        *,
        name: str = NAME,
        **more: Any,
    ) -> CommandResult:
        """`srdi enterprise add`."""
        command = commands.RegisterEnterprise(uscc=who, name=name, district=district, size=size, **more)
        return self.run(command)

    def add_enterprise(self, n: int, district: str = "yubei", **more: Any) -> str:
        """`srdi enterprise add` of enterprise number ``n`` (`uscc(n)`) on 2 January 2019; its USCC."""
        who = uscc(n)
        self.register(who, district, name=f"测试企业{n}", on=date(2019, 1, 2), **more)
        return who

    def record(
        self, who: str, milestone: str, on: str | date, *, key: str | None = None, **more: Any
    ) -> CommandResult:
        """`srdi record WHO TRACK.ACTION --on DAY`."""
        return self.run(commands.RecordMilestone.parse(who, milestone, _day(on), **more), key=key)

    def climb(self, who: str, *steps: tuple[str, str]) -> list[CommandResult]:
        """Several milestones in order: ``("innovative-sme.certified", "2021-05-01"), ...``."""
        return [self.record(who, milestone, on) for milestone, on in steps]

    def financials(
        self,
        who: str,
        year: int,
        revenue: Any,
        rd: Any = None,
        on: str | None = None,
        *,
        key: str | None = None,
    ) -> CommandResult:
        """`srdi report WHO financials` (filed on 31 March of the next year unless told)."""
        day = _day(on) if on else date(year + 1, 3, 31)
        return self.run(
            commands.ReportFinancials(uscc=who, year=year, revenue=revenue, rd_expense=rd, on=day), key=key
        )

    def lease(
        self, who: str, year: int, area: Any, rent: Any, owner: str = "state", months: int = 12
    ) -> CommandResult:
        """`srdi report WHO lease` (filed on 30 June of the year)."""
        terms = {"area_m2": area, "rent_per_m2_month": rent, "months": months, "owner": owner}
        return self.run(commands.ReportLease(uscc=who, year=year, on=date(year, 6, 30), **terms))

    def talent(self, who: str, person: str, year: int, contribution: Any) -> CommandResult:
        command = commands.ReportTalent(
            uscc=who, person=person, year=year, contribution=contribution, on=date(year + 1, 3, 31)
        )
        return self.run(command)

    def rd_subsidy(self, who: str, year: int, amount: Any) -> CommandResult:
        return self.run(commands.ReportRdSubsidy(uscc=who, year=year, amount=amount, on=date(year, 10, 1)))

    def patent(self, who: str, number: str, on: str) -> CommandResult:
        return self.run(commands.ReportPatent(uscc=who, number=number, on=_day(on)))

    def demonstration(self, who: str, year: int, on: str) -> CommandResult:
        return self.run(commands.RecordDemonstration(uscc=who, year=year, on=_day(on)))

    def retract(
        self, event_id: str, on: str | None = None, reason: str = "recorded in error"
    ) -> CommandResult:
        return self.run(commands.Retract(event_id=event_id, reason=reason, on=_day(on) if on else None))

    def activate(self, key: str | Policy, on: date | None = None) -> ActivationResult:
        """`srdi policy activate KEY` (on its in-force date unless told), as finance; the office's
        next command sees the policy (as the product's `activate_policy` refreshes its reactor)."""
        policy = load_builtin(key) if isinstance(key, str) else key
        store = self.store
        result = activate(
            store,
            policy,
            on=on or policy.in_force_from,
            today=self.today,
            actor="finance",
            commit=locked_commit(store),
        )
        refresh_reactor(self.reactor)
        return result

    def activate_all(self) -> list[ActivationResult]:
        """Every shipped policy, each on its in-force date (what `srdi demo` does first)."""
        return [self.activate(key) for key in builtin_keys()]

    def approve(
        self, who: str, entitlement_id: str, amount: Any, on: str | date | None = None
    ) -> EntitlementRecord:
        """`srdi entitlement approve`, as finance."""
        command = ApproveEntitlement(
            entitlement_id=entitlement_id, amount=amount, on=_day(on) if on else None
        )
        return self._decide(who, command, "finance")

    def pay(
        self,
        who: str,
        entitlement_id: str,
        amount: Any,
        on: str | date,
        ref: str | None = None,
        payer: str = "treasury",
    ) -> EntitlementRecord:
        """One payment, by someone other than the approver; its own voucher unless ``ref`` names one."""
        if ref is None:
            self.vouchers += 1
            ref = f"渝北财拨〔2025〕{self.vouchers}号"
        command = PayEntitlement(entitlement_id=entitlement_id, amount=amount, ref=ref, on=_day(on))
        return self._decide(who, command, payer)

    def _decide(
        self, who: str, command: ApproveEntitlement | PayEntitlement, actor: str
    ) -> EntitlementRecord:
        found = decide_on_entitlement(
            self.store, who, command, today=self.today, actor=actor, reactor=self.reactor
        )
        return found[1]

    def scan(self, day: date) -> ScanReport:
        """The scheduler's daily scan on ``day`` (covering every day since the last one): reminders
        issued, lapses recorded, notices sent to the office's notifier."""
        return scan_since_last(self.services, day)

    # ── reads ────────────────────────────────────────────────────────────────────────────────
    def load(self, who: str, **when: Any) -> Enterprise:
        """The enterprise as the log knows it now (the unit of work's own fold), or ``as_of`` a day
        or as ``recorded_before`` an instant."""
        return Enterprise.load(self.stream(who), **when) if when else load(self.store, who)

    def stream(self, who: str) -> list[RecordedEvent]:
        return self.store.read_stream(enterprise_stream(who))

    def entitlements(self, who: str, rule: str | None = None) -> list[EntitlementRecord]:
        found = self.load(who).entitlements.values()
        return [r for r in found if rule is None or r.rule == rule]

    def one(self, who: str, rule: str) -> EntitlementRecord:
        """The single entitlement of ``rule`` (fails naming what there is otherwise)."""
        found = self.entitlements(who, rule)
        assert len(found) == 1, f"{rule}: {[(r.rule, r.status) for r in self.entitlements(who)]}"
        return found[0]

    def entitlement(self, key: str, rule: str) -> str:
        """The id of the entitlement of ``rule`` that the command kept as ``key`` created or changed."""
        return next(r.entitlement_id for r in self.results[key].entitlements() if r.rule == rule)

    def milestones(self, who: str, action: str) -> list[tuple[str, date, str]]:
        """(track, date, actor) of an enterprise's milestones of one action, in order."""
        return [
            (e.data["track"], e.occurred_on, e.actor)
            for e in self.stream(who)
            if e.event_type == "MilestoneRecorded" and e.data["action"] == action
        ]

    def reminders(self, who: str) -> list[tuple[str, int, int]]:
        """(track, threshold, days_left) of every reminder the scheduler recorded for an enterprise."""
        return [
            (e.data["track"], e.data["threshold"], e.data["days_left"])
            for e in self.store.read_stream(reminder_stream(who))
        ]

    def status(self, who: str, **when: Any) -> reads.StatusView:
        """`srdi status` through the read façade (a database office only)."""
        return reads.enterprise_status(self.services, who, **when)

    def ledger(self, **filters: Any) -> reads.LedgerReading:
        """`srdi ledger` through the read façade (a database office only)."""
        return reads.ledger(self.services, **filters)

    def refused(self, action: Callable[[], Any], match: str) -> DomainError:
        """The action is refused in one line matching ``match``, and nothing is written."""
        before = snapshot(self.store)
        with pytest.raises(DomainError, match=match) as caught:
            action()
        assert "\n" not in str(caught.value)
        assert snapshot(self.store) == before
        return caught.value


def bootstrap(
    engine: Engine | None = None,
    *,
    url: str | None = None,
    store: EventStore | None = None,
    today: date = TODAY,
    reactor: Reactor | Literal["live"] | None = "live",
    notifier: FakeNotifier | None = None,
    **settings: Any,
) -> Office:
    """An office on ``engine`` (a migrated test database), on the database at ``url`` (migrated when
    first opened, as the CLI does) or, without either, on ``store`` or a new in-memory store; the
    product's live policy reactor unless ``reactor`` says otherwise; ``settings`` as the product's."""
    if notifier is not None:
        settings = {**notifier.channels(), **settings}
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        services = services_on(engine, Settings(database_url=url, **settings))
    elif url is not None:
        services = Services(Settings(database_url=url, **settings))
    else:  # the in-memory store has no database: a read of a view needs one
        services = Services(Settings(database_url="sqlite://", **settings))
        store = store if store is not None else InMemoryEventStore()
    if store is not None:
        services.__dict__["store"] = store  # the cached_property's slot, as `services_on` sets the engine
    chosen: Reactor | None = services.reactor if isinstance(reactor, str) else reactor
    return Office(services, FakeClock(today), notifier, chosen)


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def owed(record: EntitlementRecord) -> tuple[Decimal | None, str, bool]:
    """(amount, status, ceiling) of an entitlement as it stands."""
    return record.amount, str(record.status), record.ceiling
