"""Switching a policy on, the pure part: the digest that names a version, the active set, the result.

Which policies are in force is itself recorded: every activation is a `PolicyActivated` event in
the one `policies` stream, carrying the key, a digest and the full validated policy data, so a
replay or an audit knows exactly which rules were applied, even after the shipped file changed.
The active set is the latest activation of each key. Reading the stream, evaluating every
enterprise and appending in one batch is the service layer's (`service_layer.activation`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.policy.model import Policy
from events.envelope import AppendResult, NewEvent, RecordedEvent

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
