"""Switching a policy on: one `PolicyActivated` event, and everything the history it reaches owes.

Which policies are in force is itself recorded: every activation is a `PolicyActivated` event in
the one `policies` stream, carrying the key, a digest and the full validated policy data, so a
replay or an audit knows exactly which rules were applied, even after the shipped file changed.
The active set is the latest activation of each key (a new version of a key replaces the older;
its entitlements keep their ids, so nothing is created twice).

`activate` evaluates, for every enterprise of the policy's districts, the whole history the policy
reaches (Yubei 2024 reaches back to certifications from 2022-01-01) and appends the activation and
every resulting entitlement in ONE `append_batch`: the `policies` stream at the version read, and
every enterprise evaluated at the version it was read at, even those owed nothing (an empty append
is a pure version guard). Three races are closed:

- a command recorded meanwhile on an enterprise it evaluated, with the old policy list: the version
  guard on that enterprise makes the activation retry rather than miss it;
- a command deciding with the old list and appending after the activation: closed by the guard on
  `policies` that the command's append carries (`service_layer.policies.LiveReactor.guards`);
- an enterprise the activation never read, because it was registered after the list of the
  district's enterprises was taken (``since``), and then certified with the old list before the
  activation appended: no version guard can name a stream not yet known, so the batch is written
  with a *check*: every `EnterpriseRegistered` of the districts between ``since`` and the batch's
  own first position must be one the activation evaluated. Otherwise nothing is written and the
  activation is tried again with those enterprises too. The check must run under the store's write
  lock, inside the transaction of the append (`Commit`; the service layer gives the SQL store's,
  `service_layer.policies.locked_commit`); without one (`append_after_check`, for a store with one
  writer such as the in-memory one) it runs just before the append.

Conflicts are retried with a jittered back-off (`service_layer.retry`).

Decided here:
- activating the policy already active with the same digest is a no-op that writes nothing (it
  says so); the same key with other data is a new version and is activated;
- the activation date (`--on`) is its business date; it may not be in the future. It does not
  bound which triggers count: a policy's own reach (reach-back date, in-force window) does, so a
  milestone recorded late is evaluated like any other;
- entitlements created by an activation are dated on the activation day (their `accrued_on` is the
  trigger's date), caused by the activation event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from domain.deciders import not_in_future
from domain.enterprise import Enterprise
from domain.policy.facts import build_facts
from domain.policy.model import Policy
from domain.policy.reactor import (
    ACTIVATION_NAMESPACE,
    ActivationResult,
    ActivePolicy,
    active_policies,
    policy_digest,
    reconcile,
)
from events.envelope import AppendResult, NewEvent, StreamAppend
from events.schemas import POLICIES_STREAM, PolicyActivated, enterprise_stream
from events.store import ConcurrencyConflict, EventStore
from service_layer.retry import retry

Check = Callable[[int], None]
"""Called with the global position the batch's first event gets; raises to write nothing."""

Commit = Callable[[Sequence[StreamAppend], Check], AppendResult]
"""Appends a batch atomically, calling ``check(first_position)`` under the store's write lock before
the transaction commits; if the check raises, nothing is written and its error propagates."""


def read_active(store: EventStore) -> tuple[dict[str, ActivePolicy], int]:
    """The active policies and the `policies` stream version they were read at."""
    events = store.read_stream(POLICIES_STREAM)
    return active_policies(events), len(events)


def registered_usccs(store: EventStore, districts: Iterable[str]) -> list[str]:
    """Every enterprise registered in `districts`, by a scan of the log (the service layer asks
    the status projection instead, which is faster; the domain handler re-checks each one)."""
    return registered_between(store, districts, after=0)


def registered_between(
    store: EventStore, districts: Iterable[str], *, after: int, before: int | None = None
) -> list[str]:
    """Enterprises registered in (or moved to) `districts` after position `after` (before `before`)."""
    if before is not None and before <= after + 1:
        return []
    wanted = set(districts)
    until = None if before is None else before - 1
    return sorted(
        {
            str(e.data["uscc"])
            for e in store.read_all(
                after,
                until_position=until,
                event_types=("EnterpriseRegistered", "EnterpriseDetailsChanged"),
            )
            if e.data.get("district") in wanted
        }
    )


class UnseenEnterprise(ConcurrencyConflict):
    """An enterprise of the policy's districts was registered while the activation ran: try again."""

    def __init__(self, usccs: Sequence[str]) -> None:
        super().__init__(enterprise_stream(usccs[0]), 0, 1)
        self.usccs = tuple(usccs)
        self.args = (
            f"{len(usccs)} enterprise(s) registered while the policy was being activated "
            f"({', '.join(usccs[:3])}{' …' if len(usccs) > 3 else ''}); evaluate them too and try again",
        )


def append_after_check(store: EventStore) -> Commit:
    """The `Commit` of a store that cannot run a check inside its append: check, then append.

    Exact for a store with one writer (the in-memory store of tests); with concurrent writers an
    enterprise registered between the check and the append is missed: give `activate` the store's
    own `Commit` instead (`service_layer.policies.locked_commit`).
    """

    def commit(appends: Sequence[StreamAppend], check: Check) -> AppendResult:
        check(store.last_position() + 1)
        return store.append_batch(appends)

    return commit


def activate(
    store: EventStore,
    policy: Policy,
    *,
    on: date,
    today: date,
    actor: str,
    usccs: Iterable[str] | None = None,
    since: int | None = None,
    source: str | None = "builtin",
    commit: Commit | None = None,
    sleep: Callable[[float], object] | None = None,
) -> ActivationResult:
    """Activate `policy` on `on` and create what the history it reaches owes, in one append.

    `usccs` lists the districts' enterprises (default: a scan of the log) as of log position
    `since`: every one registered at or before it must be in the list (default: the position when
    `activate` starts, right for a list taken just before; a caller that took it earlier says so).
    Enterprises registered after `since` are found by the check `commit` runs with the append.
    """
    not_in_future(on, today, "the activation")
    digest = policy_digest(policy)
    if usccs is None:
        since = store.last_position()
        usccs = registered_usccs(store, policy.districts)
    elif since is None:
        since = store.last_position()
    start = since
    candidates = set(usccs)
    write = commit if commit is not None else append_after_check(store)

    def attempt() -> ActivationResult:
        active, version = read_active(store)
        current = active.get(policy.key)
        if current is not None and current.digest == digest:
            return ActivationResult(
                policy.key, digest, False, current.event_id, current.activated_on, 0, (), None
            )
        event_id = str(uuid.uuid5(ACTIVATION_NAMESPACE, f"{policy.key}|{digest}|{version}"))
        activated = PolicyActivated(
            key=policy.key, digest=digest, policy=policy.model_dump(mode="json"), source=source
        )
        appends = [
            StreamAppend(POLICIES_STREAM, (NewEvent(activated, on, actor, event_id=event_id),), version)
        ]
        owed: list[NewEvent] = []
        evaluated: set[str] = set()
        for uscc in sorted(candidates):
            stream = enterprise_stream(uscc)
            enterprise = Enterprise.load(store.read_stream(stream))
            if not enterprise.registered:
                continue
            facts = build_facts(enterprise)
            if not facts.districts() & set(policy.districts):
                continue
            evaluated.add(uscc)
            new = reconcile(
                [policy], enterprise, cause_id=event_id, on=on, what=f"policy {policy.key} activated"
            )
            appends.append(StreamAppend(stream, tuple(new), enterprise.version))
            owed += new

        def check(first_position: int) -> None:
            registered = registered_between(store, policy.districts, after=start, before=first_position)
            unseen = [uscc for uscc in registered if uscc not in evaluated]
            if unseen:
                candidates.update(unseen)
                raise UnseenEnterprise(unseen)

        receipt = write(appends, check)
        return ActivationResult(policy.key, digest, True, event_id, on, len(evaluated), tuple(owed), receipt)

    return retry(attempt, sleep=sleep)
