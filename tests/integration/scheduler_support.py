"""Shared set-up for the scheduler tests: services on the test database, and history via the handlers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from domain.commands import RecordMilestone, RegisterEnterprise
from domain.uscc import make_uscc
from events.schemas import reminder_stream
from service_layer.bootstrap import Services
from service_layer.settings import Settings
from service_layer.unit_of_work import handle


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def services_for(engine: Engine, tmp_path: Path, **settings: Any) -> Services:
    """Services on the test database, notifying the log and an outbox file in ``tmp_path``."""
    options: dict[str, Any] = {
        "notify_channels": ("log", "outbox"),
        "outbox_path": tmp_path / "outbox.jsonl",
        **settings,
    }
    return Services(Settings(database_url=url_of(engine), **options))


def uscc(n: int) -> str:
    return make_uscc(f"91500000MA{n:07d}")


def register(svc: Services, n: int, district: str = "yubei", department: str | None = None) -> str:
    code = uscc(n)
    command = RegisterEnterprise(
        uscc=code, name=f"测试企业{n}", district=district, department=department, on=date(2019, 1, 2)
    )
    handle(svc.store, command, today=date(2019, 1, 2), actor="test")
    return code


def record(svc: Services, code: str, track: str, action: str, on: date) -> None:
    handle(svc.store, RecordMilestone(uscc=code, track=track, action=action, on=on), today=on, actor="test")


def reminders(svc: Services, code: str) -> list[tuple[str, int, int]]:
    """(track, threshold, days_left) of every reminder recorded for an enterprise, in order."""
    return [
        (e.data["track"], e.data["threshold"], e.data["days_left"])
        for e in svc.store.read_stream(reminder_stream(code))
    ]


def milestones(svc: Services, code: str, action: str) -> list[tuple[str, date, str]]:
    """(track, date, actor) of an enterprise's milestones of one action."""
    return [
        (e.data["track"], e.occurred_on, e.actor)
        for e in svc.store.read_stream(f"enterprise-{code}")
        if e.event_type == "MilestoneRecorded" and e.data["action"] == action
    ]


def outbox(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
