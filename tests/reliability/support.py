"""Shared by the reliability tests: databases, logical dumps, the CLI in and out of process, fixtures data.

- ``logical_dump``: what "byte-for-byte unchanged" is compared on. SQLite: ``sqlite3``'s
  ``iterdump`` of the file (schema and every row, WAL included, immune to checkpoints moving
  bytes between the -wal and the main file). PostgreSQL: every table of the test schema with its
  columns and all its rows (sorted), plus the schema's sequences.
- ``run_cli``: ``cli.main()`` in this process with a real argv (the `srdi` script, ``cli.run``,
  adds only a GC pause and a quick exit), stdout and stderr captured; ``srdi``: the installed
  script as a subprocess.
- ``snapshot_rows`` / ``restore_rows``: the raw rows of every table, put back exactly (the crash
  tests reset a database between runs without re-creating it).
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from contextlib import closing, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.uscc import make_uscc
from events.db import is_sqlite, make_engine
from events.migrate import ensure_schema
from service_layer import logs
from tests.backends import bypass_append_only

SRDI = str(Path(sys.executable).parent / "srdi")
DISTRICTS = ("yubei", "rongchang", "liangjiang", "jiangjin", "qianjiang")


def uscc(tag: str, n: int) -> str:
    """A valid USCC unique per (tag, n): ``tag`` is 3 characters of the USCC alphabet."""
    return make_uscc(f"91500{tag}MA{n:07d}")


def open_engine(url: str) -> Engine:
    engine = make_engine(url)
    ensure_schema(engine)
    return engine


# ── logical dumps ───────────────────────────────────────────────────────────────────────────


def logical_dump(engine: Engine) -> list[str]:
    """Every table's definition and rows, as comparable text (see the module docstring)."""
    if is_sqlite(engine):
        path = engine.url.database
        assert path, "an on-disk SQLite database"
        with closing(sqlite3.connect(path)) as conn:
            return list(conn.iterdump())
    out: list[str] = []
    with engine.connect() as conn:
        columns = conn.execute(
            sa.text(
                "SELECT table_name, column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "ORDER BY table_name, ordinal_position"
            )
        ).all()
        out.extend(f"COLUMN {tuple(c)}" for c in columns)
        for table in sorted({str(c[0]) for c in columns}):
            rows = conn.exec_driver_sql(f'SELECT * FROM "{table}"').all()
            out.extend(sorted(f"ROW {table} {tuple(r)!r}" for r in rows))
        sequences = conn.execute(
            sa.text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema() ORDER BY sequencename"
            )
        ).all()
        out.extend(f"SEQUENCE {name} {value}" for name, value in sequences)
    return out


def file_bytes(url: str) -> dict[str, bytes] | None:
    """SQLite: the bytes of the database file and its WAL (the shared-memory index left out: a
    reader updates it); PostgreSQL: None (its logical dump is what is compared)."""
    if not url.startswith("sqlite"):
        return None
    path = Path(url.split("sqlite:///", 1)[1].split("?", 1)[0])
    found: dict[str, bytes] = {}
    for suffix in ("", "-wal", "-journal"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            found[suffix or "db"] = part.read_bytes()
    return found


def table_names(engine: Engine) -> list[str]:
    """The application's tables, parents before children (foreign keys)."""
    meta = sa.MetaData()
    meta.reflect(engine)
    return [t.name for t in meta.sorted_tables]


Snapshot = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def snapshot_rows(engine: Engine, tables: Sequence[str]) -> Snapshot:
    """The raw rows of ``tables`` as the driver returns them."""
    out: Snapshot = {}
    with engine.connect() as conn:
        for table in tables:
            result = conn.exec_driver_sql(f'SELECT * FROM "{table}"')
            out[table] = (list(result.keys()), [tuple(r) for r in result.all()])
    return out


def restore_rows(engine: Engine, snap: Snapshot) -> None:
    """Make every table of ``snap`` hold exactly its rows again, in one transaction."""
    sqlite = is_sqlite(engine)
    mark = "?" if sqlite else "%s"
    with engine.connect() as conn:
        conn = conn.execution_options(srdi_write=True)
        with conn.begin():
            bypass_append_only(conn)  # putting a test's database back is not the product rewriting history
            for table in reversed(list(snap)):
                conn.exec_driver_sql(f'DELETE FROM "{table}"')
            for table, (columns, rows) in snap.items():
                if rows:
                    names = ", ".join(f'"{c}"' for c in columns)
                    marks = ", ".join([mark] * len(columns))
                    conn.exec_driver_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT COUNT(*) FROM events")).scalar_one())


def assert_no_gaps(engine: Engine) -> None:
    """Positions are 1..N and every stream's versions 1..n: nothing missing, nothing repeated."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT position, stream_id, stream_version FROM events ORDER BY position")
        )
        positions: list[int] = []
        streams: dict[str, list[int]] = {}
        for position, stream, version in rows:
            positions.append(int(position))
            streams.setdefault(str(stream), []).append(int(version))
    assert positions == list(range(1, len(positions) + 1)), "positions have a gap or a repeat"
    for stream, versions in streams.items():
        assert versions == list(range(1, len(versions) + 1)), f"{stream}: versions {versions}"


def projection_tables() -> list[str]:
    """Every table a projection writes, and the checkpoints."""
    from projections import registry

    names = [t.name for p in registry.PROJECTIONS.values() for t in p.tables]
    return [*names, "tracking"]


def projection_dump(engine: Engine) -> dict[str, list[str]]:
    """The rows of every projection table, sorted, checkpoints apart (compared separately)."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in projection_tables()[:-1]:
            rows = conn.exec_driver_sql(f'SELECT * FROM "{table}"').all()
            out[table] = sorted(repr(tuple(r)) for r in rows)
    return out


# ── PostgreSQL: wait for a killed client's server session to end ────────────────────────────


def wait_for_sessions_to_end(engine: Engine, application_name: str, timeout: float = 30.0) -> None:
    """After a SIGKILL the server may still be running (or committing) the dead client's last
    statement: wait until no session of ``application_name`` is left, so what we read is final."""
    if is_sqlite(engine):
        return
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while True:
            left = conn.execute(
                sa.text("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": application_name},
            ).scalar_one()
            conn.rollback()
            if not left:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{left} server sessions of {application_name} still alive")
            time.sleep(0.02)


# ── the CLI ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Outcome:
    """Exit code and the two streams of one CLI run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


def run_cli(url: str, *args: str) -> Outcome:
    """``srdi --db URL ARGS`` through ``cli.main()`` in this process (what the script, ``cli.run``, wraps)."""
    import cli
    from cli_commands import common
    from service_layer.bootstrap import open_services as real_open

    opened: list[Any] = []

    def tracking(database_url: str | None = None, on_open: Any = None) -> Any:
        services = real_open(database_url, on_open)
        opened.append(services)
        return services

    out, err = io.StringIO(), io.StringIO()
    code = 0
    argv = ["srdi", "--db", url, *args]
    with (
        mock.patch.object(sys, "argv", argv),
        mock.patch.object(common, "open_services", tracking),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            cli.main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:
            traceback.print_exc(file=err)
            code = 1
        finally:
            for services in opened:
                services.close()
            logs.configure("console", "warning")
    return Outcome(code, out.getvalue(), err.getvalue())


def srdi_env(application_name: str | None = None) -> dict[str, str]:
    """The environment for a `srdi` subprocess: quiet logs, no inherited database URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRDI_")}
    env["SRDI_ACTOR"] = "reliability"
    if application_name is not None:
        env["PGAPPNAME"] = application_name
    return env


def srdi(url: str, *args: str | bytes, timeout: float = 120) -> Outcome:
    """The installed `srdi` script as a subprocess (bytes arguments pass through undecoded)."""
    argv: list[str | bytes] = [SRDI, "--db", url, *args]
    done = subprocess.run(argv, capture_output=True, timeout=timeout, env=srdi_env())
    return Outcome(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


# ── killing a process at a point of its work ───────────────────────────────────────────────

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def kill_at_cpu(process: subprocess.Popen[bytes], cpu: float | None) -> bytes:
    """SIGKILL ``process`` once it has used ``cpu`` seconds of CPU (None: let it finish); its stderr.

    CPU time, unlike wall time, does not stretch on a busy machine, so the kill lands at the same
    point of the work however loaded the CI runner is. It must have ended killed or with exit 0.
    """
    while cpu is not None and process.poll() is None:
        used = cpu_seconds(process.pid)
        if used is not None and used >= cpu:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    _, err = process.communicate(timeout=120)
    assert process.returncode in (0, -signal.SIGKILL), f"exit {process.returncode} {err[-2000:]!r}"
    return err


# ── data ────────────────────────────────────────────────────────────────────────────────────


def import_csv_text(tag: str, enterprises: int) -> str:
    """An import file: each enterprise registered, then two milestones up the ladder (3 lines each)."""
    lines = ["uscc,name,district,milestone,on,ref"]
    for i in range(enterprises):
        code = uscc(tag, i)
        lines.append(f"{code},重庆可靠性{tag}{i}科技有限公司,{DISTRICTS[i % len(DISTRICTS)]},,,")
        lines.append(f"{code},,,innovative-sme.certified,2021-{1 + i % 9:02d}-01,创新{tag}-{i}")
        lines.append(f"{code},,,srdi-municipal.certified,2023-{1 + i % 9:02d}-15,专精{tag}-{i}")
    return "\n".join(lines) + "\n"
