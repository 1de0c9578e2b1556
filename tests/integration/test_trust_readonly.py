"""The auditor role is read-only (SELECT, nothing else), yet every read works for it on PostgreSQL and
prints exactly what the owner's does: views that lag the log are caught up privately, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.uscc import make_uscc
from events.sql_store import SqlEventStore
from tests.bootstrap import Office
from tests.cli import invoke
from tests.integration.ledger_history import RC, YB
from tests.integration.trust_support import history_logins, postgres_only  # noqa: F401 (fixtures)


def _reads(history: Office) -> list[tuple[str, ...]]:
    key = history.entitlement("rc27b", "RC-27b")
    return [
        ("status", YB, "--json"), ("status", RC), ("history", YB, "--json"), ("measures", YB, "--json"),
        ("ledger", "--json"), ("ledger", "--district", "yubei"), ("explain", key, "--json"),
        ("targets", "yubei", "--json"), ("targets", "rongchang"),
        ("calendar", "--today", "2026-11-01", "--json"),
        ("reminders", "--within", "400", "--today", "2026-11-01", "--json"), ("facility", "list", "--json"),
        ("audit", "verify", "--json"), ("audit", "verify", "--views", "--json"),
    ]  # fmt: skip


def _stored(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the log's (the views, their checkpoints, keys, the scheduler's)."""
    with engine.connect() as conn:
        names = sorted(set(sa.inspect(conn).get_table_names()) - {"events"})
        return {n: sorted(map(tuple, conn.exec_driver_sql(f'SELECT * FROM "{n}"')), key=repr) for n in names}


def _same_reads(reads: list[tuple[str, ...]], auditor: str, owner: str, engine: Engine) -> None:
    """Each read as the auditor first (views lagging), then as the owner (who catches them up)."""
    for args in reads:
        before = _stored(engine)
        as_auditor = invoke(auditor, *args)
        assert as_auditor.exit_code == 0, (args, as_auditor.stderr)
        assert _stored(engine) == before, args  # the auditor wrote nothing
        as_owner = invoke(owner, *args)
        assert as_owner.exit_code == 0, (args, as_owner.stderr)
        assert as_auditor.stdout == as_owner.stdout, args


@pytest.mark.postgres
def test_the_auditor_holds_select_only(
    history: Office,
    logins: dict[str, str],
) -> None:
    """SELECT on every table and nothing else for the auditor: no INSERT, UPDATE, DELETE or TRUNCATE."""
    engine = history.engine
    auditor = logins["auditor"].split("://", 1)[1].split("@", 1)[0]
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        held = {
            (table, verb)
            for table in tables
            for verb in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            if conn.exec_driver_sql("SELECT has_table_privilege(%s, %s, %s)", (auditor, table, verb)).scalar()
        }
    assert held == {(table, "SELECT") for table in tables}


@pytest.mark.postgres
def test_every_read_as_the_auditor_prints_what_the_owner_sees(
    db_url: str,
    history: Office,
    logins: dict[str, str],
) -> None:
    """Views never caught up, then views part caught up with a tail after them: the auditor's every read
    equals the owner's, and writes nothing."""
    url, engine = db_url, history.engine
    reads = _reads(history)
    _same_reads(reads, logins["auditor"], url, engine)  # the first read of each view: all of the log is tail
    assert invoke(url, "ledger").exit_code == 0
    recorded = invoke(
        logins["recorder"], "report", YB, "financials", "--year", "2025", "--revenue", "9000000"
    )
    assert recorded.exit_code == 0, recorded.stderr
    recorded = invoke(logins["recorder"], "record", RC, "hnte.certified", "--on", "2024-06-01")
    assert recorded.exit_code == 0, recorded.stderr
    _same_reads(reads, logins["auditor"], url, engine)


@pytest.mark.postgres
def test_the_report_page_as_the_auditor_is_the_owners_page(
    db_url: str,
    history: Office,
    logins: dict[str, str],
    tmp_path: Path,
) -> None:
    """`dashboard` as the auditor, with views lagging the log: the page the owner writes, nothing stored."""
    engine = history.engine
    before = _stored(engine)
    pages = {who: tmp_path / f"{who}.html" for who in ("auditor", "owner")}
    done = invoke(logins["auditor"], "dashboard", str(pages["auditor"]), "--as-of", "2026-11-01")
    assert done.exit_code == 0, done.stderr
    assert _stored(engine) == before
    done = invoke(db_url, "dashboard", str(pages["owner"]), "--as-of", "2026-11-01")
    assert done.exit_code == 0, done.stderr
    auditor_page, owner_page = (pages[w].read_text(encoding="utf-8") for w in ("auditor", "owner"))
    end = SqlEventStore(engine).last_position()
    assert f'data-position="{end}"' in auditor_page and auditor_page == owner_page


@pytest.mark.postgres
def test_every_write_as_the_auditor_is_exit_6_and_writes_nothing(
    history: Office,
    logins: dict[str, str],
    tmp_path: Path,
) -> None:
    """Each command that writes: exit 6, one line 'not permitted', nothing in any table changed."""
    engine = history.engine
    rows = tmp_path / "import.csv"
    imported = make_uscc("91500112MA5TR0002")
    rows.write_text(f"uscc,name,district\n{imported},重庆导入有限公司,yubei\n", encoding="utf-8")
    stream = SqlEventStore(engine).read_stream(f"enterprise-{YB}")
    some_event = next(e.event_id for e in reversed(stream) if e.event_type == "MilestoneRecorded")
    new, paid = make_uscc("91500112MA5TR0001"), history.entitlement("rc27b", "RC-27b")
    writes = [
        ("enterprise", "add", new, "--name", "重庆审计有限公司", "--district", "yubei"),
        ("enterprise", "update", YB, "--name", "重庆改名有限公司", "--on", "2026-11-20"),
        ("record", YB, "hnte.certified", "--on", "2024-06-01"),
        ("report", RC, "financials", "--year", "2023", "--revenue", "5000000"),
        ("retract", some_event, "--reason", "test"),
        ("import", str(rows)),
        ("policy", "activate", "jiangjin-2022"),
        ("entitlement", "approve", history.entitlement("otc", "RC-30"), "--amount", "80000"),
        ("entitlement", "pay", paid, "--amount", "1", "--ref", "R", "--on", "2024-06-01"),
        ("replay",),
    ]  # fmt: skip
    for args in writes:
        before, end = _stored(engine), SqlEventStore(engine).last_position()
        done = invoke(logins["auditor"], *args)
        assert done.exit_code == 6, (args, done.stdout, done.stderr)
        assert done.stderr.strip().count("\n") == 0 and "not permitted" in done.stderr, (args, done.stderr)
        assert SqlEventStore(engine).last_position() == end and _stored(engine) == before, args


def test_roles_on_sqlite_are_one_line_exit_2(tmp_path: Path) -> None:
    """SQLite has no roles: ``db roles`` (with or without a district) says so in one line, exit 2."""
    url = f"sqlite:///{tmp_path / 'srdi.db'}"
    for extra in ((), ("--district", "yubei")):
        done = invoke(url, "db", "roles", *extra)
        assert (
            done.exit_code == 2
            and done.stderr.count("\n") == 1
            and "SQLite has no database roles" in done.stderr
        )
    bad = invoke(url, "db", "roles", "--district", "atlantis")
    assert bad.exit_code == 2 and "unknown district" in bad.stderr
    assert not (tmp_path / "srdi.db").exists()  # refused before the database is opened
