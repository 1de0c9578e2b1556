"""Hypothesis: after any sequence of commands with corrections, the books equal the books computed afresh.

A `RuleBasedStateMachine` over the SQL store (SQLite and PostgreSQL) drives registrations,
milestones, reports, restatements (a second report for the same period), retractions of figures
and milestones, approvals, payments and policy activations through the real handlers. After every
step, for each enterprise, the ledger reached incrementally (the ledger projection's own fold of
the stored entitlement events) must equal the ledger computed from scratch: the entitlement
events stripped, what the final facts owe derived afresh (`engine.derive`) under the active
policies, and the approvals and payments laid back on it. Compared: every entry that is not a
bare reversal, by id — rule, amount, ceiling, status, approved, paid and recovery.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy.engine import Engine

from domain import commands
from domain.enterprise import RETRACTABLE_TYPES, Enterprise
from domain.entitlement_status import standing
from domain.errors import DomainError
from domain.policy.decisions import CreateEntitlement
from domain.policy.engine import derive
from domain.policy.facts import build_facts
from events.envelope import RecordedEvent
from events.store import EventStore
from projections.ledger import Entry
from service_layer.activation import read_active
from tests.backends import fresh_engine
from tests.bootstrap import LADDER, TODAY, bootstrap
from tests.reliability.support import uscc

DERIVED = ("EntitlementCreated", "EntitlementResolved", "EntitlementAdjusted", "EntitlementReversed")
DISTRICTS = ("yubei", "rongchang", "jiangjin")
EXAMPLES = iter(range(1, 10**6))
"""Each example gets enterprises of its own: the log is append-only, so it is never wiped."""
POLICIES = ("yubei-2024", "rongchang-2022", "jiangjin-2022")
years = st.integers(2020, 2025)
enterprises = st.integers(0, len(DISTRICTS) - 1)
revenues = st.sampled_from([Decimal(v) for v in (8_000_000, 10_000_000, 11_000_000, 13_000_000, 20_000_000)])
rd = st.sampled_from([None, Decimal(0), Decimal(2_000_000), Decimal(3_000_000), Decimal(12_000_000)])
fractions = st.sampled_from([Decimal("0.5"), Decimal(1)])


def books_from_scratch(store: EventStore, who: str) -> dict[str, tuple[Any, ...]]:
    """The ledger computed afresh from the final facts, approvals and payments (no derived event read)."""
    stream = store.read_stream(f"enterprise-{who}")
    facts_only = [e for e in stream if e.event_type not in DERIVED]
    enterprise = Enterprise.load(facts_only)
    approved: dict[str, Decimal] = {}
    paid: dict[str, Decimal] = {}
    for e in facts_only:
        key = e.data.get("entitlement_id")
        if e.event_type == "EntitlementApproved":
            approved[str(key)] = Decimal(str(e.data["amount"]))
        elif e.event_type == "EntitlementPaid":
            paid[str(key)] = paid.get(str(key), Decimal(0)) + Decimal(str(e.data["amount"]))
    facts = build_facts(enterprise)
    owed: dict[str, tuple[Any, ...]] = {}
    for active in read_active(store)[0].values():
        for d in derive(active.policy, facts, approved).decisions:
            assert isinstance(d, CreateEntitlement)
            owed[d.id] = (d.rule, d.status, d.amount, d.ceiling)
    books: dict[str, tuple[Any, ...]] = {}
    rules = {
        str(e.data["entitlement_id"]): e.data["rule"] for e in stream if e.event_type == "EntitlementCreated"
    }
    for key in {*owed, *approved, *paid}:
        rule, decided, amount, ceiling = owed.get(key, (rules.get(key), "reversed", None, False))
        s = standing(decided, amount, ceiling, approved.get(key), paid.get(key, Decimal(0)))
        if s.status != "reversed":
            books[key] = (
                rule,
                s.status,
                amount,
                ceiling,
                approved.get(key),
                paid.get(key, Decimal(0)),
                s.recovery_amount,
            )
    return books


def books_incremental(stream: list[RecordedEvent]) -> dict[str, tuple[Any, ...]]:
    """The ledger projection's fold of the entitlement events as stored."""
    entries: dict[str, Entry] = {}
    for e in stream:
        if not e.event_type.startswith("Entitlement"):
            continue
        key = str(e.data["entitlement_id"])
        if e.event_type == "EntitlementCreated":
            entries[key] = Entry.created(e)
        else:
            entries[key].apply(e)
    books: dict[str, tuple[Any, ...]] = {}
    for key, entry in entries.items():
        s = entry.state()
        if s.status != "reversed":
            books[key] = (entry.rule, s.status, s.amount, s.ceiling, s.approved, s.paid, s.recovery)
    return books


class Corrections(RuleBasedStateMachine):
    """Three enterprises, one per district with money rules; commands with corrections."""

    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.office = bootstrap(self.engine)
        self.store = self.office.store
        for key in POLICIES[:2]:  # the third is activated by a rule, mid-way
            self.office.activate(key, on=date(2026, 1, 5))
        self.active: set[str] = set(read_active(self.store)[0])
        n = next(EXAMPLES)
        self.who = [uscc("CRR", n * 10 + i) for i in range(len(DISTRICTS))]
        for who, district in zip(self.who, DISTRICTS, strict=True):
            self._run(
                commands.RegisterEnterprise(
                    uscc=who, name=f"企业{who[-3:]}", district=district, size="small", on=date(2020, 1, 2)
                )
            )

    def _run(self, command: commands.AnyCommand) -> None:
        with contextlib.suppress(DomainError):
            self.office.run(command)

    def _facts(self, who: str) -> list[RecordedEvent]:
        stream = self.store.read_stream(f"enterprise-{who}")
        gone = {e.data["retracted_event_id"] for e in stream if e.event_type == "EventRetracted"}
        return [e for e in stream if e.event_type in RETRACTABLE_TYPES and e.event_id not in gone]

    @rule(n=enterprises)
    def climb(self, n: int) -> None:
        """The enterprise's next milestone up the ladder (a retracted one may be recorded again)."""
        who = self.who[n]
        done = {
            f"{e.data['track']}.{e.data['action']}"
            for e in self._facts(who)
            if e.event_type == "MilestoneRecorded"
        }
        step = next(((m, on) for m, on in LADDER if m not in done), None)
        if step is not None:
            self._run(commands.RecordMilestone.parse(who, step[0], date.fromisoformat(step[1])))

    @rule(n=enterprises, year=years, revenue=revenues, rd_expense=rd)
    def financials(self, n: int, year: int, revenue: Decimal, rd_expense: Decimal | None) -> None:
        who = self.who[n]
        self._run(
            commands.ReportFinancials(
                uscc=who, year=year, revenue=revenue, rd_expense=rd_expense, on=date(year + 1, 3, 1)
            )
        )

    @rule(
        n=enterprises,
        year=years,
        area=st.sampled_from([500, 2000, 9000]),
        owner=st.sampled_from(["state", "private"]),
    )
    def lease(self, n: int, year: int, area: int, owner: str) -> None:
        who = self.who[n]
        self._run(
            commands.ReportLease(
                uscc=who,
                year=year,
                area_m2=area,
                rent_per_m2_month=30,
                months=12,
                owner=owner,
                on=date(year + 1, 2, 1),
            )
        )

    @rule(n=enterprises, year=years, amount=st.sampled_from([100_000, 300_000]))
    def rd_subsidy(self, n: int, year: int, amount: int) -> None:
        who = self.who[n]
        self._run(commands.ReportRdSubsidy(uscc=who, year=year, amount=amount, on=date(year + 1, 4, 1)))

    @rule(n=enterprises, year=years, person=st.sampled_from(["P1", "P2"]))
    def talent(self, n: int, year: int, person: str) -> None:
        who = self.who[n]
        self._run(
            commands.ReportTalent(
                uscc=who, person=person, year=year, contribution=10_000, on=date(year + 1, 1, 15)
            )
        )

    @rule(n=enterprises, pick=st.integers(0, 50))
    def retract(self, n: int, pick: int) -> None:
        who = self.who[n]
        facts = self._facts(who)
        if facts:
            target = facts[pick % len(facts)]
            self._run(commands.Retract(event_id=target.event_id, reason="recorded in error", on=TODAY))

    @rule(n=enterprises, pick=st.integers(0, 50), part=fractions)
    def approve(self, n: int, pick: int, part: Decimal) -> None:
        who = self.who[n]
        ent = Enterprise.load(self.store.read_stream(f"enterprise-{who}"))
        open_ = [
            r
            for r in ent.entitlements.values()
            if r.status == "awaiting-approval" and r.created.get("kind") != "tax-relief"
        ]
        if open_:
            record = open_[pick % len(open_)]
            amount = ((record.amount or Decimal(100_000)) * part).quantize(Decimal("0.01"))
            with contextlib.suppress(DomainError):
                self.office.approve(who, record.entitlement_id, amount, on=TODAY)

    @rule(n=enterprises, pick=st.integers(0, 50), part=fractions)
    def pay(self, n: int, pick: int, part: Decimal) -> None:
        who = self.who[n]
        ent = Enterprise.load(self.store.read_stream(f"enterprise-{who}"))
        payable = [r for r in ent.entitlements.values() if r.status in ("accrued", "approved", "partly-paid")]
        if payable:
            record = payable[pick % len(payable)]
            limit = record.approved_amount if record.approved_amount is not None else record.amount
            left = (limit or Decimal(0)) - record.paid_amount
            amount = (left * part).quantize(Decimal("0.01"))
            if amount > 0:
                with contextlib.suppress(DomainError):
                    self.office.pay(who, record.entitlement_id, amount, on=TODAY, ref=f"V-{pick}")

    @rule(key=st.sampled_from(POLICIES))
    def activate_policy(self, key: str) -> None:
        if key not in self.active:
            self.office.activate(key, on=TODAY - timedelta(days=1))
            self.active.add(key)

    @invariant()
    def incremental_equals_from_scratch(self) -> None:
        for who in self.who:
            stream = self.store.read_stream(f"enterprise-{who}")
            assert books_incremental(stream) == books_from_scratch(self.store, who), who


def test_books_after_corrections_equal_books_from_scratch(backend: str, tmp_path: Path) -> None:
    """Any sequence of commands with corrections leaves the books computed afresh on the final facts."""
    examples = 25 if backend == "sqlite" else 10
    with fresh_engine(backend, tmp_path) as engine:

        class OnThisBackend(Corrections):
            def __init__(self) -> None:
                self.engine = engine
                super().__init__()

        run_state_machine_as_test(
            OnThisBackend,
            settings=settings(
                max_examples=examples,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
