"""`srdi db roles` on PostgreSQL: each role may run only its commands (a permissions table), as itself."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from domain.uscc import make_uscc
from events.db import make_engine
from tests.backends import PG_URL
from tests.bootstrap import Office
from tests.cli import invoke
from tests.integration.ledger_history import RC, YB

KINDS = ("recorder", "approver", "payer", "auditor")
NEW = make_uscc("91500112MA5TR0001")


@pytest.fixture
def backend() -> str:
    """Roles are PostgreSQL's: the sample history (`history`) is recorded there, by the owner."""
    return "postgres"


@pytest.fixture
def logins(db_url: str, history: Office) -> Iterator[dict[str, str]]:
    """``db roles`` with a prefix of this test's own, and one login per role; all dropped afterwards."""
    url = db_url
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    admin = make_engine(PG_URL)
    groups = [f"{prefix}{kind}" for kind in KINDS]
    users = {kind: f"{prefix}login_{kind}" for kind in KINDS}
    try:
        done = invoke(url, "db", "roles", "--prefix", prefix, "--json")
        assert done.exit_code == 0, done.stderr
        assert sorted(json.loads(done.stdout)["created"]) == sorted(groups)
        again = invoke(url, "db", "roles", "--prefix", prefix, "--json")
        assert again.exit_code == 0 and json.loads(again.stdout)["created"] == []  # idempotent
        with admin.begin() as conn:
            for kind, user in users.items():
                conn.exec_driver_sql(f'CREATE ROLE "{user}" LOGIN IN ROLE "{prefix}{kind}"')
        yield {kind: url.replace("postgres@", f"{user}@", 1) for kind, user in users.items()}
    finally:
        with admin.begin() as conn:
            for role in [*users.values(), *groups]:
                exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).first()
                if exists:
                    conn.exec_driver_sql(f'DROP OWNED BY "{role}" CASCADE')
                    conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


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


@pytest.mark.postgres
def test_the_actor_is_the_login_and_no_role_changes_an_event(
    db_url: str, history: Office, logins: dict[str, str]
) -> None:
    """Events record the session user, whatever SRDI_ACTOR says; no role can change a stored event."""
    url, store = db_url, history.store
    done = invoke(logins["recorder"], "record", YB, "hnte.certified", "--on", "2024-06-01",
                  env={"SRDI_ACTOR": "someone-else"})  # fmt: skip
    assert done.exit_code == 0, done.stderr
    tail = list(store.read_all(store.last_position() - 1))[-1]
    login = logins["recorder"].split("://", 1)[1].split("@", 1)[0]
    assert tail.actor == f"{login}/someone-else" and tail.actor.startswith(login)
    for kind in KINDS:
        changer = make_engine(logins[kind])
        try:
            with pytest.raises(sa.exc.DBAPIError), changer.begin() as conn:
                conn.exec_driver_sql("UPDATE events SET actor = 'mallory' WHERE position = 1")
        finally:
            changer.dispose()
    assert url  # the owner's URL stays usable for the fixture's teardown
