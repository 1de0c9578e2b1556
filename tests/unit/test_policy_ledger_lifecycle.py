"""Approval, payment, reversal on retraction, activation over history and idempotence, via the handlers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from domain.enterprise import Enterprise
from domain.errors import NotPermitted
from domain.policy.model import Policy, load_builtin
from domain.policy.reactor import PolicyReactor
from events.envelope import AppendResult, StreamAppend
from events.memory import InMemoryEventStore
from tests.bootstrap import Office, bootstrap, owed, snapshot, uscc

A, B, C = uscc(11), uscc(12), uscc(13)
SRDI_2023 = (("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2023-03-01"))


@pytest.fixture
def desk() -> Office:
    d = bootstrap()
    d.activate("yubei-2024")
    d.activate("rongchang-2022")
    return d


def _rc27b(desk: Office) -> str:
    desk.register(B, "rongchang")
    desk.climb(B, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2022-08-01"))
    return desk.one(B, "RC-27b").entitlement_id


# ── approval and payment ────────────────────────────────────────────────────────────────────


def test_ceiling_approved_then_paid_in_two_payments(desk: Office) -> None:
    """RC-27b: approve 150,000 (≤ 200,000), pay 100,000 then 50,000: approved, then paid in full."""
    key = _rc27b(desk)
    approved = desk.approve(B, key, "150000", on="2024-01-10")
    assert (approved.status, approved.approved_amount) == ("approved", Decimal(150000))
    desk.pay(B, key, 100000, on="2024-02-01", ref="荣财〔2024〕7号")
    paid = desk.pay(B, key, "50000", on="2024-03-01", ref="荣财〔2024〕9号")
    assert (paid.status, paid.paid_amount) == ("paid", Decimal(150000))
    assert [d["ref"] for kind, _, _, d in paid.events if kind == "EntitlementPaid"] == [
        "荣财〔2024〕7号",
        "荣财〔2024〕9号",
    ]


def test_the_approver_may_not_pay_what_they_approved(desk: Office) -> None:
    """Four eyes: the approval's actor paying is NotPermitted, nothing written; someone else may pay."""
    key = _rc27b(desk)
    desk.approve(B, key, "150000", on="2024-01-10")
    desk.refused(lambda: desk.pay(B, key, 1000, on="2024-02-01", payer="finance"), "may not pay it")
    with pytest.raises(NotPermitted):
        desk.pay(B, key, 1000, on="2024-02-01", payer="finance")
    assert desk.pay(B, key, 1000, on="2024-02-01", payer="treasury").paid_amount == Decimal(1000)


def test_over_ceiling_approval_and_over_payment_are_refused(desk: Office) -> None:
    """Approving 200,000.01 of a 200,000 ceiling or paying past the approval is refused; nothing written."""
    key = _rc27b(desk)
    desk.refused(lambda: desk.approve(B, key, "200000.01"), "above the ceiling of 200,000")
    desk.refused(lambda: desk.pay(B, key, 1, on="2024-01-01"), "approve an amount first")
    desk.approve(B, key, 200000, on="2024-01-10")
    desk.refused(lambda: desk.approve(B, key, 1000), "already approved")
    desk.pay(B, key, 150000, on="2024-02-01")
    desk.refused(lambda: desk.pay(B, key, "50000.01", on="2024-03-01"), "above what is left to pay: 50,000")
    desk.refused(lambda: desk.pay(B, key, 1, on="2022-07-31"), "before the entitlement accrued")
    desk.refused(lambda: desk.pay(B, key, 1, on="2027-01-01"), "after today")
    desk.refused(lambda: desk.pay(B, key, 0, on="2024-03-01"), "more than 0")


def test_fixed_amount_is_paid_directly_up_to_what_is_owed(desk: Office) -> None:
    """YB-5a accrued 100,000: approval refused (fixed), payment of 100,000 accepted, one more yuan refused."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023)
    key = desk.one(A, "YB-5a").entitlement_id
    desk.refused(lambda: desk.approve(A, key, 100000), "only an entitlement awaiting approval")
    assert desk.pay(A, key, 100000, on="2024-05-01").status == "paid"
    desk.refused(lambda: desk.pay(A, key, 1, on="2024-05-02"), "above what is left to pay: 0")


def test_unstated_amount_is_set_at_approval_tax_relief_and_pending_are_refused(desk: Office) -> None:
    """RC-30 (no amount) is approved at any amount; YB-8 tax relief and pending-data take no decision."""
    desk.register(B, "rongchang")
    desk.record(B, "tech-sme.certified", "2023-01-01")
    [rc30] = desk.record(B, "listing.otc-listed", "2023-03-01").entitlements()
    assert desk.approve(B, rc30.entitlement_id, 300000).approved_amount == Decimal(300000)
    desk.register(A, "yubei", size="small")
    desk.climb(A, *SRDI_2023)
    relief = desk.one(A, "YB-8").entitlement_id
    desk.refused(lambda: desk.approve(A, relief, 1), "tax relief")
    desk.financials(A, 2023, 130)
    [pending] = desk.lease(A, 2024, 1000, 25).entitlements()
    desk.refused(lambda: desk.approve(A, pending.entitlement_id, 1), "pending-data")
    desk.refused(lambda: desk.pay(A, pending.entitlement_id, 1, on="2024-07-01"), "pending-data")
    desk.refused(lambda: desk.approve(A, "no-such-id", 1), "no entitlement no-such-id")


# ── retraction: a correction reverses what it triggered, nothing else ───────────────────────


def test_retraction_reverses_what_the_event_triggered_and_decisions_on_it_are_refused(desk: Office) -> None:
    """Retracting neeq-select reverses YB-7d only: the 400,000 paid is recovery-due; no more decisions."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023, ("listing.neeq-filed", "2024-01-05"), ("listing.neeq-listed", "2024-06-05"))
    select = desk.record(A, "listing.neeq-select", "2025-03-05")
    key = desk.one(A, "YB-7d").entitlement_id
    desk.pay(A, key, 400000, on="2025-04-01")
    [reversed_] = desk.retract(select.event_id, on="2025-05-01").entitlements()
    assert (reversed_.entitlement_id, reversed_.decided, reversed_.status) == (
        key,
        "reversed",
        "recovery-due",
    )
    assert reversed_.recovery_amount == Decimal(400000)
    assert "400000 yuan already paid is to be recovered" in reversed_.events[-1][3]["reason"]
    assert {r.rule: r.status for r in desk.entitlements(A)} == {
        "YB-5a": "accrued",
        "YB-7b": "accrued",
        "YB-7c": "accrued",
        "YB-7d": "recovery-due",
    }
    desk.refused(lambda: desk.pay(A, key, 1, on="2025-06-01"), "is recovery-due")
    desk.refused(lambda: desk.approve(A, key, 1), "is recovery-due")


def test_revocation_claws_nothing_back(desk: Office) -> None:
    """A later revocation (not a correction) leaves the YB-5a award as it was."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023)
    assert desk.record(A, "srdi-municipal.revoked", "2024-01-01").reactions == ()
    assert owed(desk.one(A, "YB-5a")) == (Decimal(100000), "accrued", False)


def test_retracting_the_report_that_decided_a_pending_entry_reopens_it(desk: Office) -> None:
    """YB-3 decided by the 2022 revenue report goes back to pending-data when that report is retracted."""
    desk.register(A, "yubei", size="medium")
    desk.climb(A, *SRDI_2023)
    desk.financials(A, 2023, 130)
    [pending] = desk.lease(A, 2024, 1000, 25).entitlements()
    report = desk.financials(A, 2022, 100, on="2024-08-01")
    assert desk.one(A, "YB-3").status == "accrued"
    [reopened] = desk.retract(report.event_id, on="2024-09-01").entitlements()
    assert (reopened.entitlement_id, *owed(reopened)) == (pending.entitlement_id, None, "pending-data", False)
    [again] = desk.financials(A, 2022, 100, on="2024-10-01").entitlements()
    assert owed(again) == (Decimal(60000), "accrued", False)


# ── activation over history, once ───────────────────────────────────────────────────────────


def test_activation_reaches_back_to_2022_once() -> None:
    """Yubei 2024 over history pays a 2022-01-01 certification, not 2021-12-31; twice: nothing new."""
    d = bootstrap()
    for who, day in ((A, "2022-01-01"), (C, "2021-12-31")):
        d.register(who, "yubei", size="medium")
        d.climb(who, ("innovative-sme.certified", "2021-01-04"), ("srdi-municipal.certified", day))
    first = d.activate("yubei-2024", on=date(2024, 12, 12))
    assert first.activated and first.enterprises == 2 and first.created == 1
    assert owed(d.one(A, "YB-5a")) == (Decimal(100000), "accrued", False)
    assert d.one(A, "YB-5a").created["accrued_on"] == "2022-01-01"
    assert d.entitlements(C) == []
    before = snapshot(d.store)
    again = d.activate("yubei-2024", on=date(2025, 1, 1))
    assert (again.activated, again.created, again.append) == (False, 0, None)
    assert snapshot(d.store) == before


def test_a_new_version_of_an_active_policy_creates_nothing_twice() -> None:
    """The same key with changed data is activated again; entitlements keep their ids: no doubles."""
    d = bootstrap()
    d.activate("yubei-2024")
    d.register(A, "yubei", size="medium")
    d.climb(A, *SRDI_2023)
    changed = Policy.model_validate({**load_builtin("yubei-2024").model_dump(), "title": "amended"})
    result = d.activate(changed, on=date(2025, 1, 1))
    assert result.activated and result.created == 0
    assert [r.rule for r in d.entitlements(A)] == ["YB-5a"]


def test_reacting_again_to_the_same_events_creates_nothing() -> None:
    """Re-running the reactor over a stream it already reacted to returns no event (deterministic ids)."""
    d = bootstrap()
    d.activate("yubei-2024")
    d.register(A, "yubei", size="small")
    results = d.climb(A, *SRDI_2023)
    after = d.load(A)
    reactor = PolicyReactor([load_builtin("yubei-2024")])
    assert reactor.react(after, list(results[-1].events), today=d.today) == []
    fresh = Enterprise.load([e for e in after.stream if not e.event_type.startswith("Entitlement")])
    again = reactor.react(fresh, list(results[-1].events), today=d.today)
    assert sorted(e.event_id for e in again) == sorted(e.event_id for e in results[-1].reactions)


class ActivatingStore(InMemoryEventStore):
    """Activates Yubei 2024 just before the first enterprise append after `arm()`: a concurrent activation."""

    def __init__(self) -> None:
        super().__init__()
        self.armed: Office | None = None

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        desk, self.armed = self.armed, None
        if desk is not None:
            desk.activate("yubei-2024")
        return super().append_batch(appends, idempotency_key=idempotency_key)


def test_a_command_racing_an_activation_is_retried_with_the_new_policy() -> None:
    """The record append asserts the `policies` version: a stale reaction conflicts and is decided again."""
    store = ActivatingStore()
    d = bootstrap(store=store)
    d.register(A, "yubei", size="medium")
    d.record(A, "innovative-sme.certified", "2021-05-01")
    store.armed = d
    result = d.record(A, "srdi-municipal.certified", "2023-03-01")
    assert [(e.rule, e.status) for e in result.entitlements()] == [("YB-5a", "accrued")]
    assert len(d.entitlements(A, "YB-5a")) == 1
