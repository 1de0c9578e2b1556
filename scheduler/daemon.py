"""The long-running scheduler: stand by until elected, then run APScheduler on the database's job store.

On taking the lead it first catches up (one scan covering every day since the last recorded scan),
then starts a ``BackgroundScheduler`` whose only job, a daily cron run in Asia/Shanghai, lives in
``apscheduler_jobs`` (``SQLAlchemyJobStore``) with ``coalesce=True`` and a day of misfire grace: a
run missed while this process was blocked runs once, late. The main thread keeps checking that the
leader lock is still held and stops scheduling the moment it might not be.

The stored job refers to ``scheduled_scan`` by name (APScheduler pickles a textual reference), so the
services it needs are handed over through ``_ACTIVE`` rather than pickled into the database.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from events.db import make_engine
from events.lazy_logging import get_logger
from scheduler import jobs
from scheduler.leader import LeaderLock, leader_lock, poll_seconds
from scheduler.notify import check_channels
from scheduler.tables import JOBS_TABLE
from service_layer.bootstrap import Services
from service_layer.settings import Settings

log = get_logger("srdi.scheduler")

DAILY_JOB_ID = "srdi-daily-scan"


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
        jobs.scan_since_last(services, clock.today())
        scheduler = build_scheduler(services.settings)
        scheduler.start()
        ensure_daily_job(scheduler, services.settings)
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
    """APScheduler on the database's own job store, one worker, in the configured time zone."""
    # The store gets an engine of its own: SQLAlchemyJobStore.shutdown() disposes of it.
    engine = make_engine(settings.database_url).execution_options(srdi_write=True)
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=_job_options(settings),
        timezone=ZoneInfo(settings.timezone),
    )


def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Stop without touching the job store again.

    APScheduler 3.x processes due jobs once more after ``shutdown`` (its loop checks the state
    only after waking), which would consume a due run and write to the shared job store after
    leadership may be gone. Pausing and detaching the store first makes that last pass a no-op;
    a run lost that way is caught up by the next leader's start-up scan.
    """
    if not scheduler.running:
        return
    scheduler.pause()
    scheduler.remove_jobstore("default")
    scheduler.shutdown(wait=True)


def _job_options(settings: Settings) -> dict[str, Any]:
    return {"coalesce": True, "misfire_grace_time": settings.misfire_grace_seconds, "max_instances": 1}


def daily_trigger(settings: Settings) -> CronTrigger:
    hour, minute = (int(part) for part in settings.scan_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(settings.timezone))


def ensure_daily_job(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """Keep the stored job (and so its missed run times) unless its schedule changed in settings."""
    trigger = daily_trigger(settings)
    job = scheduler.get_job(DAILY_JOB_ID)
    if job is None:
        scheduler.add_job(scheduled_scan, trigger, id=DAILY_JOB_ID, name="review calendar scan")
    elif str(job.trigger) != str(trigger):
        scheduler.reschedule_job(DAILY_JOB_ID, trigger=trigger)
    scheduler.modify_job(DAILY_JOB_ID, **_job_options(settings))
