"""Notification channels: the structlog log (always), e-mail per responsible unit, a JSON Lines outbox file.

The notices come from the database outbox (``scheduler.outbox``), which holds each one from the
transaction of its event until every channel meant for it has sent it. A channel that fails is
logged as an error naming the event ids and reports False, so its notices stay pending and go with
the next delivery; it never stops the other channels.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from domain.labels import label, sentence
from events.lazy_logging import get_logger
from service_layer.settings import Settings

log = get_logger("srdi.scheduler")

NoticeKind = Literal["review-due", "tutoring-lapses", "expired", "tutoring-lapsed"]
CHANNELS = ("log", "email", "outbox")


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell people about: a reminder issued or a lapse recorded (by its event id)."""

    event_id: str
    kind: NoticeKind
    uscc: str
    track: str
    deadline: date
    days_left: int
    threshold: int | None
    units: tuple[str, ...]
    issued_on: date

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "uscc": self.uscc,
            "track": self.track,
            "valid_until": self.deadline.isoformat(),
            "days_left": self.days_left,
            "threshold": self.threshold,
            "responsible_units": list(self.units),
            "issued_on": self.issued_on.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notice:
        """The notice ``as_json`` wrote (the outbox row's text)."""
        return cls(
            data["event_id"],
            data["kind"],
            data["uscc"],
            data["track"],
            date.fromisoformat(data["valid_until"]),
            data["days_left"],
            data["threshold"],
            tuple(data["responsible_units"]),
            date.fromisoformat(data["issued_on"]),
        )

    def line_zh(self) -> str:
        """One line of the e-mail body, in the language district staff read."""
        track = label(self.track, "zh", namespace="track")
        head = sentence("notice-head", "zh", uscc=self.uscc, track=track, deadline=self.deadline)
        if self.kind in ("expired", "tutoring-lapsed"):
            return head + sentence("notice-lapsed", "zh", on=self.issued_on)
        return head + sentence("notice-due", "zh", days=self.days_left)


def check_channels(names: Iterable[str]) -> tuple[str, ...]:
    """The configured channels, refusing unknown names at start-up rather than at the first reminder."""
    unknown = sorted(set(names) - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown notify channel(s) {', '.join(unknown)}; use any of {', '.join(CHANNELS)}")
    return tuple(dict.fromkeys(("log", *names)))


def notify_channel(settings: Settings, channel: str, notices: Sequence[Notice]) -> bool:
    """Send ``notices`` on one channel; False (logged as an error) when it failed."""
    if not notices:
        return True
    try:
        if channel == "log":
            for notice in notices:
                log.info("notice", **notice.as_json())
        elif channel == "outbox":
            write_outbox(settings.outbox_path, notices)
        elif channel == "email":
            send_email(settings, notices)
        else:
            raise ValueError(f"unknown notify channel {channel}")
    except Exception as error:  # kept pending: the next delivery tries again
        log.error(
            "notify failed",
            channel=channel,
            error=f"{type(error).__name__}: {error}",
            event_ids=[n.event_id for n in notices],
        )
        return False
    return True


def write_outbox(path: Path, notices: Sequence[Notice]) -> None:
    """Append one JSON object per line, under an exclusive lock and fsynced, for other tools to tail.

    A notice whose event id is already among the file's last lines is not written again: a delivery
    killed after writing, before the database marked it sent, repeats itself harmlessly.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        written = _recent_event_ids(fd, len(notices))
        fresh = [n for n in notices if n.event_id not in written]
        data = "".join(json.dumps(n.as_json(), ensure_ascii=False) + "\n" for n in fresh).encode()
        if data:
            os.write(fd, data)
            os.fsync(fd)
    finally:
        os.close(fd)


def _recent_event_ids(fd: int, count: int) -> set[str]:
    """The event ids of (at least) the last ``count`` lines of the outbox file."""
    size = os.fstat(fd).st_size
    window = min(size, max(count, 1) * 2048 + 4096)  # a notice line is well under 2 kB
    tail = os.pread(fd, window, size - window).decode("utf-8", "replace")
    found: set[str] = set()
    for line in tail.splitlines():
        try:
            found.add(str(json.loads(line)["event_id"]))
        except (ValueError, KeyError, TypeError):
            continue  # the first, partial line of the window
    return found


def by_unit(notices: Iterable[Notice]) -> dict[str, list[Notice]]:
    """Group notices by responsible unit: one e-mail per unit, listing all of that unit's notices."""
    grouped: dict[str, list[Notice]] = {}
    for notice in notices:
        for unit in notice.units:
            grouped.setdefault(unit, []).append(notice)
    return grouped


def send_email(settings: Settings, notices: Sequence[Notice]) -> None:
    """One message per responsible unit to the addresses configured for it, over one SMTP session."""
    messages: list[tuple[str, list[str], EmailMessage, int]] = []
    for unit, items in sorted(by_unit(notices).items()):
        recipients = settings.smtp_recipients.get(unit, [])
        if not recipients:
            log.warning("no e-mail recipients for unit", unit=unit, event_ids=[n.event_id for n in items])
            continue
        messages.append(
            (unit, recipients, _message(settings.smtp_sender, unit, recipients, items), len(items))
        )
    if not messages:
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        for unit, recipients, message, count in messages:
            smtp.send_message(message, to_addrs=recipients)
            log.info("e-mail sent", unit=unit, recipients=recipients, notices=count)


def send_plain(settings: Settings, recipients: list[str], subject: str, body: str) -> None:
    """One plain-text message over the configured SMTP server (the signed anchors go this way)."""
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message, to_addrs=recipients)


def _message(sender: str, unit: str, recipients: list[str], items: Sequence[Notice]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = sentence("notice-subject", "zh", unit=unit, n=len(items))
    message["X-Srdi-Unit"] = unit
    unit_key = hashlib.sha256(unit.encode("utf-8")).hexdigest()[:12]
    message["Message-ID"] = f"<{items[0].event_id}.{unit_key}@srdi>"  # a resent mail keeps its id
    body = [n.line_zh() for n in items]
    body += ["", "event ids: " + ", ".join(n.event_id for n in items)]
    message.set_content("\n".join(body))
    return message
