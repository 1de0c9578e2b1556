"""``bench.pg_scale``'s builder: the log it copies in (``events_district`` disabled for the
``COPY``) holds, row by row, the district the trigger gives on the append path and the one
migration 0013's single statement computes, and the trigger is on again after; the rule it
follows (``district_of``) gives the trigger's district on a log with what the demo seed lacks
(reminders, moves, policies naming two districts or none, events before a registration); a schema
at revision 0012 (no district) still loads."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from bench.pg_scale import COLUMNS, Template, _dsn, district_mismatches, district_of, load, read_seed, rows
from events.db import make_engine
from events.migrate import ensure_schema, upgrade
from tests.backends import fresh_database, require_postgres
from tests.cli import ok
from tests.integration.test_migration_districts import _append, _log

pytestmark = pytest.mark.postgres

EVENTS = 2000  # several copies of the seed: its enterprises renamed, policies and facilities once


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> list[Template]:
    """A small real seed (``srdi demo``), cut into the builder's templates."""
    require_postgres()  # before the seed is written
    seed = tmp_path_factory.mktemp("seed") / "seed.db"
    ok(f"sqlite:///{seed}", "demo", "--enterprises", "20", "--json")
    found = read_seed(seed)
    assert 3 * len(found) < EVENTS
    return found


def _districts(url: str) -> list[tuple[int, str | None]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT position, district FROM events ORDER BY position")).all()
    engine.dispose()
    return [(int(p), d) for p, d in found]


def _migrated(url: str, revision: str | None = None) -> None:
    engine = make_engine(url)
    if revision is None:
        ensure_schema(engine)
    else:
        assert upgrade(engine, revision) == revision
    engine.dispose()


def test_built_log_has_the_trigger_s_districts(templates: list[Template], tmp_path: Path) -> None:
    with fresh_database("postgres", tmp_path) as built, fresh_database("postgres", tmp_path) as appended:
        _migrated(built)
        _migrated(appended)
        load(built, templates, EVENTS)

        # the append path: the same rows without a district, the trigger on, the indexes in place
        dsn, options = _dsn(appended)
        with (
            psycopg.connect(dsn, options=options) as raw,
            raw.cursor().copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy,
        ):
            for line in rows(templates, EVENTS):
                copy.write(line.encode())

        expected = _districts(appended)
        assert _districts(built) == expected
        assert len(expected) == EVENTS
        named = [d for _, d in expected if d is not None]
        assert len(set(named)) > 1 and len(named) > EVENTS // 2  # not a vacuous comparison
        assert district_mismatches(built) == 0

        engine = make_engine(built)
        with engine.connect() as conn:
            enabled = conn.execute(
                sa.text(
                    "SELECT tgenabled FROM pg_trigger"
                    " WHERE tgrelid = 'events'::regclass AND tgname = 'events_district'"
                )
            ).scalar_one()
        engine.dispose()
        assert enabled == "O"  # on again for every later append


def test_the_rule_is_the_trigger_s_on_every_kind_of_stream(tmp_path: Path) -> None:
    log = _log()
    latest: dict[str, str] = {}
    computed = [district_of(kind, stream, json.dumps(payload), latest) for stream, kind, payload in log]
    with fresh_database("postgres", tmp_path) as url:
        _migrated(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            _append(conn, log)  # through the trigger
        engine.dispose()
        assert [d for _, d in _districts(url)] == computed
    assert None in computed and len(set(computed)) > 3


def test_a_schema_without_districts_still_loads(templates: list[Template], tmp_path: Path) -> None:
    with fresh_database("postgres", tmp_path) as url:
        _migrated(url, "0012")
        load(url, templates, 300)
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == 300
        engine.dispose()
