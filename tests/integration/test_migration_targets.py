"""Migrations 0015 and 0016 on both backends.

0015: the targets view's track dates, written twice before (first dates in ``targets_firsts``, pool
and designation entries in ``targets_entries``), are kept once, in the periods; listing stages and
counted facts stay; every count reads as before; a downgrade empties the view for the older version
to build again. 0016: the targets view's copy of each fold goes; the status and targets views,
emptied, are built again together by the next catch-up; a downgrade gives the column back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from domain import reference
from events.db import make_engine
from events.migrate import HEAD, current_revision, upgrade
from projections.feed import catch_up
from tests.bootstrap import uscc
from tests.cli import ok
from tests.integration.projections_support import dump_engine

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
DISTRICTS = ("liangjiang", "rongchang", "yubei")


def _history(url: str) -> None:
    """Pools entered twice, designations, titles (one revoked and certified again), a listing, patents."""
    for n, district in ((1, "两江"), (2, "两江"), (3, "荣昌"), (4, "渝北")):
        ok(
            url,
            "enterprise",
            "add",
            uscc(n),
            "--name",
            f"企业{n}",
            "--district",
            district,
            "--on",
            "2021-01-01",
        )
    ok(url, "record", uscc(1), "cultivation-pool.admitted", "--on", "2023-03-01")
    ok(url, "record", uscc(1), "cultivation-pool.left", "--on", "2024-02-01")
    ok(url, "record", uscc(1), "cultivation-pool.admitted", "--on", "2024-06-01")
    ok(url, "record", uscc(2), "digital-workshop.certified", "--on", "2023-09-01")
    ok(url, "record", uscc(3), "smart-factory.certified", "--on", "2023-06-01")
    ok(url, "record", uscc(3), "tech-sme.certified", "--on", "2022-03-01")
    ok(url, "record", uscc(3), "tech-sme.revoked", "--on", "2023-03-01")
    ok(url, "record", uscc(3), "tech-sme.certified", "--on", "2024-03-01")
    ok(url, "record", uscc(3), "listing.otc-listed", "--on", "2024-05-01")
    for number, kind, on in (("ZL1", "invention", "2023-01-05"), ("ZL2", "invention", "2024-03-05")):
        ok(url, "report", uscc(3), "patent", "--number", number, "--kind", kind, "--on", on)
    for code, on in ((uscc(4), "2023-03-01"), (uscc(2), "2024-04-01")):
        ok(
            url,
            "record",
            code,
            "srdi-municipal.certified",
            "--on",
            on,
            "--override-prerequisite",
            "--reason",
            "legacy",
        )


def _counts(url: str) -> dict[str, Any]:
    """Every district's targets as `srdi targets` prints them, on two days."""
    return {
        f"{d} {on}": json.loads(ok(url, "targets", d, "--json", "--as-of", on))
        for d in DISTRICTS
        for on in ("2023-12-31", "2025-06-30")
    }


def _write_twice(engine: Engine) -> None:
    """What the view held before the migration: each track's first date in ``targets_firsts``, each
    pool or designation period's start in ``targets_entries``, beside the periods."""
    memberships = [k for k in reference.tracks() if reference.is_membership(k)]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO targets_firsts (uscc, subject, first_on, district, department_key)"
                " SELECT uscc, track, start_on, district, department_key FROM targets_periods WHERE seq = 0"
            )
        )
        conn.execute(
            sa.text(
                'INSERT INTO targets_entries (uscc, subject, seq, "on", district, department_key)'
                " SELECT uscc, track, seq, start_on, district, department_key FROM targets_periods"
                " WHERE track IN :tracks"
            ).bindparams(sa.bindparam("tracks", expanding=True)),
            {"tracks": memberships},
        )


def _alembic(engine: Engine, verb: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(VERSIONS.parent))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        getattr(command, verb)(config, revision)
        conn.commit()


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_track_dates_are_kept_once_and_every_count_reads_as_before(db_url: str) -> None:
    _history(db_url)
    engine = make_engine(db_url)
    catch_up(engine)
    built, counted = dump_engine(engine, ["targets"]), _counts(db_url)
    listing_rows, fact_rows = _rows(engine, "targets_firsts"), _rows(engine, "targets_entries")
    assert listing_rows >= 1 and fact_rows == 2  # the listing stage; the two invention patents
    _write_twice(engine)
    assert _rows(engine, "targets_firsts") > listing_rows and _rows(engine, "targets_entries") > fact_rows
    _alembic(engine, "stamp", "0014")
    assert upgrade(engine, "0015") == "0015" == current_revision(engine)
    assert dump_engine(engine, ["targets"]) == built
    _alembic(engine, "stamp", "head")
    assert _counts(db_url) == counted
    engine.dispose()


def test_a_downgrade_empties_the_view_and_its_checkpoint_for_the_older_version(db_url: str) -> None:
    _history(db_url)
    engine = make_engine(db_url)
    catch_up(engine)
    built, counted = dump_engine(engine, ["targets"]), _counts(db_url)
    _alembic(engine, "downgrade", "0014")
    assert current_revision(engine) == "0014"
    assert all(rows == [] for rows in dump_engine(engine, ["targets"]).values())
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(sa.text("SELECT name FROM tracking"))}
    assert "targets" not in names and "status" in names
    assert upgrade(engine) == HEAD
    catch_up(engine)
    assert dump_engine(engine, ["targets"]) == built
    assert _counts(db_url) == counted
    engine.dispose()


def _columns(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_the_targets_folds_go_and_both_views_are_built_again_together(db_url: str) -> None:
    _history(db_url)
    engine = make_engine(db_url)
    catch_up(engine)
    built, counted = dump_engine(engine, ["status", "targets"]), _counts(db_url)
    _alembic(engine, "downgrade", "0015")
    assert "fold" in _columns(engine, "targets_enterprises")
    assert dump_engine(engine, ["status"]) == {k: v for k, v in built.items() if k.startswith("status")}
    assert not any(dump_engine(engine, ["targets"]).values())  # for the older version to build
    with engine.begin() as conn:  # what the older version kept: status and targets, each folded
        conn.execute(sa.text("DELETE FROM status_titles"))
        conn.execute(sa.text("UPDATE tracking SET position = 2 WHERE name = 'status'"))
    assert upgrade(engine) == HEAD
    assert "fold" not in _columns(engine, "targets_enterprises")
    assert not any(dump_engine(engine, ["status", "targets"]).values())
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(sa.text("SELECT name FROM tracking"))}
    assert not names & {"status", "targets"} and "ledger" in names
    catch_up(engine, ["targets"])
    assert dump_engine(engine, ["status", "targets"]) == built
    assert _counts(db_url) == counted
    engine.dispose()
