"""E-mail notifications arrive at a real SMTP server on loopback, one per responsible unit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from scheduler import jobs
from tests.integration.scheduler_support import record, register, services_for


class Inbox:
    """An aiosmtpd handler that keeps (envelope recipients, parsed message) of every delivery."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 and a free port, for the length of one test."""
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


RECIPIENTS = {
    "yubei": ["jxw@yubei.example", "kw@yubei.example"],
    "qianjiang": ["jxw@qianjiang.example"],
    "qianjiang/区科技局": ["kjj@qianjiang.example"],
}


def test_emails_reach_each_responsible_unit_once(
    engine: Engine, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    """Each unit with an enterprise due gets one e-mail at its configured addresses; a rerun sends none."""
    inbox, port = smtp
    svc = services_for(
        engine,
        tmp_path,
        notify_channels=("log", "email"),
        smtp_port=port,
        smtp_sender="srdi@test.example",
        smtp_recipients=RECIPIENTS,
    )
    yubei = register(svc, 21, district="yubei")
    qianjiang = register(svc, 22, district="qianjiang", department="区科技局")
    rongchang = register(svc, 23, district="rongchang")  # no recipients configured: no e-mail
    for code in (yubei, qianjiang, rongchang):
        record(svc, code, "innovative-sme", "certified", date(2021, 3, 1))
    jobs.scan_since_last(svc, date(2024, 2, 1))
    jobs.scan_since_last(svc, date(2024, 2, 1))
    by_unit = {message["X-Srdi-Unit"]: (rcpt, message) for rcpt, message in inbox.received}
    assert len(inbox.received) == 3
    assert {unit: rcpt for unit, (rcpt, _) in by_unit.items()} == RECIPIENTS
    assert yubei in by_unit["yubei"][1].get_content() and qianjiang not in by_unit["yubei"][1].get_content()
    for unit in ("qianjiang", "qianjiang/区科技局"):
        body = by_unit[unit][1].get_content()
        assert qianjiang in body and "剩余 28 天" in body and "创新型中小企业" in body
    assert all(message["From"] == "srdi@test.example" for _, message in inbox.received)


def test_an_unreachable_smtp_server_does_not_stop_the_scan(engine: Engine, tmp_path: Path) -> None:
    """When SMTP fails the reminder is still recorded and the outbox still written (the failure is logged)."""
    svc = services_for(
        engine,
        tmp_path,
        notify_channels=("outbox", "email"),
        smtp_port=_free_port(),
        smtp_recipients=RECIPIENTS,
    )
    code = register(svc, 24, district="yubei")
    record(svc, code, "innovative-sme", "certified", date(2021, 3, 1))
    report = jobs.scan_since_last(svc, date(2024, 2, 1))
    assert len(report.reminders) == 1
    assert (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").count(code) == 1
