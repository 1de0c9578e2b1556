"""Command handlers on the in-memory store: every refusal writes nothing; accepted commands append once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.commands import (
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
from domain.enterprise import Enterprise
from domain.errors import IllegalTransition, InvalidInput, PrerequisiteMissing
from events.envelope import AppendResult, NewEvent, StreamAppend
from events.memory import InMemoryEventStore
from events.schemas import EntitlementCreated, enterprise_stream
from events.store import ConcurrencyConflict
from projections.status import fold_status
from service_layer.unit_of_work import RETRIES
from tests.bootstrap import TODAY, Office, bootstrap, uscc

A = uscc(1)
B = uscc(2, "500112")


@pytest.fixture
def desk() -> Office:
    d = bootstrap()
    d.register(A)
    return d


# -- registration -------------------------------------------------------------------------------
def test_register_writes_one_event_with_parsed_district() -> None:
    """A Chinese district name is stored as its key, in one EnterpriseRegistered event."""
    d = bootstrap()
    result = d.run(RegisterEnterprise(uscc=B, name="乙", district="渝北", size="小型", department="区科技局"))
    [event] = d.stream(B)
    assert event.event_id == result.event_id
    assert event.data["district"] == "yubei" and event.data["size"] == "small"
    assert event.occurred_on == TODAY


def test_bad_uscc_is_refused_with_the_check_digit() -> None:
    """A USCC failing its GB 32100-2015 check digit is refused naming the right digit; nothing written."""
    d = bootstrap()
    bad = A[:-1] + ("0" if A[-1] != "0" else "1")
    d.refused(lambda: d.register(bad), "check digit should be")


def test_unknown_district_is_refused() -> None:
    """An unknown district is refused listing the valid keys; nothing written."""
    d = bootstrap()
    d.refused(lambda: d.register(A, "chengdu"), "unknown district")


def test_duplicate_registration_is_refused(desk: Office) -> None:
    """Registering a USCC twice is refused; the store keeps only the first registration."""
    desk.refused(lambda: desk.register(A), "already registered")


def test_registration_in_the_future_is_refused() -> None:
    """A registration dated after today is refused."""
    d = bootstrap()
    command = RegisterEnterprise(uscc=A, name="甲", district="yubei", on=date(2027, 1, 1))
    d.refused(lambda: d.run(command), "after today")


# -- milestones ---------------------------------------------------------------------------------
def test_unregistered_uscc_is_refused_with_a_hint() -> None:
    """Recording on an unregistered USCC is refused, pointing at `srdi enterprise add`."""
    d = bootstrap()
    d.refused(lambda: d.record(A, "hnte.certified", "2024-01-01"), "srdi enterprise add")
    report = ReportFinancials(uscc=A, year=2024, revenue="1")
    d.refused(lambda: d.run(report), "srdi enterprise add")


def test_illegal_transition_is_refused(desk: Office) -> None:
    """A review on a track never certified is refused by the machine; nothing written."""
    error = desk.refused(lambda: desk.record(A, "hnte.review-passed", "2024-01-01"), "allowed now")
    assert isinstance(error, IllegalTransition)


def test_future_milestone_is_refused(desk: Office) -> None:
    """A milestone dated after today is refused; today itself is accepted."""
    desk.refused(lambda: desk.record(A, "hnte.certified", "2026-11-02"), "after today")
    desk.record(A, "hnte.certified", "2026-11-01")


def test_out_of_order_milestone_is_refused_with_a_retract_hint(desk: Office) -> None:
    """A milestone dated before its track's latest is refused with a retract hint; other tracks are free."""
    latest = desk.record(A, "hnte.applied", "2024-05-01")
    error = desk.refused(lambda: desk.record(A, "hnte.certified", "2024-04-30"), "retract")
    assert latest.event_id in str(error)
    desk.record(A, "tech-sme.certified", "2020-01-01")  # another track: earlier dates are fine
    desk.record(A, "hnte.certified", "2024-05-01")  # the same day is fine


def test_missing_prerequisite_is_refused(desk: Office) -> None:
    """srdi-municipal needs a valid innovative-sme title; without one it is refused, nothing written."""
    error = desk.refused(lambda: desk.record(A, "市级专精特新.认定", "2024-01-01"), "innovative-sme")
    assert isinstance(error, PrerequisiteMissing)
    desk.refused(lambda: desk.record(A, "little-giant.certified", "2024-01-01"), "srdi-municipal")


def test_prerequisite_met_on_the_date(desk: Office) -> None:
    """With a valid lower title on the date, the higher one is recorded, no override stored."""
    desk.record(A, "innovative-sme.certified", "2022-03-01")
    result = desk.record(A, "srdi-municipal.certified", "2023-03-01")
    assert result.events[0].event.payload()["override_reason"] is None
    # the lower title expired on 2025-02-28: a later application is refused
    desk.refused(lambda: desk.record(A, "little-giant.applied", "2023-02-01"), "srdi-municipal")


def test_override_needs_a_reason_and_stores_it(desk: Office) -> None:
    """--override-prerequisite without a reason is refused; with one, the reason is in the event."""
    desk.refused(
        lambda: desk.record(A, "srdi-municipal.certified", "2024-01-01", override_prerequisite=True),
        "needs --reason",
    )
    desk.refused(
        lambda: desk.record(A, "srdi-municipal.certified", "2024-01-01", reason="x"),
        "only used with",
    )
    desk.record(
        A, "srdi-municipal.certified", "2024-01-01", override_prerequisite=True, reason="市经信委书面确认"
    )
    assert desk.stream(A)[-1].data["override_reason"] == "市经信委书面确认"
    assert desk.load(A).milestones[-1].override_reason == "市经信委书面确认"


def test_expired_only_on_the_system_path(desk: Office) -> None:
    """Staff cannot record `expired`; the scheduler's path (system=True) can."""
    desk.record(A, "hnte.certified", "2022-01-01")
    command = RecordMilestone(uscc=A, track="hnte", action="expired", on=date(2025, 1, 1))
    desk.refused(lambda: desk.run(command), "scheduler only")
    desk.run(command, system=True)
    assert desk.load(A).titles["hnte"].state == "expired"


# -- reports ------------------------------------------------------------------------------------
def _lease(**change: Any) -> ReportLease:
    """A 2024 lease of 10 m² at 20 yuan a month for a year from the state, with ``change`` made."""
    lease: dict[str, Any] = {"area_m2": "10", "rent_per_m2_month": 20, "months": 12, "owner": "state"}
    return ReportLease(uscc=A, year=2024, **{**lease, **change})


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: ReportFinancials(uscc=A, year=2024, revenue="-1"), "negative"),
        (lambda: ReportFinancials(uscc=A, year=2024, revenue=1.5), "float"),
        (lambda: ReportFinancials(uscc=A, year=2024, revenue="abc"), "not an amount"),
        (lambda: ReportFinancials(uscc=A, year=2024, revenue="1.001"), "decimal places"),
        (lambda: ReportFinancials(uscc=A, year=1989, revenue="1"), "impossible"),
        (lambda: ReportFinancials(uscc=A, year="20x4", revenue="1"), "not a year"),
        (lambda: _lease(area_m2="0"), "--area"),
        (lambda: _lease(area_m2="-5"), "--area"),
        (lambda: _lease(area_m2="9e9"), "--area"),
        (lambda: _lease(rent_per_m2_month=0), "--rent"),
        (lambda: _lease(months=13), "--months"),
        (lambda: _lease(months=1, owner="x"), "--owner"),
        (lambda: ReportTalent(uscc=A, person=" ", year=2024, contribution=1), "--person"),
        (lambda: ReportRdSubsidy(uscc=A, year=2024, amount=0), "--amount"),
    ],
)
def test_bad_figures_are_refused_at_the_door(desk: Office, build: Any, match: str) -> None:
    """Impossible money, years, areas, rents or months are refused in one line naming the option."""
    desk.refused(lambda: desk.run(build()), match)


@pytest.mark.parametrize("written", ["1e5", "1.2E+7", "1,2", "1,00,000", "12,3456", "１e5"])
def test_exponents_and_misplaced_commas_are_not_amounts(desk: Office, written: str) -> None:
    """1e5 (Excel's 1.2E+7) and 1,2 (a decimal comma?) are refused rather than guessed at."""
    desk.refused(lambda: desk.run(ReportFinancials(uscc=A, year=2024, revenue=written)), "--revenue")


def test_report_year_after_this_year_is_refused(desk: Office) -> None:
    """A financial year that has not begun on the report's date is refused."""
    desk.refused(lambda: desk.run(ReportFinancials(uscc=A, year=2027, revenue="1")), "not begun")
    early = ReportFinancials(uscc=A, year=2025, revenue="1", on=date(2024, 6, 1))
    desk.refused(lambda: desk.run(early), "not begun")


def test_reports_are_recorded_exactly(desk: Office) -> None:
    """Reports keep money as exact Decimals and a later report for a year supersedes."""
    desk.run(ReportFinancials(uscc=A, year=2024, revenue="1,000,000.10", rd_expense="3"))
    desk.run(ReportFinancials(uscc=A, year=2024, revenue="2000000"))
    desk.run(ReportLease(uscc=A, year=2024, area_m2="120.5", rent_per_m2_month="25", months=12, owner="国有"))
    desk.run(ReportTalent(uscc=A, person="T01", year=2024, contribution="123456.78"))
    desk.run(ReportRdSubsidy(uscc=A, year=2024, amount="500000"))
    ent = desk.load(A)
    assert ent.financials[2024].revenue == Decimal("2000000") and ent.financials[2024].rd_expense is None
    assert ent.leases[0].area_m2 == Decimal("120.5") and ent.leases[0].owner == "state"
    assert ent.talents[0].contribution == Decimal("123456.78")
    assert ent.rd_subsidies[0].amount == Decimal(500000)


def test_duplicate_patent_and_demonstration_are_refused(desk: Office) -> None:
    """The same patent number, or a second selection in a year, is refused."""
    desk.run(ReportPatent(uscc=A, number="zl2024-1", on=date(2024, 5, 1)))
    desk.refused(lambda: desk.run(ReportPatent(uscc=A, number="ZL2024-1")), "already recorded")
    desk.run(RecordDemonstration(uscc=A, year=2024))
    desk.refused(lambda: desk.run(RecordDemonstration(uscc=A, year=2024)), "already")


# -- retractions --------------------------------------------------------------------------------
def test_retract_unknown_id_is_refused(desk: Office) -> None:
    """An id that is in no enterprise's history is refused."""
    desk.refused(lambda: desk.run(Retract(event_id="nope", reason="x")), "no event")


def test_retract_twice_and_retract_a_retraction_are_refused(desk: Office) -> None:
    """A second retraction of the same event, or a retraction of a retraction, is refused."""
    target = desk.record(A, "hnte.certified", "2024-01-01").event_id
    retraction = desk.run(Retract(event_id=target, reason="wrong enterprise")).event_id
    desk.refused(lambda: desk.run(Retract(event_id=target, reason="again")), "already retracted")
    desk.refused(lambda: desk.run(Retract(event_id=retraction, reason="x")), "itself a retraction")


def test_retract_registration_or_entitlement_is_refused(desk: Office) -> None:
    """Registrations and the policy engine's entitlement events cannot be retracted."""
    registration = desk.stream(A)[0].event_id
    desk.refused(lambda: desk.run(Retract(event_id=registration, reason="x")), "registers")
    reacting = bootstrap(store=desk.store, reactor=FakeReactor())
    entitlement = reacting.record(A, "hnte.certified", "2024-01-01").reactions[0].event_id
    desk.refused(lambda: desk.run(Retract(event_id=entitlement, reason="x")), "policy engine")


def test_retract_a_milestone_later_ones_depend_on_is_refused(desk: Office) -> None:
    """Retracting a certification that a later review depends on is refused, naming the review."""
    cert = desk.record(A, "hnte.certified", "2021-01-01").event_id
    review = desk.record(A, "hnte.review-passed", "2023-12-01").event_id
    error = desk.refused(lambda: desk.run(Retract(event_id=cert, reason="x")), "newest first")
    assert review in str(error)
    desk.run(Retract(event_id=review, reason="x"))
    desk.run(Retract(event_id=cert, reason="x"))
    assert "hnte" not in desk.load(A).titles


def test_retracted_certification_leaves_the_track_absent(desk: Office) -> None:
    """State after a retraction is as if the event never happened; the event is still stored."""
    cert = desk.record(A, "innovative-sme.certified", "2022-03-01").event_id
    result = desk.run(Retract(event_id=cert, reason="recorded on the wrong enterprise"))
    assert "innovative-sme" not in result.enterprise.titles
    view = fold_status(A, desk.stream(A))
    assert view is not None and "innovative-sme" not in view.titles
    assert [e.event_type for e in desk.stream(A)][-2:] == ["MilestoneRecorded", "EventRetracted"]
    assert desk.stream(A)[-1].causation_id == cert


def test_retracted_review_restores_the_prior_period(desk: Office) -> None:
    """Retracting a review-passed brings back the certification's validity period."""
    desk.record(A, "hnte.certified", "2021-01-01")
    review = desk.record(A, "hnte.review-passed", "2023-12-01").event_id
    assert desk.load(A).titles["hnte"].valid_until == date(2026, 11, 30)
    desk.run(Retract(event_id=review, reason="review not yet published"))
    title = desk.load(A).titles["hnte"]
    assert (title.state, title.valid_until, title.since) == (
        "certified",
        date(2023, 12, 31),
        date(2021, 1, 1),
    )
    desk.record(A, "hnte.review-passed", "2023-12-15")  # and can be recorded again with the right date


def test_retracted_report_brings_back_the_superseded_one(desk: Office) -> None:
    """Retracting the later report of a year makes the earlier one effective again."""
    desk.run(ReportFinancials(uscc=A, year=2024, revenue="100"))
    wrong = desk.run(ReportFinancials(uscc=A, year=2024, revenue="1000")).event_id
    desk.run(Retract(event_id=wrong, reason="extra zero"))
    assert desk.load(A).financials[2024].revenue == Decimal(100)


# -- reactor and concurrency --------------------------------------------------------------------
def test_reactions_are_appended_with_the_command(desk: Office) -> None:
    """The reactor sees the state after the milestone; its entitlements land in the same append."""
    reactor = FakeReactor()
    desk.reactor = reactor
    result = desk.record(A, "innovative-sme.certified", "2022-03-01")
    seen, types = reactor.seen[-1]
    assert types == ["MilestoneRecorded"] and seen.titles["innovative-sme"].state == "certified"
    stream = desk.stream(A)
    assert [e.event_type for e in stream[-2:]] == ["MilestoneRecorded", "EntitlementCreated"]
    assert stream[-1].position == stream[-2].position + 1
    assert result.append.event_ids == (result.event_id, result.reactions[0].event_id)
    [ent] = result.entitlements()
    assert (ent.rule, ent.amount, ent.status) == ("YB-5a", Decimal(100000), "accrued")
    desk.run(Retract(event_id=result.event_id, reason="x"))
    assert reactor.seen[-1][1] == ["EventRetracted"]


class FakeReactor:
    """Creates one entitlement per certification and remembers what it was shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[Enterprise, list[str]]] = []

    def react(self, enterprise: Enterprise, new_events: Sequence[NewEvent], *, today: date) -> list[NewEvent]:
        self.seen.append((enterprise, [e.event_type for e in new_events]))
        return [_entitlement(enterprise, new) for new in new_events if _certified(new)]


def _certified(new: NewEvent) -> bool:
    return new.event_type == "MilestoneRecorded" and new.event.payload()["action"] == "certified"


def _entitlement(enterprise: Enterprise, new: NewEvent) -> NewEvent:
    created = EntitlementCreated(
        entitlement_id=f"ent-{new.event_id[:8]}", policy="yubei-2024", rule="YB-5a", article="5",
        kind="award", uscc=enterprise.uscc, district=enterprise.district or "",
        trigger_event_id=new.event_id, accrued_on=new.occurred_on, amount=100000, ceiling=False,
        status="accrued",
    )  # fmt: skip
    return NewEvent(created, new.occurred_on, causation_id=new.event_id)


class ConflictingStore(InMemoryEventStore):
    """Raises ConcurrencyConflict on the first ``failures`` appends, as if someone wrote first."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.attempts = 0

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        if any(a.events and a.events[0].event_type != "EnterpriseRegistered" for a in appends):
            self.attempts += 1
            if self.attempts <= self.failures:
                raise ConcurrencyConflict(appends[0].stream_id, 1, 2)
        return super().append_batch(appends, idempotency_key=idempotency_key)


def test_conflicts_are_retried_then_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A conflict is retried (reload, re-decide) up to RETRIES times, then raised; nothing partial written.

    The back-off's waits are recorded instead of slept (`service_layer.retry` looks ``time.sleep``
    up each time).
    """
    import time

    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    ok = bootstrap(store=ConflictingStore(RETRIES))
    ok.register(A)
    ok.record(A, "hnte.certified", "2024-01-01")
    assert len(ok.stream(A)) == 2
    failing = bootstrap(store=ConflictingStore(RETRIES + 1))
    failing.register(A)
    with pytest.raises(ConcurrencyConflict):
        failing.record(A, "hnte.certified", "2024-01-01")
    assert len(failing.stream(A)) == 1
    assert len(waits) == 2 * RETRIES  # RETRIES waits before the success, as many before giving up


def test_entitlement_events_are_folded_generically() -> None:
    """Entitlement events in the stream are folded generically, keeping their raw data."""
    d = bootstrap()
    d.register(A)
    fields: dict[str, Any] = {"policy": "p", "article": "27", "kind": "award", "district": "yubei"}
    created = EntitlementCreated(
        entitlement_id="e1", rule="RC-27b", uscc=A, trigger_event_id="t", accrued_on=date(2024, 1, 1),
        amount=None, ceiling=True, status="awaiting-approval", **fields,
    )  # fmt: skip
    d.store.append(enterprise_stream(A), [NewEvent(created, date(2024, 1, 1))], expected_version=1)
    record = d.load(A).entitlements["e1"]
    assert (record.rule, record.status, record.amount) == ("RC-27b", "awaiting-approval", None)
    assert record.created["trigger_event_id"] == "t"


def test_invalid_input_is_the_base_of_every_refusal() -> None:
    """Refusals are InvalidInput (exit 2 in the CLI), never a pydantic ValidationError."""
    with pytest.raises(InvalidInput):
        RecordMilestone(uscc=A, track="hnte", action="certified", on="2024-02-30")
    with pytest.raises(InvalidInput, match=r"TRACK\.ACTION"):
        RecordMilestone.parse(A, "hnte", date(2024, 1, 1))
    with pytest.raises(InvalidInput, match="no action"):
        RecordMilestone.parse(A, "listing.certified", date(2024, 1, 1))
