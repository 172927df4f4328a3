"""APScheduler jobs: the fetch-match-deliver cycle on the configured interval."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.services import Services

log = logging.getLogger(__name__)


def run_cycle_job(services: Services) -> None:
    """One scheduled cycle; an error is logged and the next cycle still runs."""
    try:
        services.pipeline.run_cycle(list(services.settings.feeds))
    except Exception:
        log.exception("cycle failed; the next one runs as scheduled")


def build_scheduler(services: Services) -> BackgroundScheduler:
    """A scheduler running one cycle now and then every `schedule.poll_minutes`.

    One cycle at a time (max_instances=1); after downtime a missed cycle runs once
    (coalesce) rather than never (APScheduler's default grace time is one second).
    """
    minutes = services.settings.schedule.poll_minutes
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        run_cycle_job,
        "interval",
        minutes=minutes,
        args=[services],
        id="cycle",
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
        misfire_grace_time=minutes * 60,
    )
    return scheduler
