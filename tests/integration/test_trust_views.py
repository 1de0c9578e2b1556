"""Verified views, a checkpoint ahead of the log, and planted idempotency keys: on both backends."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.envelope import NewEvent
from events.schemas import MilestoneRecorded
from events.sql_store import SqlEventStore
from events.store import IdempotencyMismatch
from events.tables import idempotency_table
from projections.feed import catch_up
from projections.framework import checkpoints_table
from projections.ledger import ledger_table
from tests.bootstrap import Office
from tests.cli import as_json, invoke
from tests.integration.trust_support import truncate_tail


@pytest.fixture
def caught_up(history: Office) -> Office:
    """The sample ledger history, its views caught up (as the first read of any view does)."""
    catch_up(history.engine)
    return history


def verify_views(db_url: str) -> tuple[int, dict[str, object]]:
    done = invoke(db_url, "audit", "verify", "--views", "--json")
    assert done.stdout, done.stderr
    return done.exit_code, json.loads(done.stdout)


def test_intact_views_verify(db_url: str, caught_up: Office) -> None:
    """Views caught up command by command equal their recomputation: views_ok, exit 0."""
    code, doc = verify_views(db_url)
    assert code == 0 and doc["views_ok"] is True and doc["first_differing_view"] is None


def test_a_payment_added_to_a_ledger_row_is_named(db_url: str, caught_up: Office) -> None:
    """A paid amount edited into a ledger row: exit 4, the ledger view and the row named; replay mends it."""
    office, engine = caught_up, caught_up.engine
    key = office.entitlement("otc", "RC-30")
    with engine.begin() as conn:
        conn.execute(sa.update(ledger_table).where(ledger_table.c.id == key).values(paid_amount="80000"))
    code, doc = verify_views(db_url)
    assert code == 4 and doc["ok"] is False and doc["views_ok"] is False
    assert doc["first_differing_view"] == "ledger" and key in str(doc["views_difference"])
    assert "paid_amount" in str(doc["views_difference"])
    text = invoke(db_url, "audit", "verify", "--views")
    assert text.exit_code == 4 and "ledger" in text.stderr and text.stderr.count("\n") == 1
    assert invoke(db_url, "replay").exit_code == 0
    assert verify_views(db_url) == (0, {**doc, "ok": True, "views_ok": True, "first_differing_view": None,
                                        "views_difference": None})  # fmt: skip


def test_a_deleted_view_row_is_named(db_url: str, caught_up: Office) -> None:
    """A ledger row deleted from the view: exit 4, the row is 'missing from the stored view'."""
    office, engine = caught_up, caught_up.engine
    key = office.entitlement("otc", "RC-30")
    with engine.begin() as conn:
        conn.execute(sa.delete(ledger_table).where(ledger_table.c.id == key))
    code, doc = verify_views(db_url)
    assert code == 4 and doc["first_differing_view"] == "ledger"
    assert key in str(doc["views_difference"]) and "missing" in str(doc["views_difference"])


def test_a_checkpoint_ahead_of_the_log_is_refused_on_every_read(db_url: str, caught_up: Office) -> None:
    """Checkpoint moved ahead: ledger and verify --views exit 4 with one line; replay mends it."""
    engine = caught_up.engine
    head = SqlEventStore(engine).last_position()
    with engine.begin() as conn:
        conn.execute(
            sa.update(checkpoints_table).where(checkpoints_table.c.name == "ledger").values(position=head + 5)
        )
    for args in (("ledger", "--json"), ("audit", "verify", "--views")):
        done = invoke(db_url, *args)
        assert done.exit_code == 4, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and f"at position {head + 5}" in done.stderr
    assert invoke(db_url, "replay").exit_code == 0
    assert as_json(db_url, "ledger")["entries"]


def test_a_cut_log_under_caught_up_views_is_refused(db_url: str, caught_up: Office) -> None:
    """Events deleted from the end after the views saw them: reading the ledger is exit 4, not stale rows."""
    engine = caught_up.engine
    as_json(db_url, "ledger")
    truncate_tail(engine, SqlEventStore(engine).last_position() - 2)
    done = invoke(db_url, "ledger", "--json")
    assert done.exit_code == 4 and "log ends at" in done.stderr


def _plant(engine: Engine, key: str, record: dict[str, object]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(idempotency_table).values(
                key=key, result=json.dumps(record), recorded_at=datetime.now(UTC)
            )
        )


def test_a_planted_import_key_does_not_skip_the_file(db_url: str, caught_up: Office, tmp_path: Path) -> None:
    """A key for the file planted with a real batch's record: import is exit 4 and writes nothing;
    without the planted key the same file imports."""
    engine = caught_up.engine
    csv = tmp_path / "in.csv"
    csv.write_text("uscc,name,district,milestone,on\n91500112MA5QA00017,重庆导入测试有限公司,yubei,"
                   "innovative-sme.certified,2022-01-05\n", encoding="utf-8")  # fmt: skip
    key = "import:" + hashlib.sha256(csv.read_bytes()).hexdigest()
    store = SqlEventStore(engine)
    first = next(iter(store.read_all(0)))
    _plant(engine, key, {"first_position": 1, "last_position": 1, "event_ids": [first.event_id],
                         "stream_versions": {}})  # fmt: skip
    before = store.last_position()
    done = invoke(db_url, "import", str(csv))
    assert done.exit_code == 4 and "planted" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert store.last_position() == before
    with engine.begin() as conn:
        conn.execute(sa.delete(idempotency_table).where(idempotency_table.c.key == key))
    assert invoke(db_url, "import", str(csv)).exit_code == 0
    assert store.last_position() > before


def test_the_store_checks_a_remembered_key_against_the_log(engine: Engine) -> None:
    """A record naming absent events, or other hashes, is refused; a true one replays."""
    store = SqlEventStore(engine)
    event = NewEvent(
        MilestoneRecorded(uscc="U1", track="hnte", action="certified"), date(2024, 1, 1), actor="t"
    )
    first = store.append("s1", [event], 0, idempotency_key="k1")
    again = store.append("s1", [event], 0, idempotency_key="k1")
    assert again.replayed and again.event_ids == first.event_ids
    _plant(
        engine, "k2", {"first_position": 7, "last_position": 7, "event_ids": ["nope"], "stream_versions": {}}
    )
    with pytest.raises(IdempotencyMismatch, match="k2"):
        store.append("s2", [NewEvent(event.event, date(2024, 1, 1), actor="t")], 0, idempotency_key="k2")
    with engine.connect() as conn:
        query = sa.select(idempotency_table.c.result).where(idempotency_table.c.key == "k1")
        record = json.loads(conn.execute(query).scalar_one())
    _plant(engine, "k3", {**record, "digest": "0" * 64})
    with pytest.raises(IdempotencyMismatch, match="not the ones in the log"):
        store.append("s3", [NewEvent(event.event, date(2024, 1, 1), actor="t")], 0, idempotency_key="k3")
    assert store.last_position() == 1
