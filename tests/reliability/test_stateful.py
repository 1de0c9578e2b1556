"""Hypothesis drives every command through the real handlers and policy engine; the books stay right.

A `RuleBasedStateMachine` over an `InMemoryEventStore` with every shipped policy active (the live
reactor, as the CLI wires it): five enterprises, one per district, get registrations, milestones,
all six kinds of report, retractions, approvals and payments, with arguments that are mostly valid
and sometimes not. After every step:

- a refused command wrote nothing; an accepted one appended exactly its events and reactions;
- folding each stream again gives the state the handler returned; every title and listing stage
  is a state of its machine, reached by the actions recorded;
- no entitlement without a trigger: each names a fact event of its own stream, recorded before it,
  and one whose trigger was retracted is reversed;
- each amount is what its rule says (fixed, by track, or under a cap, which the note then names),
  caps and yearly caps are never exceeded, approvals stay within ceilings, payments within what
  is approved or owed;
- the ledger (the projection's own fold of the same events) agrees with the aggregate on every
  entitlement, and its totals are the sums over the entitlements by status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, currently_in_test_context, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain import commands, machines, reference
from domain.enterprise import RETRACTABLE_TYPES, Enterprise, EntitlementRecord
from domain.errors import DomainError
from domain.memberships import MembershipState
from domain.policy.model import Policy, RentAreaMonths, builtin_keys, load_builtin
from domain.titles import TitleState
from events.envelope import RecordedEvent
from projections.ledger import ZERO, Entry
from projections.ledger_view import totals, view_of
from tests.bootstrap import LADDER, TODAY, bootstrap, snapshot
from tests.reliability.support import DISTRICTS, uscc

FIRST_DAY = date(2019, 1, 1)
WHO = [uscc("HYP", n) for n in range(len(DISTRICTS))]
HOME = dict(zip(WHO, DISTRICTS, strict=True))
TRACKS = list(reference.tracks())
COMMON_ACTIONS = {
    "qualification": ["applied", "certified", "certified", "review-passed", "review-failed", "revoked"],
    "listing": list(reference.actions_for("listing")),
    "pool": ["admitted", "left", "admitted"],
    "designation": ["certified", "revoked", "certified"],
}
CLOSED = ("reversed", "not-eligible")
UNKNOWN = (WHO[0], EntitlementRecord("no-such-entitlement", amount=Decimal(1000)))

days = st.integers(0, (TODAY - FIRST_DAY).days + 30).map(lambda n: FIRST_DAY + timedelta(days=n))
enterprises = st.sampled_from(WHO)
money = st.one_of(st.integers(1, 5_000_000), st.decimals("0.01", "9999999", places=2))
fractions = st.sampled_from(["0.25", "0.5", "1", "1", "1.01", "3"]).map(Decimal)


class Books(RuleBasedStateMachine):
    """Five enterprises under every shipped policy; random commands; the invariants of the module."""

    def __init__(self) -> None:
        super().__init__()
        self.office = bootstrap()
        self.store = self.office.store
        self.policies: dict[str, Policy] = {key: load_builtin(key) for key in builtin_keys()}
        for policy in self.policies.values():
            self.office.activate(policy)
        self.states: dict[str, Enterprise] = {}
        self.accepted: dict[str, int] = {}
        for who in WHO[:-1]:  # the last one is left for the register rule
            self.register(who, False, "small")

    # ── running a command ──────────────────────────────────────────────────────────────────
    def _attempt(self, kind: str, run: Callable[[], tuple[str, Enterprise | None]]) -> None:
        """Run; a refusal must write nothing, an acceptance append only to its own stream."""
        before = snapshot(self.store)
        try:
            who, state = run()
        except DomainError as error:
            assert "\n" not in str(error)
            assert snapshot(self.store) == before, f"a refused {kind} wrote something"
            return
        after = snapshot(self.store)
        assert after[: len(before)] == before, "nothing stored is ever changed"
        assert {stream for _, stream, _ in after[len(before) :]} == {f"enterprise-{who}"}
        if state is not None:
            self.states[who] = state
        else:
            self.states.pop(who, None)
        self.accepted[kind] = self.accepted.get(kind, 0) + 1
        if currently_in_test_context():
            note_event(f"accepted {kind}")

    def _handle(self, kind: str, command: commands.AnyCommand) -> None:
        def run() -> tuple[str, Enterprise | None]:
            result = self.office.run(command)
            appended = [e.event_id for e in self.store.read_all()][
                -len(result.events) - len(result.reactions) :
            ]
            assert appended == [e.event_id for e in (*result.events, *result.reactions)]
            return result.enterprise.uscc, result.enterprise

        self._attempt(kind, run)

    def _stream(self, who: str) -> list[RecordedEvent]:
        return self.store.read_stream(f"enterprise-{who}")

    def _entitlements(self) -> list[tuple[str, EntitlementRecord]]:
        return [
            (who, record)
            for who in WHO
            for record in Enterprise.load(self._stream(who)).entitlements.values()
        ]

    def _event_ids(self) -> list[str]:
        return [e.event_id for who in WHO for e in self._stream(who)]

    # ── rules ──────────────────────────────────────────────────────────────────────────────
    @initialize(
        climbs=st.lists(st.tuples(st.sampled_from(WHO[:-1]), st.integers(0, len(LADDER))), max_size=4)
    )
    def climb(self, climbs: list[tuple[str, int]]) -> None:
        """Start most examples with some enterprises up a ladder, so entitlements exist to decide on."""
        for who, steps in climbs:
            for milestone, on in LADDER[:steps]:
                self._handle("record", commands.RecordMilestone.parse(who, milestone, date.fromisoformat(on)))

    @rule(who=enterprises, elsewhere=st.booleans(), size=st.sampled_from([None, "micro", "small", "medium"]))
    def register(self, who: str, elsewhere: bool, size: str | None) -> None:
        district = DISTRICTS[(DISTRICTS.index(HOME[who]) + 1) % len(DISTRICTS)] if elsewhere else HOME[who]
        command = commands.RegisterEnterprise(
            uscc=who, name=f"重庆{who[-4:]}有限公司", district=district, size=size, on=date(2019, 1, 1)
        )
        self._handle("register", command)

    @rule(who=enterprises, track=st.sampled_from(TRACKS), data=st.data())
    def record(self, who: str, track: str, data: st.DataObject) -> None:
        """Mostly an action the track's machine allows now, dated after the track's latest milestone."""
        ent = Enterprise.load(self._stream(who))
        kind = reference.track_kind(track)
        if kind == "listing":
            current = ent.listing.stage
        elif kind in ("pool", "designation"):
            current = ent.memberships.get(track, MembershipState(track)).state
        else:
            current = ent.titles.get(track, TitleState(track)).state
        allowed = list(machines.allowed_actions(kind, current))
        legal = bool(allowed) and data.draw(st.integers(0, 9), label="legal") > 0
        action = data.draw(st.sampled_from(allowed if legal else COMMON_ACTIONS[kind]), label="action")
        latest = ent.latest_milestone(track)
        start = latest.on if latest is not None else date(2019, 1, 1)
        on = start + timedelta(days=data.draw(st.integers(-20, 700), label="days after"))
        override = data.draw(st.integers(0, 4), label="override") == 0
        reason = "补录：上级称号证书在途" if override else None
        command = commands.RecordMilestone(
            uscc=who, track=track, action=action, on=on, override_prerequisite=override, reason=reason
        )
        self._handle("record", command)

    @rule(who=enterprises, data=st.data(), revenue=money, rd=st.one_of(st.none(), money), on=days)
    def financials(self, who: str, data: st.DataObject, revenue: Any, rd: Any, on: date) -> None:
        year = on.year - data.draw(st.integers(-1, 3), label="years back")
        self._handle(
            "financials",
            commands.ReportFinancials(uscc=who, year=year, revenue=revenue, rd_expense=rd, on=on),
        )

    @rule(
        who=enterprises,
        back=st.integers(-1, 2),
        area=st.integers(1, 6000),
        rent=st.integers(1, 120),
        months=st.integers(1, 13),
        owner=st.sampled_from(["state", "private"]),
        on=days,
    )
    def lease(self, who: str, back: int, area: int, rent: int, months: int, owner: str, on: date) -> None:
        year = on.year - back

        def run() -> tuple[str, Enterprise | None]:
            command = commands.ReportLease(
                uscc=who, year=year, area_m2=area, rent_per_m2_month=rent, months=months, owner=owner, on=on
            )
            result = self.office.run(command)
            return who, result.enterprise

        self._attempt("lease", run)

    @rule(who=enterprises, person=st.sampled_from(["T1", "T2", "T3"]), back=st.integers(-1, 3), amount=money,
          on=days)  # fmt: skip
    def talent(self, who: str, person: str, back: int, amount: Any, on: date) -> None:
        year = on.year - back
        command = commands.ReportTalent(uscc=who, person=person, year=year, contribution=amount, on=on)
        self._handle("talent", command)

    @rule(who=enterprises, back=st.integers(-1, 3), amount=money, on=days)
    def rd_subsidy(self, who: str, back: int, amount: Any, on: date) -> None:
        year = on.year - back
        self._handle("rd-subsidy", commands.ReportRdSubsidy(uscc=who, year=year, amount=amount, on=on))

    @rule(
        who=enterprises,
        number=st.sampled_from(["ZL1", "ZL2", "ZL3"]),
        on=days,
        kind=st.sampled_from(["invention", "invention", "utility"]),
    )
    def patent(self, who: str, number: str, on: date, kind: str) -> None:
        self._handle("patent", commands.ReportPatent(uscc=who, number=number, kind=kind, on=on))

    @rule(who=enterprises, back=st.integers(-1, 2), on=days)
    def demonstration(self, who: str, back: int, on: date) -> None:
        year = on.year - back
        self._handle("demonstration", commands.RecordDemonstration(uscc=who, year=year, on=on))

    @rule(data=st.data(), on=st.one_of(st.none(), days))
    def retract(self, data: st.DataObject, on: date | None) -> None:
        target = data.draw(st.sampled_from([*self._event_ids(), "no-such-event"]), label="target")
        self._handle("retract", commands.Retract(event_id=target, reason="录入错误", on=on))

    @rule(data=st.data(), fraction=fractions, after=st.one_of(st.none(), st.integers(-10, 900)))
    def approve(self, data: st.DataObject, fraction: Decimal, after: int | None) -> None:
        """Mostly within the ceiling, on a day after the accrual (or today)."""
        who, record = data.draw(st.sampled_from([*self._entitlements(), UNKNOWN]), label="entitlement")
        amount = max((record.amount or Decimal(300_000)) * fraction, Decimal(1)).quantize(Decimal("0.01"))
        on = None if after is None else _accrued(record) + timedelta(days=after)

        def run() -> tuple[str, Enterprise | None]:
            self.office.approve(who, record.entitlement_id, amount, on)
            return who, None

        self._attempt("approve", run)

    @rule(data=st.data(), fraction=fractions, after=st.integers(-10, 900))
    def pay(self, data: st.DataObject, fraction: Decimal, after: int) -> None:
        """Mostly at most what is left to pay, on a day after the accrual."""
        who, record = data.draw(st.sampled_from([*self._entitlements(), UNKNOWN]), label="entitlement")
        limit = record.approved_amount if record.approved_amount is not None else record.amount
        left = (limit or Decimal(100_000)) - record.paid_amount
        amount = max(left * fraction, Decimal(1)).quantize(Decimal("0.01"))
        approved = [day for kind, _, day, _ in record.events if kind == "EntitlementApproved"]
        on = max([_accrued(record), *approved]) + timedelta(days=after)

        def run() -> tuple[str, Enterprise | None]:
            ref = f"渝财拨{len(record.events)}"  # a voucher of its own: one voucher, one payment
            self.office.pay(who, record.entitlement_id, amount, on, ref=ref)
            return who, None

        self._attempt("pay", run)

    # ── invariants ─────────────────────────────────────────────────────────────────────────
    @invariant()
    def folding_again_gives_the_state_and_no_state_is_illegal(self) -> None:
        qualification = set(reference.state_keys("qualification"))
        stages = set(reference.state_keys("listing"))
        for who in WHO:
            stream = self._stream(who)
            ent = Enterprise.load(stream)
            if who in self.states:
                assert self.states[who] == ent, "the handler's state differs from a fresh fold"
            assert [e.stream_version for e in stream] == list(range(1, len(stream) + 1))
            for track, title in ent.titles.items():
                assert title.state in qualification, (track, title.state)
                actions = [m.action for m in ent.milestones if m.track == track]
                assert machines.restore("qualification", actions) == title.state
            assert ent.listing.stage in stages
            listing = [m.action for m in ent.milestones if m.track == "listing"]
            assert machines.restore("listing", listing) == ent.listing.stage
            assert all(e.occurred_on <= TODAY for e in stream), "nothing dated in the future"

    @invariant()
    def no_entitlement_without_a_trigger(self) -> None:
        for who in WHO:
            stream = self._stream(who)
            ent = Enterprise.load(stream)
            by_id = {e.event_id: e for e in stream}
            created = [e for e in stream if e.event_type == "EntitlementCreated"]
            assert len({e.data["entitlement_id"] for e in created}) == len(created), "an entitlement twice"
            for event in created:
                record = ent.entitlements[event.data["entitlement_id"]]
                trigger = by_id.get(record.created["trigger_event_id"])
                assert trigger is not None, f"{record.rule}: its trigger is not in the stream"
                assert trigger.event_type in RETRACTABLE_TYPES
                assert trigger.stream_version < event.stream_version
                assert record.created["uscc"] == who and record.created["district"] == ent.district
                assert ent.district in self.policies[record.created["policy"]].districts
                if trigger.event_id in ent.retracted:
                    still = record.decided
                    assert still in CLOSED, f"{record.rule}: trigger retracted, still {still}"

    @invariant()
    def amounts_follow_their_rules(self) -> None:
        for who, record in self._entitlements():
            created = record.created
            policy = self.policies[str(created["policy"])]
            rule_ = policy.rule(str(record.rule))
            assert created["kind"] == rule_.kind
            if not isinstance(rule_.formula, RentAreaMonths):
                assert bool(created["ceiling"]) == rule_.ceiling, record.rule
            stated = rule_.amount if rule_.amount is not None else None
            if rule_.amount_by_track and record.amount is not None:
                stated = max(rule_.amount_by_track.values())
                if not rule_.caps:
                    assert record.amount in rule_.amount_by_track.values(), (record.rule, record.amount)
            if stated is not None and record.amount is not None and record.decided not in CLOSED:
                assert record.amount <= stated, (record.rule, record.amount, stated)
                if record.amount < stated:
                    assert rule_.caps and "capped" in _note(record), (who, record.rule, record.amount)
            if record.amount is not None:
                assert record.amount >= 0
            if record.approved_amount is not None:
                assert created["ceiling"] or created["amount"] is None, "approved a fixed amount"
                if created["ceiling"]:
                    assert record.approved_amount <= Decimal(str(created["amount"]))
            limit = record.approved_amount if record.approved_amount is not None else record.amount
            if record.paid_amount:
                assert limit is not None and record.paid_amount <= limit, (
                    record.rule,
                    record.paid_amount,
                    limit,
                )
        self._caps_hold()

    def _caps_hold(self) -> None:
        live: dict[tuple[str, str], list[EntitlementRecord]] = {}
        for who, record in self._entitlements():
            if record.decided not in CLOSED:
                live.setdefault((who, str(record.created["policy"])), []).append(record)
        for (who, key), records in live.items():
            policy = self.policies[key]
            for cap in policy.caps:
                if cap.reading is not None and policy.reading(cap.reading) != "in-order":
                    continue
                members = set(policy.rules_in_cap(cap.id))
                used = sum((_counted(r) for r in records if r.rule in members), ZERO)
                assert used <= cap.total, f"{who} {cap.id}: {used} > {cap.total}"
            for rule_ in policy.rules:
                if isinstance(rule_.formula, RentAreaMonths):
                    by_year: dict[Any, Decimal] = {}
                    for r in records:
                        if r.rule == rule_.id:
                            year = r.created.get("period_year")
                            by_year[year] = by_year.get(year, ZERO) + _counted(r)
                    assert all(v <= rule_.formula.yearly_cap for v in by_year.values()), (who, by_year)

    @invariant()
    def ledger_totals_are_the_sums_over_entitlements(self) -> None:
        entries: dict[str, Entry] = {}
        records: dict[str, EntitlementRecord] = {}
        for who in WHO:
            stream = self._stream(who)
            records.update(Enterprise.load(stream).entitlements)
            for event in stream:
                if event.event_type == "EntitlementCreated":
                    entries[event.data["entitlement_id"]] = Entry.created(event)
                elif event.event_type.startswith("Entitlement"):
                    entries[event.data["entitlement_id"]].apply(event)
        assert set(entries) == set(records)
        view = [view_of(entry, None) for entry in entries.values()]
        for line in view:
            record = records[line.id]
            status = "reversed" if record.status == "not-eligible" else record.status
            assert (line.status, line.amount, line.approved_amount, line.paid_amount) == (
                status,
                record.amount,
                record.approved_amount,
                record.paid_amount,
            ), line.id
        live = [r for r in records.values() if r.decided not in CLOSED]
        expected = {
            "fixed": sum((r.amount or ZERO for r in live if not r.ceiling), ZERO),
            "ceilings": sum(
                (r.amount or ZERO for r in live if r.ceiling and r.status == "awaiting-approval"),
                ZERO,
            ),
            "approved": sum((r.approved_amount or ZERO for r in live), ZERO),
            "paid": sum((r.paid_amount for r in records.values()), ZERO),
            "recovery_due": sum((r.recovery_amount for r in records.values()), ZERO),
        }
        assert totals(view) == expected


def _accrued(record: EntitlementRecord) -> date:
    return date.fromisoformat(str(record.created.get("accrued_on", "2020-01-01")))


def _note(record: EntitlementRecord) -> str:
    """The note of the decision that set the entitlement's amount (its creation or last resolution)."""
    notes = [
        d.get("note")
        for kind, _, _, d in record.events
        if kind in ("EntitlementCreated", "EntitlementResolved", "EntitlementAdjusted")
    ]
    return str(notes[-1] or "") if notes else ""


def _counted(record: EntitlementRecord) -> Decimal:
    """What a live entitlement uses of a cap: its approved amount once approved, else its amount."""
    if record.approved_amount is not None:
        return record.approved_amount
    return record.amount or ZERO


TestBooks = Books.TestCase
TestBooks.settings = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_the_machine_reaches_entitlements_decisions_and_retractions() -> None:
    """The rules are not vacuous: a fixed walk through them accrues, approves, pays and reverses."""
    books = Books()
    a, b = WHO[0], WHO[1]  # yubei, rongchang: both registered by the machine itself
    books.climb([(a, 2), (b, 1)])
    books._handle(
        "record",
        commands.RecordMilestone(uscc=b, track="srdi-municipal", action="certified", on=date(2022, 8, 1)),
    )
    rules = {r.rule: (who, r) for who, r in books._entitlements()}
    assert {"YB-5a", "RC-27b"} <= set(rules)
    books.approve(_Fixed(rules["RC-27b"]), Decimal("0.5"), 30)
    books.pay(_Fixed(rules["YB-5a"]), Decimal(1), 60)
    certified = next(
        e
        for e in books._stream(a)
        if e.event_type == "MilestoneRecorded" and e.data["track"] == "srdi-municipal"
    )
    books.retract(_Fixed(certified.event_id), None)
    statuses = {r.rule: r.status for _, r in books._entitlements()}
    assert statuses["RC-27b"] == "approved" and statuses["YB-5a"] == "recovery-due"  # paid, no longer owed
    assert books.accepted == {"register": 4, "record": 4, "approve": 1, "pay": 1, "retract": 1}
    books.folding_again_gives_the_state_and_no_state_is_illegal()
    books.no_entitlement_without_a_trigger()
    books.amounts_follow_their_rules()
    books.ledger_totals_are_the_sums_over_entitlements()


class _Fixed:
    """A stand-in for `st.DataObject` whose every draw returns one value (for the fixed walk)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        return self.value
