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
is a pure version guard). A command recorded meanwhile on any of them, with the old policy list,
therefore makes the activation retry rather than miss it; the reverse race (a command deciding
with a stale list after the activation) is closed by the same guard on `policies` that the command
append carries (`service_layer.policies.LiveReactor.guards`).

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

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from domain.decisions import not_in_future
from domain.enterprise import Enterprise
from domain.handlers import RETRIES
from domain.policy.engine import evaluate_history
from domain.policy.facts_builder import build_facts, existing_entitlements
from domain.policy.model import Policy
from domain.policy.reactor import decision_events
from events.envelope import AppendResult, NewEvent, RecordedEvent, StreamAppend
from events.schemas import POLICIES_STREAM, PolicyActivated, enterprise_stream
from events.store import ConcurrencyConflict, EventStore

ACTIVATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:srdi:policy-activation")


def policy_digest(policy: Policy) -> str:
    """sha256 of the policy's canonical JSON: two activations of the same data share it."""
    text = json.dumps(
        policy.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ActivePolicy:
    """A policy in force: its data as activated, and when and by which event."""

    policy: Policy
    digest: str
    activated_on: date
    event_id: str
    source: str | None


def active_policies(events: Sequence[RecordedEvent]) -> dict[str, ActivePolicy]:
    """The active set from the `policies` stream: the latest activation of each key."""
    active: dict[str, ActivePolicy] = {}
    for event in events:
        if event.event_type != "PolicyActivated":
            continue
        data = event.data
        policy = Policy.model_validate(data["policy"])
        active[policy.key] = ActivePolicy(
            policy, str(data["digest"]), event.occurred_on, event.event_id, data.get("source")
        )
    return active


def read_active(store: EventStore) -> tuple[dict[str, ActivePolicy], int]:
    """The active policies and the `policies` stream version they were read at."""
    events = store.read_stream(POLICIES_STREAM)
    return active_policies(events), len(events)


@dataclass(frozen=True)
class ActivationResult:
    """What an activation wrote (nothing, when the same policy was already active)."""

    key: str
    digest: str
    activated: bool
    event_id: str
    on: date
    enterprises: int
    events: tuple[NewEvent, ...]
    append: AppendResult | None

    @property
    def created(self) -> int:
        """How many entitlements the history owed."""
        return sum(1 for e in self.events if e.event_type == "EntitlementCreated")


def registered_usccs(store: EventStore, districts: Iterable[str]) -> list[str]:
    """Every enterprise registered in `districts`, by a scan of the log (the service layer asks
    the status projection instead, which is faster; the domain handler re-checks each one)."""
    wanted = set(districts)
    return sorted(
        str(e.data["uscc"])
        for e in store.read_all()
        if e.event_type == "EnterpriseRegistered" and e.data.get("district") in wanted
    )


def activate(
    store: EventStore,
    policy: Policy,
    *,
    on: date,
    today: date,
    actor: str,
    usccs: Iterable[str] | None = None,
    source: str | None = "builtin",
) -> ActivationResult:
    """Activate `policy` on `on` and create what the history it reaches owes, in one append."""
    not_in_future(on, today, "the activation")
    digest = policy_digest(policy)
    candidates = sorted(set(usccs if usccs is not None else registered_usccs(store, policy.districts)))
    attempt = 0
    while True:
        attempt += 1
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
        evaluated = 0
        for uscc in candidates:
            stream = enterprise_stream(uscc)
            enterprise = Enterprise.load(store.read_stream(stream))
            if not enterprise.registered or enterprise.district not in policy.districts:
                continue
            evaluated += 1
            facts = build_facts(enterprise)
            decisions = evaluate_history(policy, facts, existing_entitlements(enterprise, policy.key))
            new = decision_events(decisions, facts, on=on, cause=event_id)
            appends.append(StreamAppend(stream, tuple(new), enterprise.version))
            owed += new
        try:
            receipt = store.append_batch(appends)
        except ConcurrencyConflict:
            if attempt > RETRIES:
                raise
            continue
        return ActivationResult(policy.key, digest, True, event_id, on, evaluated, tuple(owed), receipt)
