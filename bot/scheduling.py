"""APScheduler wiring: housekeeping jobs now; feature jobs are rebuilt from the database on start."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.backup import make_backup
from bot.clock import Clock
from bot.storage.received import ReceivedUpdates

log = logging.getLogger(__name__)


def create_scheduler() -> AsyncIOScheduler:
    # coalesce + one instance: a job late because the process slept runs once, not once per missed tick.
    return AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})


def add_housekeeping(
    scheduler: AsyncIOScheduler,
    clock: Clock,
    received: ReceivedUpdates,
    database: Path,
    backup_dir: Path,
    backup_keep: int,
) -> None:
    async def prune_received() -> None:
        await received.prune(clock.now())

    async def daily_backup() -> None:
        path = await asyncio.to_thread(make_backup, database, backup_dir, backup_keep, clock.now())
        log.info("backup written to %s", path)

    scheduler.add_job(
        prune_received, CronTrigger(hour=3, minute=10), id="prune-received", replace_existing=True
    )
    scheduler.add_job(daily_backup, CronTrigger(hour=3, minute=30), id="daily-backup", replace_existing=True)
