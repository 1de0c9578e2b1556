"""E-mail notifications arrive at a real SMTP server on loopback, one per responsible unit."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

from tests.bootstrap import FakeNotifier, Inbox, bootstrap

RECIPIENTS = {
    "yubei": ["jxw@yubei.example", "kw@yubei.example"],
    "qianjiang": ["jxw@qianjiang.example"],
    "qianjiang/区科技局": ["kjj@qianjiang.example"],
}


def test_emails_reach_each_responsible_unit_once(
    engine: Engine, notifier: FakeNotifier, smtp: tuple[Inbox, int]
) -> None:
    """Each unit with an enterprise due gets one e-mail at its configured addresses; a rerun sends none."""
    inbox, port = smtp
    office = bootstrap(
        engine,
        notifier=notifier,
        notify_channels=("log", "email"),
        smtp_port=port,
        smtp_sender="srdi@test.example",
        smtp_recipients=RECIPIENTS,
    )
    yubei = office.add_enterprise(21, district="yubei")
    qianjiang = office.add_enterprise(22, district="qianjiang", department="区科技局")
    rongchang = office.add_enterprise(23, district="rongchang")  # no recipients configured: no e-mail
    for code in (yubei, qianjiang, rongchang):
        office.record(code, "innovative-sme.certified", date(2021, 3, 1))
    office.scan(date(2024, 2, 1))
    office.scan(date(2024, 2, 1))
    by_unit = {message["X-Srdi-Unit"]: (rcpt, message) for rcpt, message in inbox.received}
    assert len(inbox.received) == 3
    assert {unit: rcpt for unit, (rcpt, _) in by_unit.items()} == RECIPIENTS
    assert yubei in by_unit["yubei"][1].get_content() and qianjiang not in by_unit["yubei"][1].get_content()
    for unit in ("qianjiang", "qianjiang/区科技局"):
        body = by_unit[unit][1].get_content()
        assert qianjiang in body and "剩余 28 天" in body and "创新型中小企业" in body
        assert "有效期至 2024-02-29，剩余 28 天，请及时组织复核/申报" in body
        assert by_unit[unit][1]["Subject"] == f"[srdi] {unit}: 1 项复核/到期提醒"
    assert all(message["From"] == "srdi@test.example" for _, message in inbox.received)


def test_an_unreachable_smtp_server_does_not_stop_the_scan(
    engine: Engine, notifier: FakeNotifier, free_port: int
) -> None:
    """When SMTP fails the reminder is still recorded and the outbox still written (the failure is logged)."""
    office = bootstrap(
        engine,
        notifier=notifier,
        notify_channels=("outbox", "email"),
        smtp_port=free_port,
        smtp_recipients=RECIPIENTS,
    )
    code = office.add_enterprise(24, district="yubei")
    office.record(code, "innovative-sme.certified", date(2021, 3, 1))
    report = office.scan(date(2024, 2, 1))
    assert len(report.reminders) == 1
    assert [n["uscc"] for n in notifier.sent()] == [code]
