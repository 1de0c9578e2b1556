"""`srdi db roles --district`: a district's roles limited to its enterprises by row-level security."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from domain.uscc import make_uscc
from tests.bootstrap import Office
from tests.cli import invoke
from tests.integration.ledger_history import RC, YB
from tests.integration.trust_support import postgres_only, role_logins  # noqa: F401 (a fixture)

LJ = make_uscc("91500000MA5TR0003")  # a Liangjiang enterprise, registered by the owner


@pytest.fixture
def yubei(db_url: str, history: Office) -> Iterator[dict[str, str]]:
    url = db_url
    added = invoke(url, "enterprise", "add", LJ, "--name", "重庆两江测试有限公司", "--district", "两江新区")
    assert added.exit_code == 0, added.stderr
    with role_logins(url, "--district", "渝北") as urls:
        yield urls


def _districts(engine: Engine) -> dict[str, set[str | None]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT stream_id, district FROM events").all()
    found: dict[str, set[str | None]] = {}
    for stream, district in rows:
        found.setdefault(stream, set()).add(district)
    return found


@pytest.mark.postgres
def test_every_event_knows_its_district(history: Office, yubei: dict[str, str]) -> None:
    """The database sets each event's district: an enterprise's stream carries its district, the
    office-wide policy list none or the policy's own."""
    districts = _districts(history.engine)
    assert districts[f"enterprise-{YB}"] == {"yubei"}
    assert districts[f"enterprise-{RC}"] == {"rongchang"}
    assert districts[f"enterprise-{LJ}"] == {"liangjiang"}
    assert districts["policies"] <= {"yubei", "rongchang", None}


@pytest.mark.postgres
def test_a_district_recorder_records_only_for_its_district(
    history: Office,
    yubei: dict[str, str],
) -> None:
    """A Yubei recorder records for a Yubei enterprise; for a Liangjiang or Rongchang one, or registering
    one elsewhere, it is exit 6 'not permitted' and nothing is written."""
    store = history.store
    own = invoke(yubei["recorder"], "record", YB, "hnte.certified", "--on", "2024-06-01")
    assert own.exit_code == 0, own.stderr
    refused = [
        ("record", LJ, "hnte.certified", "--on", "2024-06-01"),
        ("record", RC, "hnte.certified", "--on", "2024-06-01"),
        ("enterprise", "add", make_uscc("91500000MA5TR0004"), "--name", "重庆外区有限公司",
         "--district", "liangjiang"),
        ("policy", "activate", "jiangjin-2022"),
    ]  # fmt: skip
    for args in refused:
        before = store.last_position()
        done = invoke(yubei["recorder"], *args)
        assert done.exit_code == 6, (args, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and "not permitted" in done.stderr
        assert store.last_position() == before, args


@pytest.mark.postgres
def test_a_district_auditor_sees_only_its_district(
    db_url: str,
    yubei: dict[str, str],
) -> None:
    """The Yubei auditor's ledger, status, calendar and history hold Yubei enterprises only, and what it
    sees of Yubei equals what the owner sees; the whole chain is beyond it (documented)."""
    url = db_url
    auditor = yubei["auditor"]

    def read(db: str, *args: str) -> dict[str, object]:
        done = invoke(db, *args, "--json")
        assert done.exit_code == 0, (args, done.stderr)
        return dict(json.loads(done.stdout))

    for _ in range(2):  # views lagging the log, then caught up by the owner's reads
        mine, everyone = read(auditor, "ledger"), read(url, "ledger")
        entries: list[dict[str, object]] = mine["entries"]  # type: ignore[assignment]
        assert entries and {e["enterprise"] for e in entries} == {YB}
        assert entries == [e for e in everyone["entries"] if e["enterprise"] == YB]  # type: ignore[attr-defined]
        assert read(auditor, "status", YB) == read(url, "status", YB)
        assert read(auditor, "targets", "yubei") == read(url, "targets", "yubei")
        calendar, whole = (
            read(auditor, "calendar", "--today", "2026-11-01"),
            read(url, "calendar", "--today", "2026-11-01"),
        )
        rows = [row for row in whole["entries"] if row["uscc"] == YB]  # type: ignore[attr-defined]
        assert rows and calendar["entries"] == rows
    for other in (RC, LJ):
        done = invoke(auditor, "status", other)
        assert done.exit_code == 2 and "no enterprise" in done.stderr
    for args in (("audit", "verify"), ("audit", "export", "x.jsonl")):
        done = invoke(auditor, *args)
        assert done.exit_code == 6 and "needs the whole log" in done.stderr, (args, done.stderr)
    assert invoke(yubei["recorder"], "audit", "verify").exit_code == 0
