"""Configuration from the environment (``SRDI_*``) and the command line, via pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything that differs between an office's laptop, a server and a test."""

    model_config = SettingsConfigDict(env_prefix="SRDI_", extra="ignore")

    database_url: str = "sqlite:///srdi.db"
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
