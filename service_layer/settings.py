"""Configuration from the environment (``SRDI_*``) and the command line, via pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything that differs between an office's laptop, a server and a test."""

    model_config = SettingsConfigDict(env_prefix="SRDI_", extra="ignore")

    database_url: str = "sqlite:///srdi.db"
    busy_timeout_seconds: float = Field(default=5.0, ge=0, le=3600)
    """How long a command waits for another writer of a SQLite database before exit 3."""
    connect_timeout_seconds: int = Field(default=10, ge=1, le=600)
    """How long a command waits for PostgreSQL to answer a connection before exit 5."""
    log_format: Literal["console", "json"] = "console"
    log_level: str = "warning"
    # scheduler
    reminder_days: tuple[int, ...] = (90, 30, 7)
    timezone: str = "Asia/Shanghai"
    notify_channels: tuple[str, ...] = Field(default=("log",))
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "srdi@localhost"
    outbox_path: Path = Path("srdi-outbox.jsonl")
    leader_lock_path: Path | None = None
    standby_poll_seconds: float = 5.0
    # scheduler: SMTP recipients per responsible unit (a district key, or
    # "district/department"), e.g. SRDI_SMTP_RECIPIENTS='{"yubei": ["jxw@yubei.example"]}'
    smtp_recipients: dict[str, list[str]] = Field(default_factory=dict)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    scan_time: str = Field(default="00:10", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # daily, local time
    misfire_grace_seconds: int = 86_400  # a daily run missed by less than this still runs (coalesced)
    # signed anchors (docs/trust.md): the signing key stays on the anchoring host, never in the database
    anchor_key: Path | None = None  # the private key of 'srdi audit keygen' (SRDI_ANCHOR_KEY)
    anchor_log: Path = Path("srdi-anchors.jsonl")  # JSON lines, one signed anchor each
    anchor_public_key: Path | None = None  # the expected signer (PATH.pub), pinned when verifying
    auditor_emails: list[str] = Field(default_factory=list)  # each anchor mailed here when e-mail is on
