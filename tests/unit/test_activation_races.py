"""A policy activation and the enterprises registered while it runs (in memory, step by step).

The activation lists the districts' enterprises, reads and evaluates each, then appends. An
enterprise registered and certified (with the old policy list) after the list was taken is in no
version guard of the batch; the check that the batch is written with finds it, and the activation
is decided again with it, so the new policy's entitlement is neither lost nor doubled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import pytest

from domain.policy.model import load_builtin
from events.envelope import AppendResult, RecordedEvent, StreamAppend
from events.memory import InMemoryEventStore
from events.schemas import enterprise_stream
from events.store import ConcurrencyConflict
from service_layer.activation import Check, UnseenEnterprise, activate, registered_between
from tests.bootstrap import TODAY, Office, bootstrap, uscc

KNOWN, NEWCOMER, ELSEWHERE = uscc(1), uscc(2), uscc(3)
YUBEI = load_builtin("yubei-2024")


class HookedStore(InMemoryEventStore):
    """Runs ``hook`` once, the first time the stream ``when`` is read after `arm`."""

    def __init__(self) -> None:
        super().__init__()
        self.when: str | None = None
        self.hook: Callable[[], object] = lambda: None

    def arm(self, when: str, hook: Callable[[], object]) -> None:
        self.when, self.hook = when, hook

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 0,
        *,
        to_version: int | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        if stream_id == self.when:
            self.when = None
            self.hook()
        return super().read_stream(
            stream_id, from_version, to_version=to_version, descending=descending, limit=limit
        )


def newcomer_climbs(d: Office, who: str = NEWCOMER, district: str = "yubei") -> None:
    """Registered, then certified 市级专精特新 in 2023 (YB-5a in Yubei), with the desk's policy list."""
    d.register(who, district)
    d.climb(who, ("innovative-sme.certified", "2021-05-01"), ("srdi-municipal.certified", "2023-03-01"))


def yb5a(d: Office, who: str) -> list[RecordedEvent]:
    return [
        e
        for e in d.store.read_stream(enterprise_stream(who))
        if e.event_type == "EntitlementCreated" and e.data["rule"] == "YB-5a"
    ]


def activations(d: Office) -> list[RecordedEvent]:
    return [e for e in d.store.read_all() if e.event_type == "PolicyActivated"]


def test_an_enterprise_registered_while_the_activation_evaluates_is_evaluated_too() -> None:
    """Registered and certified while the activation reads the districts' enterprises: owed once."""
    store = HookedStore()
    d = bootstrap(store=store)
    d.register(KNOWN, "yubei")
    store.arm(enterprise_stream(KNOWN), lambda: newcomer_climbs(bootstrap(store=store)))
    waits: list[float] = []
    result = activate(store, YUBEI, on=TODAY, today=TODAY, actor="finance", sleep=waits.append)
    assert store.when is None, "the hook ran"
    assert len(waits) == 1, "one attempt found the newcomer unseen and was decided again"
    assert result.enterprises == 2
    [owed] = yb5a(d, NEWCOMER)
    assert (owed.data["status"], owed.causation_id) == ("accrued", result.event_id)
    assert len(activations(d)) == 1


def test_a_check_that_fails_writes_nothing_and_the_next_attempt_includes_the_newcomer() -> None:
    """A `Commit` holding the write lock: the newcomer committed just before it; the check raises
    `UnseenEnterprise` (a conflict), nothing of that batch is written, the retry evaluates it."""
    d = bootstrap()
    d.register(KNOWN, "yubei")
    since = d.store.last_position()
    calls: list[tuple[int, Sequence[str]]] = []
    raised: list[BaseException] = []

    def commit(appends: Sequence[StreamAppend], check: Check) -> AppendResult:
        if not calls:
            newcomer_climbs(bootstrap(store=d.store))  # committed first, with the old policy list
        calls.append((d.store.last_position(), [a.stream_id for a in appends]))
        try:
            check(d.store.last_position() + 1)
        except ConcurrencyConflict as error:
            raised.append(error)
            raise
        return d.store.append_batch(appends)

    result = activate(
        d.store, YUBEI, on=TODAY, today=TODAY, actor="finance", usccs=[KNOWN], since=since,
        commit=commit, sleep=lambda _: None,
    )  # fmt: skip
    assert len(calls) == 2
    assert enterprise_stream(NEWCOMER) not in calls[0][1]
    assert enterprise_stream(NEWCOMER) in calls[1][1]
    [error] = raised
    assert isinstance(error, UnseenEnterprise) and error.usccs == (NEWCOMER,)
    assert "\n" not in str(error) and NEWCOMER in str(error)
    assert len(activations(d)) == 1
    [owed] = yb5a(d, NEWCOMER)
    assert owed.causation_id == result.event_id


def test_a_registration_in_another_district_does_not_hold_the_activation_up() -> None:
    """Only the policy's districts matter: a Rongchang newcomer meanwhile causes no second attempt."""
    store = HookedStore()
    d = bootstrap(store=store)
    d.register(KNOWN, "yubei")
    store.arm(
        enterprise_stream(KNOWN), lambda: newcomer_climbs(bootstrap(store=store), ELSEWHERE, "rongchang")
    )
    waits: list[float] = []
    result = activate(store, YUBEI, on=TODAY, today=TODAY, actor="finance", sleep=waits.append)
    assert (store.when, waits, result.enterprises) == (None, [], 1)


def test_an_enterprise_registered_before_the_list_was_taken_is_the_callers_to_list() -> None:
    """`since` is where the caller's list is complete: one registered after it is found by the
    check, however the list was taken (here: an empty list taken at position `since`)."""
    d = bootstrap()
    since = d.store.last_position()
    newcomer_climbs(bootstrap(store=d.store))
    result = activate(
        d.store, YUBEI, on=TODAY, today=TODAY, actor="finance", usccs=[], since=since, sleep=lambda _: None
    )
    assert result.enterprises == 1
    assert len(yb5a(d, NEWCOMER)) == 1


def test_registered_between_reads_only_the_gap() -> None:
    """Registrations strictly after `after` and before `before`, in the given districts."""
    d = bootstrap()
    d.register(KNOWN, "yubei")  # position 1
    d.register(ELSEWHERE, "rongchang")  # 2
    d.register(NEWCOMER, "yubei")  # 3
    assert registered_between(d.store, ["yubei"], after=0) == sorted([KNOWN, NEWCOMER])
    assert registered_between(d.store, ["yubei"], after=1) == [NEWCOMER]
    assert registered_between(d.store, ["yubei"], after=0, before=3) == [KNOWN]
    assert registered_between(d.store, ["yubei", "rongchang"], after=1, before=3) == [ELSEWHERE]
    assert registered_between(d.store, ["yubei"], after=2, before=3) == []


def test_the_activation_gives_up_like_any_write_when_conflicts_persist() -> None:
    """A conflict on every append: the activation retries (waiting) and finally raises, writing nothing."""

    class AlwaysConflicting(InMemoryEventStore):
        def append_batch(
            self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
        ) -> AppendResult:
            raise ConcurrencyConflict(appends[0].stream_id, 0, 1)

    store = AlwaysConflicting()
    waits: list[float] = []
    with pytest.raises(ConcurrencyConflict):
        activate(store, YUBEI, on=date(2025, 1, 1), today=TODAY, actor="finance", sleep=waits.append)
    assert len(waits) == 9 and store.last_position() == 0


def test_an_import_decided_before_an_activation_and_appended_after_it_is_decided_again() -> None:
    """An import whose lines were decided before an activation committed owes what the new policy gives."""
    from service_layer.importer import import_csv
    from service_layer.policies import LiveReactor

    class ActivatingFirst(InMemoryEventStore):
        """Activates Yubei 2024 just before the import's batch is appended."""

        armed = True

        def append_batch(
            self, appends: Sequence[StreamAppend], *, idempotency_key: str | None = None
        ) -> AppendResult:
            if self.armed and (idempotency_key or "").startswith("import:"):
                self.armed = False
                activate(self, YUBEI, on=TODAY, today=TODAY, actor="finance")
            return super().append_batch(appends, idempotency_key=idempotency_key)

    store = ActivatingFirst()
    lines = [
        "uscc,name,district,milestone,on,ref",
        f"{NEWCOMER},重庆导入科技有限公司,yubei,,,",
        f"{NEWCOMER},,,innovative-sme.certified,2021-05-01,a",
        f"{NEWCOMER},,,srdi-municipal.certified,2023-03-01,b",
    ]
    data = ("\n".join(lines) + "\n").encode()
    import_csv(store, data, today=TODAY, actor="clerk", reactor=LiveReactor(store))
    assert not store.armed
    assert len(yb5a(bootstrap(store=store), NEWCOMER)) == 1
