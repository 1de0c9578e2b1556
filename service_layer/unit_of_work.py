"""The unit of work: load the enterprise, decide, let the policy engine react, append once, retry.

Every write goes through here — `record`, `report`, `retract`, `enterprise update`, `entitlement
approve|pay`, the import, the demo and the scheduler (`handle`, `decide_on_entitlement`); a policy
activation uses the same retry over many streams (`service_layer.activation`):

1. read the ``enterprise-<USCC>`` stream and fold it (`Enterprise.load`);
2. decide the new events (`domain.deciders`, `domain.policy.payouts`: pure; a refusal raises and
   nothing is written);
3. fold them in and give the state after to the `Reactor` (the policy engine), which returns the
   entitlement events that keep the books equal to the facts (`domain.policy.reactor`);
4. append the command's events AND the reactions in ONE append at the version loaded (with the
   reactor's guard streams), so a fact and the entitlements it changes are stored together or
   not at all.

A `ConcurrencyConflict` means someone wrote in between: reload and decide again, after a short
random wait that grows with each conflict (`service_layer.retry`), up to `ATTEMPTS` times in all,
then let it raise (CLI exit 3, nothing written). `domain/` decides and never appends: it imports
no store, no retry, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from domain import deciders
from domain.commands import (
    AnyCommand,
    ChangeEnterpriseDetails,
    RecordMilestone,
    RegisterEnterprise,
    Retract,
)
from domain.enterprise import Enterprise, EntitlementRecord
from domain.errors import InvalidInput
from domain.policy.payouts import (
    ApproveEntitlement,
    PayEntitlement,
    decide_approval,
    decide_payment,
    entitlement,
)
from events.envelope import AppendResult, NewEvent, RecordedEvent, StreamAppend
from events.schemas import enterprise_stream
from events.store import EventStore
from service_layer.retry import ATTEMPTS, retry

RETRIES = ATTEMPTS - 1
"""How many conflicts in a row a command survives (the attempts after the first)."""


class Reactor(Protocol):
    """What reacts to new enterprise events inside the same append (the policy engine is one).

    ``enterprise`` is the state AFTER ``new_events``; the returned events (entitlements and their
    reversals) go into the enterprise stream in the same append. It must be pure: a retried
    command calls it again with the reloaded state.
    """

    def react(
        self, enterprise: Enterprise, new_events: Sequence[NewEvent], *, today: date
    ) -> list[NewEvent]: ...


@dataclass(frozen=True)
class CommandResult:
    """What one command appended: its own events, the reactions, the state after, the store's receipt."""

    stream_id: str
    events: tuple[NewEvent, ...]
    reactions: tuple[NewEvent, ...]
    enterprise: Enterprise
    append: AppendResult

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(e.event_id for e in self.events)

    @property
    def event_id(self) -> str:
        """The id of the (first) event the command itself appended."""
        return self.events[0].event_id

    def entitlements(self) -> list[EntitlementRecord]:
        """Every entitlement the reactions created or changed, as it stands after the command."""
        touched: list[str] = []
        for new in self.reactions:
            key = getattr(new.event, "entitlement_id", None)
            if isinstance(key, str) and key not in touched:
                touched.append(key)
        return [self.enterprise.entitlements[k] for k in touched if k in self.enterprise.entitlements]


def load(store: EventStore, uscc: str) -> Enterprise:
    """The enterprise as the log knows it now (an unregistered USCC folds to an empty aggregate)."""
    return Enterprise.load(store.read_stream(enterprise_stream(uscc)))


def handle(
    store: EventStore,
    command: AnyCommand,
    *,
    today: date,
    actor: str,
    reactor: Reactor | None = None,
    system: bool = False,
    correlation_id: str | None = None,
    sleep: Callable[[float], object] | None = None,
) -> CommandResult:
    """Decide and append one command; ``system=True`` is the scheduler's path (it may record `expired`).

    ``sleep`` is how the back-off between conflicting attempts waits (default ``time.sleep``).
    """
    decide: Callable[[Enterprise], list[NewEvent]]
    if isinstance(command, Retract):
        target = store.get_event(command.event_id)
        if target is None or not target.stream_id.startswith(enterprise_stream("")):
            raise InvalidInput(
                f"no event {command.event_id} in any enterprise's history; "
                "copy the event id from 'srdi history USCC'"
            )
        uscc = target.stream_id.removeprefix(enterprise_stream(""))

        def decide(ent: Enterprise) -> list[NewEvent]:
            return deciders.retract(ent, target, command, today, actor)

    else:
        uscc = command.uscc
        decide = _decider(command, today, actor, system)
    return _run(store, uscc, decide, today=today, reactor=reactor, correlation_id=correlation_id, sleep=sleep)


def _decider(
    command: AnyCommand, today: date, actor: str, system: bool
) -> Callable[[Enterprise], list[NewEvent]]:
    if isinstance(command, RegisterEnterprise):
        return lambda ent: deciders.register(ent, command, today, actor)
    if isinstance(command, ChangeEnterpriseDetails):
        return lambda ent: deciders.change_details(ent, command, today, actor)
    if isinstance(command, RecordMilestone):
        return lambda ent: deciders.record_milestone(ent, command, today, actor, system=system)
    if isinstance(command, Retract):  # pragma: no cover - handled by the caller
        raise TypeError("Retract is decided with its target event")
    return lambda ent: deciders.report(ent, command, today, actor)


def _run(
    store: EventStore,
    uscc: str,
    decide: Callable[[Enterprise], list[NewEvent]],
    *,
    today: date,
    reactor: Reactor | None,
    correlation_id: str | None,
    sleep: Callable[[float], object] | None,
) -> CommandResult:
    stream = enterprise_stream(uscc)

    def attempt() -> CommandResult:
        enterprise = Enterprise.load(store.read_stream(stream))
        new = decide(enterprise)
        if correlation_id is not None:
            new = [_correlated(e, correlation_id) for e in new]
        after = enterprise.evolve(_numbered(new, stream, enterprise.version))
        reactions = reactor.react(after, new, today=today) if reactor is not None else []
        final = after.evolve(_numbered(reactions, stream, after.version)) if reactions else after
        if not new and not reactions:  # nothing decided (a payment entered again): write nothing
            nothing = AppendResult(0, 0, (), {stream: enterprise.version})
            return CommandResult(stream, (), (), final, nothing)
        guards = guard_appends(reactor, store)
        if guards:
            receipt = store.append_batch(
                [StreamAppend(stream, (*new, *reactions), enterprise.version), *guards]
            )
        else:
            receipt = store.append(stream, [*new, *reactions], expected_version=enterprise.version)
        return CommandResult(stream, tuple(new), tuple(reactions), final, receipt)

    return retry(attempt, sleep=sleep, on_conflict=lambda _conflict: refresh_reactor(reactor))


def guard_appends(reactor: Reactor | None, store: EventStore) -> list[StreamAppend]:
    """Other streams the reactions depend on, asserted at the versions read (the policy engine: `policies`).

    Optional for a reactor (``guards(store) -> {stream: version}``). Each is an empty append for
    the caller's batch, so reactions decided on a policy list that an activation has since changed
    are retried (after ``reactor.refresh()``, also optional), never stored. The import adds them to
    its one batch too.
    """
    guards = getattr(reactor, "guards", None)
    versions = dict(guards(store)) if callable(guards) else {}
    return [StreamAppend(other, (), version) for other, version in versions.items()]


def refresh_reactor(reactor: Reactor | None) -> None:
    """After a conflict, let a reactor that caches what it read (the policy list) read it again."""
    refresh = getattr(reactor, "refresh", None)
    if callable(refresh):
        refresh()


def _numbered(new: Sequence[NewEvent], stream: str, version: int) -> list[RecordedEvent]:
    return [deciders.pending(e, stream, version + i) for i, e in enumerate(new, start=1)]


def _correlated(new: NewEvent, correlation_id: str) -> NewEvent:
    return NewEvent(new.event, new.occurred_on, new.actor, new.event_id, new.causation_id, correlation_id)


def decide_on_entitlement(
    store: EventStore,
    uscc: str,
    command: ApproveEntitlement | PayEntitlement,
    *,
    today: date,
    actor: str,
    reactor: Reactor | None = None,
    sleep: Callable[[float], object] | None = None,
    vouched: bool = False,
) -> tuple[NewEvent | None, EntitlementRecord, AppendResult | None]:
    """Approve or pay an entitlement through the same unit of work as every command.

    The reactor sees the approval too: a cap shared between entitlements counts an approved amount
    instead of the ceiling. Returns the decision's event, the entitlement as it stands after, and
    the store's receipt. A payment repeating one already recorded (same voucher, amount, date)
    appends nothing: the event and receipt are then None. Two such payments at once: one
    appends, the other meets the conflict, reloads and finds the first. ``vouched``: the database
    vouches for the actor's login (`domain.policy.payouts.four_eyes`).
    """

    def decide(ent: Enterprise) -> list[NewEvent]:
        record = entitlement(ent, command.entitlement_id)
        if isinstance(command, ApproveEntitlement):
            return [decide_approval(record, command, today, actor)]
        paid = decide_payment(record, command, today, actor, vouched=vouched)
        return [] if paid is None else [paid]

    result = _run(store, uscc, decide, today=today, reactor=reactor, correlation_id=None, sleep=sleep)
    record = result.enterprise.entitlements[command.entitlement_id]
    if not result.events:
        return None, record, None
    return result.events[0], record, result.append
