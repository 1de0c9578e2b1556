"""Driving the real `srdi` script as the acceptance scenarios do: subprocesses, exit codes, JSON.

Only the command line of the contract (docs/cli.md) is used (plus the additions the docs name), against
the script installed next to the running interpreter, with ``--db`` on every call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from domain.policy.model import Status
from domain.uscc import make_uscc

SRDI = str(Path(sys.executable).parent / "srdi")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("SRDI_") and k != "PYTHONDONTWRITEBYTECODE"}
_IN_PROCESS = threading.Lock()


def today() -> date:
    """The product's business day (Asia/Shanghai), for dates that must be 'not in the future'."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def future(days: int = 400) -> str:
    return (today() + timedelta(days=days)).isoformat()


def uscc(n: int, district_code: str = "500112") -> str:
    """A valid USCC (GB 32100 check character computed), distinct per ``n``."""
    return make_uscc(f"91{district_code}MA5QA{n:04d}")


@dataclass(frozen=True)
class Done:
    """One finished invocation."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return f"srdi {' '.join(self.args)} -> {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"


@contextmanager
def _actor(actor: str | None) -> Iterator[None]:
    """``SRDI_ACTOR`` set to ``actor`` (unset when None) for an in-process call."""
    saved = os.environ.pop("SRDI_ACTOR", None)
    if actor is not None:
        os.environ["SRDI_ACTOR"] = actor
    try:
        yield
    finally:
        os.environ.pop("SRDI_ACTOR", None)
        if saved is not None:
            os.environ["SRDI_ACTOR"] = saved


class Srdi:
    """The `srdi` script bound to one database URL."""

    def __init__(self, db: str, actor: str | None = None) -> None:
        self.db = db
        self.actor = actor

    def acting(self, actor: str) -> Srdi:
        """The same database, with ``SRDI_ACTOR`` set: another person (the approver, say).

        On PostgreSQL that person logs in as themself (`as_person`): the login is who acts.
        """
        from tests.backends import as_person

        return Srdi(as_person(self.db, actor), actor)

    def _env(self) -> dict[str, str]:
        return ENV if self.actor is None else {**ENV, "SRDI_ACTOR": self.actor}

    def run(self, *args: str) -> Done:
        done = subprocess.run(
            [SRDI, "--db", self.db, *args], capture_output=True, text=True, timeout=180, env=self._env()
        )
        return Done(tuple(args), done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.code == 0, str(done)
        return done.stdout

    def json(self, *args: str, here: bool = False) -> Any:
        """Run with ``--json``: exit 0, exactly one JSON document on stdout, nothing on stderr.

        ``here``: through `cli.main` in this process (see `here`), for steps a test only reads.
        """
        done = self.here(*args, "--json") if here else self.run(*args, "--json")
        assert done.code == 0, str(done)
        assert done.stderr == "", str(done)
        return one_document(done.stdout)

    def many(self, calls: Iterable[Sequence[str]]) -> list[Done]:
        """Independent invocations (reads, refusals) side by side; results in call order."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda args: self.run(*args), calls))

    def here(self, *args: str) -> Done:
        """What the script (`cli.run`) calls, `cli.main`, in this process: same parsing, output, exit code.

        For the many refusal cases, where only the interpreter start would differ from `run`.
        """
        import io
        from contextlib import redirect_stderr, redirect_stdout

        import cli
        from service_layer import logs

        out, err = io.StringIO(), io.StringIO()
        with _IN_PROCESS, redirect_stdout(out), redirect_stderr(err), _actor(self.actor):
            argv, sys.argv = sys.argv, ["srdi", "--db", self.db, *args]
            try:
                cli.main()
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            finally:
                sys.argv = argv
                logs.configure("console", "warning")
        return Done(tuple(args), code, out.getvalue(), err.getvalue())

    def setup(self, *args: str) -> Any:
        """A preparation step that no test asserts on, run in this process (ten times cheaper).

        The same `cli.app` as the script; ``--json`` output is parsed. Serialised: the runner
        swaps sys.stdout for the call.
        """
        from typer.testing import CliRunner

        import cli
        from service_layer import logs

        with _IN_PROCESS:
            result = CliRunner().invoke(cli.app, ["--db", self.db, *args], catch_exceptions=False)
            logs.configure("console", "warning")
        assert result.exit_code == 0, f"{args}: {result.stdout} {result.stderr}"
        return one_document(result.stdout) if "--json" in args else result.stdout

    def events(self) -> int:
        """How many events the log holds (read directly: a refusal must not change it)."""
        from events.db import make_engine

        engine = make_engine(self.db)
        try:
            with engine.connect() as conn:
                return int(conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one())
        finally:
            engine.dispose()

    def rejected(self, *args: str, match: str = "", here: bool = False) -> str:
        """Exit 2, one clear line on stderr, nothing on stdout, nothing written."""
        before = self.events()
        done = self.here(*args) if here else self.run(*args)
        assert_rejection(done, match)
        assert self.events() == before, f"{done}\nwrote events although refused"
        return done.stderr.strip()

    # the scenarios' vocabulary --------------------------------------------------------------
    def add(self, code: str, name: str, district: str, *extra: str, here: bool = False) -> dict[str, Any]:
        args = ("enterprise", "add", code, "--name", name, "--district", district, *extra)
        return dict(self.json(*args, here=here))

    def record(self, code: str, milestone: str, on: str, *extra: str, here: bool = False) -> dict[str, Any]:
        return dict(self.json("record", code, milestone, "--on", on, *extra, here=here))

    def report(self, code: str, kind: str, *extra: str, here: bool = False) -> dict[str, Any]:
        return dict(self.json("report", code, kind, *extra, here=here))

    def ledger(self, *filters: str, here: bool = False) -> dict[str, Any]:
        return dict(self.json("ledger", *filters, here=here))

    def entries(self, *filters: str, here: bool = False) -> list[dict[str, Any]]:
        return list(self.ledger(*filters, here=here)["entries"])

    def entry(self, entitlement_id: str) -> dict[str, Any]:
        found = [e for e in self.entries(here=True) if e["id"] == entitlement_id]
        assert len(found) == 1, entitlement_id
        return found[0]


def lanes(srdi: Srdi, out: dict[str, Any], *steps: Callable[[Srdi, dict[str, Any]], None]) -> None:
    """Each enterprise's steps in order, the enterprises side by side (their streams are distinct)."""
    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        for future in [pool.submit(step, srdi, out) for step in steps]:
            future.result()


def one_document(stdout: str) -> Any:
    """Parse stdout as exactly one JSON document (trailing newline allowed, nothing else)."""
    decoder = json.JSONDecoder()
    text = stdout.strip()
    document, end = decoder.raw_decode(text)
    assert end == len(text), f"more than one JSON document on stdout: {stdout!r}"
    return document


def assert_rejection(done: Done, match: str = "") -> None:
    """Exit 2 with one line on stderr that says what is wrong; stdout empty; no traceback."""
    assert done.code == 2, str(done)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, str(done)
    assert "Traceback" not in done.stderr and done.stdout.strip() == "", str(done)
    assert match.lower() in lines[0].lower(), f"{match!r} not in {lines[0]!r}"


def rules(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A record/report `--json` result's entitlements by rule id (each rule at most once)."""
    rows = result["entitlements"]
    by_rule = {row["rule"]: row for row in rows}
    assert len(by_rule) == len(rows), rows
    return by_rule


def fixed_total(entries: list[dict[str, Any]]) -> Any:
    """CLI.md: totals.fixed sums `amount` of non-reversed entries with `ceiling: false`."""
    return sum(e["amount"] or 0 for e in entries if e["status"] != "reversed" and not e["ceiling"])


def ceilings_total(entries: list[dict[str, Any]]) -> Any:
    """CLI.md: totals.ceilings sums the ceilings still awaiting approval."""
    return sum(e["amount"] or 0 for e in entries if e["ceiling"] and e["status"] == "awaiting-approval")


LEDGER_KEYS = {
    "id",
    "enterprise",
    "district",
    "policy",
    "rule",
    "article",
    "kind",
    "trigger_event",
    "accrued_on",
    "amount",
    "ceiling",
    "approved_amount",
    "paid_amount",
    "status",
    "note",
}
STATUSES = set(get_args(Status))
"""The ledger contract's statuses, as the engine declares them."""
