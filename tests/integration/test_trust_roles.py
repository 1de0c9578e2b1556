"""`srdi db roles` on PostgreSQL: each role may run only its commands (a permissions table), as itself."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from domain.uscc import make_uscc
from events.db import make_engine
from events.tables import events_table as T
from tests.backends import PG_URL
from tests.bootstrap import Office
from tests.cli import invoke
from tests.integration.ledger_history import RC, YB
from tests.integration.trust_support import KINDS, history_logins, postgres_only  # noqa: F401 (fixtures)

NEW = make_uscc("91500112MA5TR0001")


def _commands(office: Office) -> list[tuple[str, tuple[str, ...], set[str]]]:
    """(name, arguments, the roles allowed): the rows of the permissions table."""
    awaiting = office.entitlement("otc", "RC-30")
    approved = office.entitlement("rc27b", "RC-27b")  # approved 150,000 by 'finance', 100,000 paid
    pay = ("entitlement", "pay", approved, "--amount", "1", "--ref", "R9", "--on", "2024-06-01")
    return [
        ("enterprise add", ("enterprise", "add", NEW, "--name", "重庆权限有限公司", "--district", "yubei"),
         {"recorder"}),
        ("record", ("record", YB, "hnte.certified", "--on", "2024-06-01"), {"recorder"}),
        ("report", ("report", RC, "financials", "--year", "2023", "--revenue", "5000000"), {"recorder"}),
        ("policy activate", ("policy", "activate", "jiangjin-2022"), {"recorder"}),
        ("entitlement approve", ("entitlement", "approve", awaiting, "--amount", "80000"), {"approver"}),
        ("entitlement pay", pay, {"payer"}),
        ("ledger", ("ledger", "--json"), set(KINDS)),
        ("status", ("status", RC, "--json"), set(KINDS)),
        ("audit verify", ("audit", "verify", "--json"), set(KINDS)),
        ("scheduler run", ("scheduler", "run", "--once", "--today", "2026-11-02"), {"recorder"}),
    ]  # fmt: skip


@pytest.mark.postgres
def test_each_role_may_run_only_its_commands(history: Office, logins: dict[str, str]) -> None:
    """Every role x every command: allowed ones exit 0, the others exit 6 with one line and write nothing."""
    store = history.store
    table: dict[tuple[str, str], int] = {}
    for name, args, allowed in _commands(history):
        for kind in sorted(KINDS, key=lambda k: k in allowed):  # refusals first, then who may
            before = store.last_position()
            done = invoke(logins[kind], *args)
            table[(name, kind)] = done.exit_code
            if kind in allowed:
                assert done.exit_code == 0, (name, kind, done.stderr)
            else:
                assert done.exit_code == 6, (name, kind, done.stdout, done.stderr)
                assert done.stderr.count("\n") == 1 and "not permitted" in done.stderr
                assert store.last_position() == before, (name, kind)
    assert len(table) == len(_commands(history)) * len(KINDS)
    derived = {e.event_type for e in store.read_all(0) if e.actor == f"{_login(logins['recorder'])}/system"}
    assert derived  # what the policy engine and the scheduler derived for the recorder names its login


@pytest.mark.postgres
def test_the_actor_is_the_login_and_no_role_changes_an_event(
    db_url: str, history: Office, logins: dict[str, str]
) -> None:
    """Events record the session user (SRDI_ACTOR only a note after it); the database refuses any other
    actor even in a raw INSERT, and no role can change a stored event."""
    url, store = db_url, history.store
    done = invoke(logins["recorder"], "record", YB, "hnte.certified", "--on", "2024-06-01",
                  env={"SRDI_ACTOR": "someone-else"})  # fmt: skip
    assert done.exit_code == 0, done.stderr
    tail = list(store.read_all(store.last_position() - 1))[-1]
    login = _login(logins["recorder"])
    assert tail.actor == f"{login}/someone-else"
    forged = store.last_position()
    for actor in ("mallory", f"{login}x", f"{login}x/{login}", "", _login(logins["approver"])):
        raw = make_engine(logins["recorder"])
        try:
            with pytest.raises(sa.exc.DBAPIError, match="is not the login"), raw.begin() as conn:
                conn.execute(
                    sa.insert(T).values(
                        position=forged + 1, event_id=str(uuid.uuid4()), stream_id="enterprise-x",
                        stream_version=1, event_type="MilestoneRecorded", schema_version=1,
                        occurred_on=date(2024, 1, 1), recorded_at=datetime.now(UTC), actor=actor,
                        payload="{}", hash="0" * 64,
                    )
                )  # fmt: skip
        finally:
            raw.dispose()
    assert store.last_position() == forged
    assert invoke(logins["auditor"], "audit", "verify").exit_code == 0
    for kind in KINDS:
        changer = make_engine(logins[kind])
        try:
            with pytest.raises(sa.exc.DBAPIError), changer.begin() as conn:
                conn.exec_driver_sql("UPDATE events SET actor = 'mallory' WHERE position = 1")
        finally:
            changer.dispose()
    assert url  # the owner's URL stays usable for the fixture's teardown


@pytest.mark.postgres
def test_one_login_cannot_approve_and_pay_whatever_srdi_actor_says(
    db_url: str, history: Office, logins: dict[str, str]
) -> None:
    """Four eyes compares logins: a login in both groups approves as 'li' and cannot pay as 'wang'
    (exit 6, nothing written); another login pays; the chain verifies after every role's commands."""
    both = _login(logins["approver"]) + "_both"
    prefix = _login(logins["approver"]).removesuffix("login_approver")
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{both}" LOGIN IN ROLE "{prefix}approver", "{prefix}payer"')
        as_both = db_url.replace("postgres@", f"{both}@", 1)
        key = history.entitlement("otc", "RC-30")
        approve = ("entitlement", "approve", key, "--amount", "80000")
        assert invoke(as_both, *approve, env={"SRDI_ACTOR": "li"}).exit_code == 0
        store = history.store
        before = store.last_position()
        pay = ("entitlement", "pay", key, "--amount", "100", "--ref", "R1", "--on", "2026-06-01")
        for note in ("wang", None):
            done = invoke(as_both, *pay, env={"SRDI_ACTOR": note})
            assert done.exit_code == 6, (note, done.stdout, done.stderr)
            assert done.stderr.count("\n") == 1 and "four eyes" in done.stderr
            assert store.last_position() == before
        paid = invoke(logins["payer"], *pay, env={"SRDI_ACTOR": "li"})
        assert paid.exit_code == 0, paid.stderr
        actors = [e.actor for e in store.read_all(before - 1)]
        assert actors[-2:] == [f"{both}/li", f"{_login(logins['payer'])}/li"]
        verified = invoke(logins["auditor"], "audit", "verify", "--json")
        assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{both}"')
        admin.dispose()


@pytest.mark.postgres
def test_the_owner_login_is_told_apart_by_srdi_actor_alone(db_url: str, history: Office) -> None:
    """The schema's owner (a superuser: no trigger binds it) is no person the database vouches for:
    four eyes compares its whole actor, as on SQLite, so 'li' cannot pay what 'li' approved and
    'wang' can."""
    key = history.entitlement("otc", "RC-30")
    approved = invoke(db_url, "entitlement", "approve", key, "--amount", "80000", env={"SRDI_ACTOR": "li"})
    assert approved.exit_code == 0, approved.stderr
    before = history.store.last_position()
    pay = ("entitlement", "pay", key, "--amount", "100", "--ref", "R1", "--on", "2026-06-01")
    refused = invoke(db_url, *pay, env={"SRDI_ACTOR": "li"})
    assert refused.exit_code == 6 and "four eyes" in refused.stderr, refused.stderr
    assert history.store.last_position() == before
    paid = invoke(db_url, *pay, env={"SRDI_ACTOR": "wang"})
    assert paid.exit_code == 0, paid.stderr
    assert next(e.actor for e in history.store.read_all(before)) == f"{_login(db_url)}/wang"


def _login(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0]


@pytest.mark.postgres
def test_a_replay_by_a_role_that_does_not_own_the_views_keeps_their_indexes(
    db_url: str, history: Office, logins: dict[str, str]
) -> None:
    """Into empty views a replay copies every row with their secondary indexes dropped: the recorder
    may write the views but not drop their indexes (the owner's), so its replay keeps them, and
    fills the views as the owner's replay, which drops and creates them, does."""
    from projections import registry

    def indexes() -> set[str | None]:
        inspector = sa.inspect(history.engine)
        return {i["name"] for p in registry.select() for t in p.tables for i in inspector.get_indexes(t.name)}

    def empty_views() -> None:
        with history.engine.begin() as conn:
            for p in registry.select():
                p.reset(conn)

    before = indexes()
    assert before  # the views have secondary indexes to lose
    empty_views()
    done = invoke(logins["recorder"], "replay", "--json")
    assert done.exit_code == 0, done.stderr
    by_recorder = json.loads(done.stdout)["projections"]
    assert indexes() == before and by_recorder["status"] > 0
    empty_views()
    owner = invoke(db_url, "replay", "--json")
    assert owner.exit_code == 0, owner.stderr
    assert json.loads(owner.stdout)["projections"] == by_recorder and indexes() == before
