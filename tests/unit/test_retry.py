"""`service_layer.retry`: conflicts are retried with a capped, fully jittered exponential back-off."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date

import pytest

from domain.commands import RegisterEnterprise
from domain.uscc import make_uscc
from events.envelope import AppendResult, StreamAppend
from events.memory import InMemoryEventStore
from events.store import ConcurrencyConflict
from service_layer.retry import ATTEMPTS, BASE_SECONDS, CAP_SECONDS, backoff, retry
from service_layer.unit_of_work import RETRIES, handle

DAY = date(2026, 1, 5)


class Flaky:
    """An attempt that raises the given errors in turn, then returns ``"done"``; counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def conflict(n: int = 1) -> ConcurrencyConflict:
    return ConcurrencyConflict("enterprise-X", n, n + 1)


def sequence(*values: float) -> Callable[[], float]:
    """A stand-in for ``random.random`` returning ``values`` in turn."""
    it: Iterator[float] = iter(values)
    return lambda: next(it)


def test_a_conflict_is_retried_until_the_attempt_succeeds() -> None:
    """Two conflicts, then success: three calls, two waits, the attempt's value returned."""
    attempt, waits = Flaky(conflict(), conflict()), list[float]()
    assert retry(attempt, sleep=waits.append, random=lambda: 0.5) == "done"
    assert attempt.calls == 3
    assert waits == [0.5 * BASE_SECONDS, 0.5 * 2 * BASE_SECONDS]


def test_after_the_last_attempt_the_original_conflict_is_raised_without_a_wait() -> None:
    """N conflicts in N attempts: the Nth conflict itself is raised; N-1 waits, none after the last."""
    errors = [conflict(n) for n in range(4)]
    attempt, waits = Flaky(*errors), list[float]()
    with pytest.raises(ConcurrencyConflict) as raised:
        retry(attempt, attempts=4, sleep=waits.append, random=lambda: 1.0)
    assert raised.value is errors[3]
    assert attempt.calls == 4
    assert len(waits) == 3


def test_the_default_is_ten_attempts() -> None:
    """Without ``attempts``, a write survives nine conflicts in a row and the tenth is raised."""
    waits: list[float] = []
    assert retry(Flaky(*[conflict() for _ in range(ATTEMPTS - 1)]), sleep=waits.append) == "done"
    assert len(waits) == ATTEMPTS - 1 == 9
    always = Flaky(*[conflict() for _ in range(ATTEMPTS)])
    with pytest.raises(ConcurrencyConflict):
        retry(always, sleep=waits.append)
    assert always.calls == ATTEMPTS


def test_one_attempt_means_no_retry() -> None:
    """``attempts=1``: the first conflict is raised at once, with no wait."""
    waits: list[float] = []
    with pytest.raises(ConcurrencyConflict):
        retry(Flaky(conflict()), attempts=1, sleep=waits.append)
    assert waits == []
    with pytest.raises(ValueError, match="at least 1"):
        retry(Flaky(), attempts=0, sleep=waits.append)


@pytest.mark.parametrize(
    "error", [ValueError("bad input"), KeyError("x"), RuntimeError("database gone")], ids=repr
)
def test_other_errors_pass_straight_through(error: Exception) -> None:
    """Anything but a conflict is raised from the first attempt: no retry, no wait."""
    attempt, waits = Flaky(error), list[float]()
    with pytest.raises(type(error)) as raised:
        retry(attempt, sleep=waits.append)
    assert raised.value is error
    assert (attempt.calls, waits) == (1, [])


def test_a_non_conflict_after_conflicts_stops_the_retries() -> None:
    """A conflict, then a refusal (the state changed and the command is no longer legal): raised."""
    attempt, waits = Flaky(conflict(), ValueError("already registered")), list[float]()
    with pytest.raises(ValueError, match="already registered"):
        retry(attempt, sleep=waits.append, random=lambda: 0.0)
    assert (attempt.calls, len(waits)) == (2, 1)


def test_on_conflict_runs_before_each_wait_and_not_after_the_last() -> None:
    """``on_conflict`` sees each retried conflict, before its wait; the final one is only raised."""
    errors = [conflict(n) for n in range(3)]
    log: list[object] = []
    with pytest.raises(ConcurrencyConflict):
        retry(Flaky(*errors), attempts=3, sleep=lambda s: log.append("sleep"), on_conflict=log.append)
    assert log == [errors[0], "sleep", errors[1], "sleep"]


def test_the_window_doubles_then_is_capped() -> None:
    """With random() just under 1 the waits approach 5, 10, 20 … ms and never exceed 200 ms."""
    top = 1.0 - 1e-12
    windows = [backoff(n, random=lambda: top) for n in range(1, 12)]
    expected = [min(CAP_SECONDS, BASE_SECONDS * 2 ** (n - 1)) for n in range(1, 12)]
    assert windows == pytest.approx([w * top for w in expected])
    assert expected[:6] == pytest.approx([0.005, 0.01, 0.02, 0.04, 0.08, 0.16])
    assert expected[6:] == [CAP_SECONDS] * 5
    assert backoff(10_000, random=lambda: top) < CAP_SECONDS  # no overflow far out


@pytest.mark.parametrize("failures", [1, 2, 3, 5, 8, 20])
def test_jitter_stays_within_zero_and_the_window(failures: int) -> None:
    """Full jitter: each wait is random() times the window, so within [0, window)."""
    window = min(CAP_SECONDS, BASE_SECONDS * 2 ** (failures - 1))
    for r in (0.0, 0.25, 0.999999):
        wait = backoff(failures, random=sequence(r))
        assert 0.0 <= wait < window
        assert wait == pytest.approx(r * window)
    with pytest.raises(ValueError):
        backoff(0)


def test_the_waits_use_the_given_random_draws_in_order() -> None:
    """Each wait draws once: the draws and the growing window give exactly these waits."""
    waits: list[float] = []
    retry(
        Flaky(conflict(), conflict(), conflict()),
        sleep=waits.append,
        random=sequence(0.9, 0.1, 0.5),
        base=0.01,
        cap=0.03,
    )
    assert waits == pytest.approx([0.9 * 0.01, 0.1 * 0.02, 0.5 * 0.03])


def test_the_default_sleep_is_time_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``sleep``, the wait goes to ``time.sleep`` (looked up when waiting)."""
    import time

    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    assert retry(Flaky(conflict()), random=lambda: 0.5) == "done"
    assert slept == [0.5 * BASE_SECONDS]


class Conflicting(InMemoryEventStore):
    """Raises a conflict on the first ``failures`` appends, as if another writer came first."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def append_batch(
        self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
    ) -> AppendResult:
        if self.failures:
            self.failures -= 1
            raise ConcurrencyConflict(appends[0].stream_id, 0, 1)
        return super().append_batch(appends, idempotency_key=idempotency_key)


def test_the_handlers_retry_through_the_helper() -> None:
    """A command survives nine conflicts in a row, waiting through the ``sleep`` it is given."""
    command = RegisterEnterprise(
        uscc=make_uscc("91500000MA5U0000A"), name="重庆测试科技有限公司", district="yubei"
    )
    waits: list[float] = []
    store = Conflicting(RETRIES)
    handle(store, command, today=DAY, actor="clerk", sleep=waits.append)
    assert (store.last_position(), len(waits), RETRIES) == (1, 9, 9)
    with pytest.raises(ConcurrencyConflict):
        handle(Conflicting(RETRIES + 1), command, today=DAY, actor="clerk", sleep=waits.append)


def test_approvals_and_payments_retry_through_the_helper() -> None:
    """`entitlement pay` survives conflicts the same way: decided again, one payment recorded."""
    from decimal import Decimal

    from domain.policy.payouts import PayEntitlement
    from service_layer.unit_of_work import decide_on_entitlement as decide
    from tests.bootstrap import bootstrap, uscc

    store = Conflicting(0)
    d = bootstrap(store=store)
    d.activate("yubei-2024")
    who = uscc(1)
    d.register(who, "yubei", size="medium")
    d.climb(who, ("innovative-sme.certified", "2021-01-04"), ("srdi-municipal.certified", "2023-03-01"))
    [record] = d.entitlements(who, "YB-5a")
    store.failures, waits = 3, list[float]()
    pay = PayEntitlement(
        entitlement_id=record.entitlement_id, amount=Decimal(40000), ref="V1", on=date(2024, 1, 2)
    )
    _, after, _ = decide(store, who, pay, today=d.today, actor="finance", sleep=waits.append)
    assert (after.paid_amount, len(waits)) == (Decimal(40000), 3)
    assert [e.event_type for e in store.read_stream(f"enterprise-{who}")].count("EntitlementPaid") == 1


def test_an_import_retries_through_the_helper_and_gives_up_after_the_last_attempt() -> None:
    """A conflicting import is decided again with the same back-off; after the last attempt, nothing."""
    from service_layer.importer import import_csv

    uscc = make_uscc("91500000MA5U0001A")
    data = f"uscc,name,district\n{uscc},重庆导入科技有限公司,yubei\n".encode()
    waits: list[float] = []
    store = Conflicting(RETRIES)
    report = import_csv(store, data, today=DAY, actor="clerk", sleep=waits.append)
    assert (report.registered, store.last_position(), len(waits)) == (1, 1, RETRIES)
    failing = Conflicting(RETRIES + 1)
    with pytest.raises(ConcurrencyConflict):
        import_csv(failing, data, today=DAY, actor="clerk", sleep=waits.append)
    assert failing.last_position() == 0
