"""The long-running scheduler: stand by until elected, then run APScheduler with jobs defined in code.

On taking the lead it first sends any notice left pending by a predecessor (``scheduler.outbox``),
then catches up (one scan covering every day since the last scan, from its tracking record),
then starts a ``BackgroundScheduler`` on a MEMORY job store with the jobs of ``JOBS``: the daily scan
(cron in Asia/Shanghai) and, when a signing key is configured, the daily anchor (``docs/trust.md``),
with ``coalesce=True`` and a day of misfire grace. Nothing the scheduler runs is read from the
database: APScheduler's SQL job store unpickled its rows, so a row planted there ran as code when the
scheduler took the lead. A run missed while no process led is covered by the next leader's start-up
scan. The main thread keeps checking that the leader lock is still held and stops scheduling the
moment it might not be.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from events.lazy_logging import get_logger
from scheduler import jobs
from scheduler.leader import LeaderLock, leader_lock, poll_seconds
from scheduler.notify import check_channels
from scheduler.outbox import deliver
from service_layer.bootstrap import Services
from service_layer.settings import Settings

log = get_logger("srdi.scheduler")

DAILY_JOB_ID = "srdi-daily-scan"
ANCHOR_JOB_ID = "srdi-daily-anchor"


@dataclass(frozen=True, slots=True)
class Clock:
    """Today in the scheduler's time zone; ``pinned`` shifts it so that today is a given date."""

    tz: ZoneInfo
    offset: timedelta = timedelta(0)

    def today(self) -> date:
        return datetime.now(self.tz).date() + self.offset

    @classmethod
    def pinned(cls, tz: ZoneInfo, day: date | None) -> Clock:
        return cls(tz) if day is None else cls(tz, day - datetime.now(tz).date())


_ACTIVE: tuple[Services, Clock] | None = None


def scheduled_scan() -> None:
    """The daily job: scan today (covering any days missed since the last scan)."""
    if _ACTIVE is None:  # only reachable if a stale executor thread outlives its leadership
        log.warning("daily scan skipped: this process is not leading")
        return
    services, clock = _ACTIVE
    jobs.scan_since_last(services, clock.today())


def scheduled_anchor() -> None:
    """The daily anchor: sign the verified head of the log into the anchor log (docs/trust.md)."""
    if _ACTIVE is None:
        log.warning("daily anchor skipped: this process is not leading")
        return
    from service_layer.anchoring import anchor

    services, _ = _ACTIVE
    try:
        done = anchor(services.settings, services.engine)
    except Exception as error:  # a broken log or key is an operator's alarm, not a crash
        log.error("daily anchor failed", error=f"{type(error).__name__}: {error}")
        return
    log.info("daily anchor", position=done.anchor.position, log=str(done.path))


def run(services: Services, clock: Clock, stop: threading.Event) -> None:
    """Stand by, lead while elected, and return once ``stop`` is set."""
    settings = services.settings
    check_channels(settings.notify_channels)
    lock = leader_lock(services.engine, settings.leader_lock_path)
    poll = poll_seconds(settings.standby_poll_seconds)
    log.info("scheduler standing by", pid=os.getpid(), poll_seconds=poll)
    try:
        while not stop.is_set():
            if _try_acquire(lock):
                log.info("scheduler leading", pid=os.getpid())
                _lead(services, clock, lock, stop, poll)
                lock.release()
                if not stop.is_set():
                    log.warning("scheduler lost the lead; standing by", pid=os.getpid())
            else:
                stop.wait(poll)
    finally:
        lock.release()
        log.info("scheduler stopped", pid=os.getpid())


def _try_acquire(lock: LeaderLock) -> bool:
    try:
        return lock.try_acquire()
    except Exception as error:  # the database is unreachable: stay a standby and retry
        log.error("leader election failed", error=f"{type(error).__name__}: {error}")
        return False


def _lead(services: Services, clock: Clock, lock: LeaderLock, stop: threading.Event, poll: float) -> None:
    global _ACTIVE
    _ACTIVE = (services, clock)
    scheduler: BackgroundScheduler | None = None
    try:
        deliver(services.engine, services.settings)  # what a killed predecessor committed but never sent
        jobs.scan_since_last(services, clock.today())
        scheduler = build_scheduler(services.settings)
        add_jobs(scheduler, services.settings)
        scheduler.start()
        while not stop.wait(poll):
            if not lock.still_held():
                log.error("leader lock lost; stopping the scheduler", pid=os.getpid())
                return
    except Exception as error:  # a failing scan must not leave a zombie leader holding the lock
        log.error("scheduler failed while leading", error=f"{type(error).__name__}: {error}")
        stop.wait(poll)
    finally:
        if scheduler is not None:
            stop_scheduler(scheduler)
        _ACTIVE = None


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    """APScheduler on a memory job store (jobs come from code only), one worker, in the time zone."""
    return BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=_job_options(settings),
        timezone=ZoneInfo(settings.timezone),
    )


def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Stop, letting a running job finish; no further run starts."""
    if not scheduler.running:
        return
    scheduler.pause()
    scheduler.shutdown(wait=True)


def _job_options(settings: Settings) -> dict[str, Any]:
    return {"coalesce": True, "misfire_grace_time": settings.misfire_grace_seconds, "max_instances": 1}


def daily_trigger(settings: Settings) -> CronTrigger:
    hour, minute = (int(part) for part in settings.scan_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(settings.timezone))


def add_jobs(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """The scheduler's jobs, all defined here: the daily scan, and the daily anchor when a key is set."""
    trigger = daily_trigger(settings)
    scheduler.add_job(scheduled_scan, trigger, id=DAILY_JOB_ID, name="review calendar scan")
    if settings.anchor_key is not None:
        scheduler.add_job(scheduled_anchor, trigger, id=ANCHOR_JOB_ID, name="signed anchor of the log")
