"""Migration 0013 on PostgreSQL: ``events.district`` filled in position-range batches, each its own
transaction, with exactly the districts the single ``UPDATE`` of its first version gave; appends
made between batches, an interrupted upgrade run again, and a downgrade."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import alembic.util
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from events.db import make_engine
from events.migrate import current_revision, upgrade
from tests.backends import fresh_database

pytestmark = pytest.mark.postgres

SCRIPT = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0013_event_districts.py"
A, B, D = "enterprise-A", "enterprise-B", "enterprise-D"
Row = tuple[str, str, dict[str, Any]]  # stream, event type, payload
Migration = Any  # migration 0013's module, as Alembic loads it


def _the_migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0013", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ORACLE = _the_migration().DISTRICTS  # the first version's single statement, as a SELECT


def _log() -> list[Row]:
    """Six batches of 7: A moves at the end of the first batch and at the start of the third, a
    details change without a district between; reminders and a facility whose parent's district
    is carried over batches without an event of theirs; policies naming one district, two, none."""
    moved = ("EnterpriseDetailsChanged", {"district": "jiangjin"})
    log: list[Row] = [
        ("policies", "PolicyActivated", {"policy": {"districts": ["yubei"]}}),  # 1
        (A, "EnterpriseRegistered", {"district": "yubei"}),
        ("facility-F", "FacilityEstablished", {"district": "liangjiang"}),
        (A, "MilestoneRecorded", {}),
        (D, "MilestoneRecorded", {}),  # 5: before D's registration: no district
        ("reminders-A", "ReminderIssued", {}),
        (A, *moved),  # 7: the last position of the first batch
        ("reminders-A", "ReminderIssued", {}),  # 8: carried from A at 7
        (D, "EnterpriseRegistered", {"district": "qianjiang"}),
        (B, "EnterpriseRegistered", {"district": "rongchang"}),  # 10
        ("policies", "PolicyActivated", {"policy": {"districts": ["yubei", "jiangjin"]}}),
        ("reminders-C", "ReminderIssued", {}),  # an enterprise never registered: no district
        (A, "FinancialsReported", {}),
        ("scheduler", "ScanCompleted", {}),
        (A, "EnterpriseDetailsChanged", {"district": "yubei"}),  # 15: the first of the third batch
        (A, "EnterpriseDetailsChanged", {"size": "medium"}),  # no district: A stays in yubei
        ("reminders-A", "ReminderIssued", {}),
        (B, "MilestoneRecorded", {}),
        ("policies", "PolicyActivated", {"policy": {}}),
        (D, "MilestoneRecorded", {}),  # 20
        (A, "MilestoneRecorded", {}),
        (B, "EnterpriseDetailsChanged", {"district": "jiangjin"}),
        ("reminders-B", "ReminderIssued", {}),
    ]
    for n in range(len(log), 42):  # the rest: the streams' later events, carried over batches
        stream = (A, "reminders-A", B, "reminders-B", "facility-F", D)[n % 6]
        kind = "ReminderIssued" if stream.startswith("reminders") else "MilestoneRecorded"
        log.append((stream, kind, {}))
    log[33] = (A, "EnterpriseDetailsChanged", {"district": "liangjiang"})
    return log


def _append(conn: sa.Connection, rows: list[Row]) -> None:
    """Insert events as the store would (columns of revision 0012; no district: the trigger's)."""
    for stream, kind, payload in rows:
        position = int(
            conn.execute(sa.text("SELECT coalesce(max(position), 0) + 1 FROM events")).scalar_one()
        )
        version = int(
            conn.execute(
                sa.text("SELECT coalesce(max(stream_version), 0) + 1 FROM events WHERE stream_id = :s"),
                {"s": stream},
            ).scalar_one()
        )
        conn.execute(
            sa.text(
                "INSERT INTO events (position, event_id, stream_id, stream_version, event_type,"
                " schema_version, occurred_on, recorded_at, actor, payload, hash) VALUES (:position,"
                " :event_id, :stream, :version, :kind, 1, :on, :at, 'system', :payload, :hash)"
            ),
            {
                "position": position, "event_id": str(uuid.uuid4()), "stream": stream, "version": version,
                "kind": kind, "on": date(2026, 1, 1), "at": datetime.now(UTC), "payload": json.dumps(payload),
                "hash": "0" * 64,
            },
        )  # fmt: skip


@pytest.fixture
def at_0012(tmp_path: Path) -> Iterator[Engine]:
    """A PostgreSQL schema at revision 0012 holding ``_log()``."""
    with fresh_database("postgres", tmp_path) as url:
        engine = make_engine(url)
        assert upgrade(engine, "0012") == "0012"
        with engine.begin() as conn:
            _append(conn, _log())
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def patch_0013(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[Migration], None]]:
    """Changes applied to migration 0013's module each time Alembic loads it (it loads the scripts
    afresh on every command)."""
    changes: list[Callable[[Migration], None]] = []
    load = alembic.util.load_python_file

    def patched(dir_: str, filename: str) -> ModuleType:
        module = load(dir_, filename)
        if filename.startswith("0013_"):
            for change in changes:
                change(module)
        return module

    monkeypatch.setattr(alembic.util, "load_python_file", patched)
    return changes


@pytest.fixture(params=["replica", "disable"])
def lift(request: pytest.FixtureRequest, patch_0013: list[Callable[[Migration], None]]) -> str:
    """How each batch lifts the append-only trigger: ``session_replication_role`` (a superuser, as the
    tests run) or, as the schema's owner must, ``DISABLE TRIGGER`` in the batch's transaction."""
    if request.param == "disable":

        def as_owner(module: Migration) -> None:
            module.may_silence_triggers = lambda conn: False

        patch_0013.append(as_owner)
    return str(request.param)


def _batch(size: int) -> Callable[[Migration], None]:
    def change(module: Migration) -> None:
        module.BATCH = size

    return change


def _stored(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as conn:
        return {int(p): d for p, d in conn.execute(sa.text("SELECT position, district FROM events"))}


def _oracle(engine: Engine) -> dict[int, str | None]:
    """What the single statement computes from the chained columns, through a temporary table."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TEMPORARY TABLE oracle ON COMMIT DROP AS {ORACLE}"))
        return {int(p): d for p, d in conn.execute(sa.text("SELECT position, district FROM oracle"))}


def _append_only_holds(engine: Engine) -> None:
    with engine.connect() as conn:
        enabled = conn.execute(
            sa.text(
                "SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'events'::regclass"
                " AND tgname = 'events_append_only'"
            )
        ).scalar_one()
        assert enabled == "O"
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text("UPDATE events SET district = 'x' WHERE position = 1"))


def _downgrade(engine: Engine, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT.parents[1]))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, target)
        conn.commit()


def test_the_batches_give_what_the_single_update_gave(
    at_0012: Engine, patch_0013: list[Callable[[Migration], None]], lift: str
) -> None:
    """Batches of 7 positions over a log of 42: every row's district is the single statement's, the
    moves across batch boundaries and the reminders and facility carried over batches included."""
    batches: list[tuple[int, int]] = []

    def count(module: Migration) -> None:
        fill = module.fill_batch

        def counted(conn: sa.Connection, lo: int, hi: int, replica: bool) -> tuple[int, float]:
            batches.append((lo, hi))
            return fill(conn, lo, hi, replica)  # type: ignore[no-any-return]

        module.fill_batch = counted

    patch_0013.extend([_batch(7), count])  # after ``lift``'s change
    assert upgrade(at_0012, "0013") == "0013"
    assert batches == [(lo, min(lo + 6, 42)) for lo in range(1, 43, 7)]
    stored, expected = _stored(at_0012), _oracle(at_0012)
    assert stored == expected
    assert stored[7] == stored[8] == "jiangjin" and stored[13] == "jiangjin" and stored[16] == "yubei"
    assert stored[5] is None and stored[9] == "qianjiang" and stored[12] is None and stored[11] is None
    assert stored[1] == "yubei" and stored[41] == "liangjiang"  # 41: facility-F, established at 3
    _append_only_holds(at_0012)


def test_appends_between_batches_get_their_district_from_the_trigger(
    at_0012: Engine, patch_0013: list[Callable[[Migration], None]]
) -> None:
    """An append after the second batch, for an enterprise whose latest move is not filled yet, takes
    that move's district (the trigger reads a row's own district while it is NULL)."""
    appended: list[int] = []

    def append_midway(module: Migration) -> None:
        fill = module.fill_batch

        def then_append(conn: sa.Connection, lo: int, hi: int, replica: bool) -> tuple[int, float]:
            done = fill(conn, lo, hi, replica)
            if lo == 8:  # batches 1-7 and 8-14 committed; A's move to liangjiang (34) is not filled
                with at_0012.begin() as other:
                    _append(other, [(A, "MilestoneRecorded", {}), ("reminders-A", "ReminderIssued", {})])
                appended.extend([43, 44])
            return done  # type: ignore[no-any-return]

        module.fill_batch = then_append

    patch_0013.extend([_batch(7), append_midway])
    assert upgrade(at_0012, "0013") == "0013"
    stored = _stored(at_0012)
    assert appended and stored[43] == stored[44] == "liangjiang"
    assert stored == _oracle(at_0012)


def test_an_interrupted_backfill_is_run_again_and_downgrade_works(
    at_0012: Engine, patch_0013: list[Callable[[Migration], None]], lift: str
) -> None:
    """A batch that fails mid-way leaves the revision at 0012, the rows of the batches before it filled
    and the log append-only; the upgrade run again (with other batch bounds) finishes it; a
    downgrade drops the column and an upgrade after it fills it again."""
    calls: list[int] = []

    class Interrupted:
        """The migration's connection, failing the third batch after its UPDATE, at its commit."""

        def __init__(self, conn: sa.Connection) -> None:
            self.conn = conn

        def execute(self, *args: Any, **kwargs: Any) -> Any:
            return self.conn.execute(*args, **kwargs)

        def exec_driver_sql(self, statement: str, *args: Any, **kwargs: Any) -> Any:
            if statement == "COMMIT":
                raise RuntimeError("interrupted")
            return self.conn.exec_driver_sql(statement, *args, **kwargs)

    def fail_third(module: Migration) -> None:
        fill = module.fill_batch

        def failing(conn: sa.Connection, lo: int, hi: int, replica: bool) -> tuple[int, float]:
            calls.append(lo)
            return fill(Interrupted(conn) if len(calls) == 3 else conn, lo, hi, replica)  # type: ignore[no-any-return]

        module.fill_batch = failing

    patch_0013.extend([_batch(7), fail_third])
    with pytest.raises(RuntimeError, match="interrupted"):
        upgrade(at_0012, "0013")
    assert current_revision(at_0012) == "0012"
    stored, expected = _stored(at_0012), _oracle(at_0012)
    assert {p for p, d in stored.items() if d is not None} == {
        p for p, d in expected.items() if d is not None and p <= 14
    }
    _append_only_holds(at_0012)

    del patch_0013[-2:]  # the interruption and the batch size; ``lift``'s change stays
    patch_0013.append(_batch(5))
    assert upgrade(at_0012, "0013") == "0013"
    assert _stored(at_0012) == expected
    _append_only_holds(at_0012)

    _downgrade(at_0012, "0012")
    with at_0012.connect() as conn:
        assert not any(c["name"] == "district" for c in sa.inspect(conn).get_columns("events"))
        assert conn.execute(sa.text("SELECT to_regproc('srdi_event_district')")).scalar() is None
    assert upgrade(at_0012, "head") != "0012"
    assert _stored(at_0012) == expected
