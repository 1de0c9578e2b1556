"""Policies in service: the live reactor every command uses, activation, and ledger totals.

`LiveReactor` is what `Services.reactor` holds. The pure `PolicyReactor` needs the active
policies; this wrapper reads them from the `policies` stream once, and tells the handler which
version it used (`guards`), so the command's append asserts it: a command that decided with a
policy list an activation has since changed (in this process or another) conflicts, the handler
calls `refresh`, and the command is decided again with the new list. No query per command: the
demo records thousands of commands through it.

`activate_policy` notes the log position before it lists the districts' enterprises (from the status
projection) and writes through `locked_commit`: the activation's batch and its check that no
enterprise of those districts was registered unseen since then run in ONE write transaction, under
the store's global write lock (see `domain.policy.reactor`).

The guard applies only to the store the policies were read from. The import decides against an
overlay and asserts the same version in its one batch (`service_layer.importer`), so an activation
committed while it ran makes it decide the whole file again. The demo (sample data) decides in
memory with the list as it was when it started; an activation committed while a demo runs is not
seen by the demo's enterprises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from domain.enterprise import Enterprise
from domain.errors import InvalidInput
from domain.policy.model import Policy, builtin_keys, load_builtin, load_policy
from domain.policy.reactor import ActivationResult, ActivePolicy, PolicyReactor
from events.envelope import NewEvent
from events.schemas import POLICIES_STREAM
from events.store import EventStore
from service_layer.activation import Commit, activate, read_active
from service_layer.commands import current_actor, today


class LiveReactor:
    """The policy engine bound to a store's `policies` stream (see the module docstring)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._version = -1
        self._active: dict[str, ActivePolicy] = {}
        self._reactor = PolicyReactor(())

    def active(self) -> dict[str, ActivePolicy]:
        """The active policies as first read (or read again after `refresh`)."""
        if self._version < 0:
            self._active, self._version = read_active(self.store)
            self._reactor = PolicyReactor(a.policy for a in self._active.values())
        return self._active

    def refresh(self) -> None:
        """Forget the cached list (the handler calls this after a conflict)."""
        self._version = -1

    def react(self, enterprise: Enterprise, new_events: Sequence[NewEvent], *, today: date) -> list[NewEvent]:
        self.active()
        return self._reactor.react(enterprise, new_events, today=today)

    def guards(self, store: object) -> dict[str, int]:
        """`policies` at the version the last reaction used, when appending to our own store."""
        return {POLICIES_STREAM: self._version} if store is self.store and self._version >= 0 else {}


def resolve_policy(key: str, file: Path | None = None) -> tuple[Policy, str]:
    """The built-in policy `key`, or the file's (which must carry the same key); refused with the
    field and the reason when it does not validate."""
    if file is None:
        return load_builtin(key), "builtin"
    from service_layer.files import read_input

    policy = load_policy(file, read_input(file, "policy file"))
    if policy.key != key:
        raise InvalidInput(
            f"policy file {file.name}: key is {policy.key!r}, not {key!r}; give the file's key"
        )
    return policy, file.name


def district_usccs(services: Any, districts: Sequence[str]) -> list[str]:
    """Enterprises registered in `districts`, from the status projection (caught up first)."""
    import sqlalchemy as sa

    from projections.feed import view
    from projections.status import enterprises_table as table

    with view(services.engine, ["status"]) as conn:
        rows = conn.execute(sa.select(table.c.uscc).where(table.c.district.in_(list(districts))))
        return sorted(str(r[0]) for r in rows)


def locked_commit(store: object) -> Commit | None:
    """The SQL store's `Commit`: the batch appended and the check run in one write transaction.

    See ``SqlEventStore.append_batch_checked``: the check reads exactly the events that came first,
    and if it raises, nothing is written. None for another store (the activation then checks before
    appending).
    """
    from events.sql_store import SqlEventStore

    if not isinstance(store, SqlEventStore):
        return None
    return store.append_batch_checked


def activate_policy(
    services: Any, key: str, on: date | None = None, file: Path | None = None
) -> ActivationResult:
    """`srdi policy activate KEY [--on DATE] [--file PATH]` (a file that does not validate: exit 2)."""
    policy, source = resolve_policy(key, file)
    day = today(services.settings.timezone)
    store = services.store
    since = store.last_position()  # the projection read next holds every enterprise registered by then
    result = activate(
        store,
        policy,
        on=on or day,
        today=day,
        actor=current_actor(services),
        usccs=district_usccs(services, policy.districts),
        since=since,
        source=source,
        commit=locked_commit(store),
    )
    cached = services.__dict__.get("reactor")
    if isinstance(cached, LiveReactor):
        cached.refresh()  # this process's next command sees the new policy at once
    return result


def activate_all(services: Any, on: date | None = None) -> list[ActivationResult]:
    """Activate every built-in policy (the demo's call): on `on`, or each on its in-force date."""
    return [activate_policy(services, key, on or load_builtin(key).in_force_from) for key in builtin_keys()]


def active_policies(services: Any) -> dict[str, ActivePolicy]:
    """The policies in force now."""
    return read_active(services.store)[0]


def listed(services: Any) -> list[dict[str, Any]]:
    """`srdi policy list`: every shipped policy and every active one (an active file's own data)."""
    active = active_policies(services)
    rows: list[dict[str, Any]] = []
    for key in sorted(set(builtin_keys()) | set(active)):
        on = active.get(key)
        policy = on.policy if on is not None else load_builtin(key)
        rows.append(
            {
                "key": key,
                "title_zh": policy.title_zh,
                "districts": list(policy.districts),
                "rules": len(policy.rules),
                "active": on is not None,
                "activated_on": on.activated_on if on else None,
                "digest": on.digest if on else None,
                "source": on.source if on else "builtin",
            }
        )
    return rows


def shown(services: Any, key: str) -> tuple[Policy, ActivePolicy | None]:
    """`srdi policy show KEY`: the document as activated when it is active, else as shipped."""
    active = active_policies(services).get(key)
    return (active.policy if active is not None else load_builtin(key)), active


def policy_json(policy: Policy, active: ActivePolicy | None) -> dict[str, Any]:
    """What `srdi policy show --json` prints: the document's data and whether it is active."""
    return {
        "key": policy.key,
        "title_zh": policy.title_zh,
        "title": policy.title,
        "document_number": policy.document_number,
        "issuer_zh": policy.issuer_zh,
        "in_force_from": policy.in_force_from,
        "in_force_until": policy.in_force_until,
        "reaches_back_to": policy.reaches_back_to,
        "districts": list(policy.districts),
        "rules": [
            {
                "id": r.id,
                "article": r.article,
                "kind": r.kind,
                "summary": r.summary,
                "amount": r.amount,
                "amount_by_track": dict(r.amount_by_track or {}),
                "formula": r.formula.name if r.formula is not None else None,
                "ceiling": r.ceiling,
                "responsible_units": list(r.responsible_units),
                "quote": r.quote,
            }
            for r in policy.rules
        ],
        "readings": [
            {"name": x.name, "default": x.default, "options": list(x.options), "about": x.about}
            for x in policy.readings
        ],
        "caps": [{"id": c.id, "total": c.total, "label": c.label} for c in policy.caps],
        "active": active is not None,
        "activated_on": active.activated_on if active else None,
    }


def ledger_totals_by_district(engine: Any) -> dict[str, dict[str, Any]]:
    """The ledger totals (fixed, ceilings, approved, paid, entries) per district, caught up first."""
    from projections.feed import view
    from projections.ledger_view import LedgerFilter, read_ledger, totals

    with view(engine, ["ledger"]) as conn:
        entries = read_ledger(conn, LedgerFilter())
    by: dict[str, list[Any]] = {}
    for entry in entries:
        by.setdefault(entry.district, []).append(entry)
    return {d: {**totals(rows), "entries": len(rows)} for d, rows in sorted(by.items())}


def created_entitlements(result: ActivationResult) -> list[dict[str, Any]]:
    """The entitlements an activation created, as `{"id", "enterprise", "rule", "amount"}`."""
    from events.schemas import EntitlementCreated

    return [
        {"id": e.entitlement_id, "enterprise": e.uscc, "rule": e.rule, "amount": e.amount}
        for e in (new.event for new in result.events)
        if isinstance(e, EntitlementCreated)
    ]
