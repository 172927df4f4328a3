"""APScheduler jobs: feed polling on each feed's schedule, retries, and digests.

Two kinds of job, on one worker thread so that one cycle runs at a time:

- the tick (every `schedule.tick_seconds`, in memory): polls the feeds that are due, then
  matches and delivers, or only delivers (retries, released digests) when no feed is due.
  When a feed is next due is kept in the feeds table (`next_poll`), so it survives restarts.
- one digest job per (target, cadence), a cron trigger at `schedule.digest_hour` in the
  target's timezone, kept in the store's database (SQLAlchemyJobStore). It starts a digest
  of the rows held for it, with the feed warnings of that moment; the next tick posts it as
  one message and a thread (bot/deliver.py). With coalesce=True and no misfire limit, a
  digest missed while paperbot was down runs once when it is back: not zero times, not
  once per missed day.
"""

from __future__ import annotations

import json
import logging
import threading
import time as monotonic_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.deliver import DeliveryReport, iso, utc_now
from bot.feeds import active_feeds, feed_health_warnings
from bot.pipeline import CycleReport
from bot.services import Services
from bot.settings import FeedSettings, ScheduleSettings
from bot.storage import Store

log = logging.getLogger(__name__)

PERSISTENT = "persistent"
TICK_JOB_ID = "tick"
# arXiv announces at 20:00 US Eastern, Sunday to Thursday (Monday is 0).
ARXIV_ZONE = ZoneInfo("America/New_York")
ARXIV_ANNOUNCEMENT = time(20, 0)
ARXIV_ANNOUNCEMENT_DAYS = (6, 0, 1, 2, 3)
# A failing feed is retried after 5, 10, 20... minutes, up to the configured cap.
FEED_ERROR_FIRST_RETRY = timedelta(minutes=5)
FAILED_FEED_STATUSES = ("http_error", "network_error", "too_large", "parse_error", "internal_error")


# -- when feeds are polled ---------------------------------------------------------------


def is_arxiv_listing(feed: FeedSettings) -> bool:
    """arXiv's announcement feeds, which change once per announcement."""
    return feed.kind == "arxiv_listing" or "rss.arxiv.org" in feed.url


def last_arxiv_announcement(now: datetime) -> datetime:
    """The latest arXiv announcement at or before `now` (timezone-aware, Eastern)."""
    local = now.astimezone(ARXIV_ZONE)
    for days_back in range(8):
        day = (local - timedelta(days=days_back)).date()
        moment = datetime.combine(day, ARXIV_ANNOUNCEMENT, ARXIV_ZONE)
        if day.weekday() in ARXIV_ANNOUNCEMENT_DAYS and moment <= local:
            return moment
    raise AssertionError("arXiv announces every week")


def next_arxiv_announcement(now: datetime) -> datetime:
    """The first arXiv announcement after `now`."""
    local = now.astimezone(ARXIV_ZONE)
    for days_ahead in range(8):
        day = (local + timedelta(days=days_ahead)).date()
        moment = datetime.combine(day, ARXIV_ANNOUNCEMENT, ARXIV_ZONE)
        if day.weekday() in ARXIV_ANNOUNCEMENT_DAYS and moment > local:
            return moment
    raise AssertionError("arXiv announces every week")


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def next_poll_time(
    feed: FeedSettings, state: dict, now: datetime, schedule: ScheduleSettings
) -> datetime:
    """When to poll `feed` again, just after polling it at `now` (its state updated).

    A failing feed backs off, but is polled at least every feed_error_backoff_max_minutes
    so that a feed down for a day is read again soon after it is back. An arXiv listing is
    polled at the next announcement, and re-polled every arxiv_repoll_minutes after an
    announcement until it shows a new batch, within arxiv_repoll_window_minutes.
    """
    regular = now + timedelta(minutes=feed.poll_minutes or schedule.poll_minutes)
    if state.get("last_status") in FAILED_FEED_STATUSES:
        errors = max(int(state.get("consecutive_errors") or 1), 1)
        backoff = min(
            FEED_ERROR_FIRST_RETRY * 2 ** min(errors - 1, 16),
            timedelta(minutes=schedule.feed_error_backoff_max_minutes),
        )
        return min(now + backoff, regular)
    if not is_arxiv_listing(feed):
        return regular
    announced = last_arxiv_announcement(now)
    window_end = announced + timedelta(minutes=schedule.arxiv_repoll_window_minutes)
    new_batch_at = parse_time(state.get("new_batch_at"))
    waiting_for_batch = new_batch_at is None or new_batch_at < announced
    if now < window_end and waiting_for_batch:
        return now + timedelta(minutes=schedule.arxiv_repoll_minutes)
    return min(regular, next_arxiv_announcement(now))


def due_feeds(feeds: list[FeedSettings], store: Store, now: datetime) -> list[FeedSettings]:
    """The feeds whose next poll time has come (or that were never polled)."""
    due = []
    for feed in feeds:
        state = store.feeds.get(feed.url) or {}
        next_poll = parse_time(state.get("next_poll"))
        if next_poll is None or next_poll <= now:
            due.append(feed)
    return due


def plan_next_polls(
    store: Store, feeds: list[FeedSettings], report: CycleReport, now: datetime, schedule
) -> None:
    """Record, for each feed just polled, when it found new papers and its next poll."""
    by_url = {feed.url: feed for feed in feeds}
    for feed_report in report.feeds:
        feed = by_url.get(feed_report.url)
        if feed is None:
            continue
        if feed_report.new:
            store.feeds.save(feed.url, new_batch_at=iso(now))
        state = store.feeds.get(feed.url) or {}
        store.feeds.save(feed.url, next_poll=iso(next_poll_time(feed, state, now, schedule)))


# -- digests -----------------------------------------------------------------------------


def release_digest(db_path: str, target: str, cadence: str, zone: str | None = None) -> int:
    """The persisted digest job: start a digest of the rows held for it; the tick posts it.

    It takes only the database path, so the job store never holds a token or a service
    (and keeps its name, which jobs persisted by older versions refer to). The digest is
    dated in the target's timezone `zone`. Returns how many papers it carries.
    """
    store = Store(db_path)
    try:
        day = datetime.now(ZoneInfo(valid_zone(zone) or "UTC")).date().isoformat()
        count = len(store.alerts.held_digest_ids(target, cadence))
        digest_id = store.digests.open(target, cadence, day, feed_health_warnings(store))
    finally:
        store.close()
    log.info("digest %s for %s: %s with %d paper(s)", cadence, target, digest_id, count)
    return count if digest_id else 0


def digest_trigger(cadence: str, zone: str, schedule: ScheduleSettings) -> CronTrigger:
    """Daily at digest_hour, or weekly on weekly_digest_day, in the target's timezone."""
    day = schedule.weekly_digest_day if cadence == "weekly" else "*"
    return CronTrigger(day_of_week=day, hour=schedule.digest_hour, minute=0, timezone=zone)


def next_digest_time(
    cadence: str, zone: str | None, schedule: ScheduleSettings, now: datetime
) -> datetime:
    """When the next `cadence` digest of a target in `zone` goes out after `now` (in that
    zone; UTC when the zone is unknown): the same trigger the digest job runs on."""
    trigger = digest_trigger(cadence, valid_zone(zone) or "UTC", schedule)
    # The trigger's answer may be `now` itself; that digest is going out, not next.
    return trigger.get_next_fire_time(None, now + timedelta(microseconds=1))


def digest_zone(target: str, stored: str | None, schedule: ScheduleSettings) -> str:
    """The timezone a target's digests follow: a user's as stored from Slack, a channel's
    from settings (the channel default when the user's is not known)."""
    if target.startswith(("U", "W")):
        return valid_zone(stored) or schedule.channel_timezone
    return schedule.channel_timezone


def valid_zone(name: str | None) -> str | None:
    try:
        return name if name and ZoneInfo(name) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass
class CycleLog:
    """What one tick did, as one log line and one `cycles` row."""

    started: datetime
    feeds: list[FeedSettings]
    report: CycleReport | None
    delivered: object
    seconds: float

    def record(self) -> dict:
        report = self.report or CycleReport()
        delivered = self.delivered
        failing = [
            {"feed": f.name, "status": f.status, "error": f.error}
            for f in report.feeds
            if f.status in FAILED_FEED_STATUSES
        ]
        return {
            "started": iso(self.started),
            "finished": iso(self.started + timedelta(seconds=self.seconds)),
            "feeds": len(report.feeds),
            "feeds_ok": report.feeds_read,
            "papers_new": report.papers_new,
            "matches": len(report.alerts) + len(report.over_cap),
            "queued": report.queued,
            "sent": delivered.sent,
            "failed": delivered.failed,
            "retrying": delivered.retrying,
            "seconds": round(self.seconds, 3),
            "fetch_seconds": report.fetch_seconds,
            "embed_seconds": report.embed_seconds,
            "match_seconds": report.match_seconds,
            # A tick with no feed due only delivers.
            "deliver_seconds": report.deliver_seconds if self.report else delivered.seconds,
            "durations": json.dumps(
                {
                    "total": round(self.seconds, 3),
                    "pipeline": report.seconds,
                    "deliver": delivered.seconds,
                }
            ),
            "errors": json.dumps(failing),
        }


class Ticker:
    """The tick job and the digest job bookkeeping, with the services they work on."""

    def __init__(
        self,
        services: Services,
        scheduler: BackgroundScheduler,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.services = services
        self.scheduler = scheduler
        self.clock = clock
        self._zones_checked: set[str] = set()
        self._ticking = threading.Lock()
        self._stopping = False

    def tick(self) -> dict | None:
        """Poll due feeds, deliver, keep digest jobs in step; never raises."""
        with self._ticking:
            if self._stopping:
                return None
            try:
                self.sync_digest_jobs()
            except Exception:
                log.exception("could not update the digest jobs; trying again next tick")
            try:
                return self.run_cycle()
            except Exception:
                log.exception("cycle failed; the next one runs as scheduled")
                return None

    def stop(self) -> None:
        """Wait for a running tick to end; no tick runs after this returns.

        APScheduler's shutdown holds its job-store lock while it waits for running jobs,
        and a tick reads the job store (sync_digest_jobs): a SIGTERM during a tick
        deadlocked until the ticks stopped first.
        """
        self._stopping = True
        with self._ticking:
            pass

    def run_cycle(self) -> dict | None:
        """One cycle; returns its record, or None when there was nothing to do."""
        services = self.services
        now = self.clock()
        started = monotonic_time.monotonic()
        feeds = due_feeds(active_feeds(services.settings, services.store), services.store, now)
        deliverer = services.pipeline.deliverer
        report = None
        if feeds:
            report = services.pipeline.run_cycle(feeds)
            plan_next_polls(services.store, feeds, report, now, services.settings.schedule)
            delivered = deliverer.last_report if deliverer else None
        else:
            delivered = deliverer.deliver_pending() if deliverer else None
        if delivered is None:
            delivered = DeliveryReport()
        if not feeds and not (delivered.sent or delivered.failed or delivered.retrying):
            return None
        cycle = CycleLog(now, feeds, report, delivered, monotonic_time.monotonic() - started)
        record = cycle.record()
        services.store.cycles.record(record)
        log.info("cycle %s", json.dumps(record))
        return record

    def sync_digest_jobs(self) -> None:
        """One persisted digest job per (target, cadence) with active digest subscriptions.

        An existing job is kept as it is (so a run missed during downtime still fires),
        unless its trigger changed; jobs of targets with no digest subscription go.
        """
        schedule = self.services.settings.schedule
        wanted = {}
        for target, cadence in self.services.store.subscriptions.digest_targets():
            zone = self.timezone_for(target)
            trigger = digest_trigger(cadence, zone, schedule)
            args = [self.services.store.path, target, cadence, zone]
            wanted[f"digest:{cadence}:{target}"] = (trigger, args)
        for job in self.scheduler.get_jobs(jobstore=PERSISTENT):
            if job.id.startswith("digest:") and job.id not in wanted:
                job.remove()
        for job_id, (trigger, args) in wanted.items():
            job = self.scheduler.get_job(job_id, jobstore=PERSISTENT)
            if job is None:
                self.scheduler.add_job(
                    release_digest,
                    trigger,
                    args=args,
                    id=job_id,
                    jobstore=PERSISTENT,
                    coalesce=True,
                    misfire_grace_time=None,
                    max_instances=1,
                )
            else:
                if repr(job.trigger) != repr(trigger):
                    job.reschedule(trigger)
                if list(job.args) != args:
                    job.modify(args=args)

    def timezone_for(self, target: str) -> str:
        """A user's timezone from Slack (users.info, once per process); a channel's from
        settings; the channel default when Slack cannot say."""
        store = self.services.store
        default = self.services.settings.schedule.channel_timezone
        if not target.startswith(("U", "W")):
            return default
        stored = valid_zone(store.subscriptions.target_timezone(target))
        slack = self.services.slack
        if target in self._zones_checked or slack is None:
            return digest_zone(target, stored, self.services.settings.schedule)
        self._zones_checked.add(target)
        try:
            zone = valid_zone(slack.users_info(user=target)["user"].get("tz"))
        except (SlackApiError, SlackClientError, OSError) as error:
            log.warning("no timezone for %s from Slack (%s); using %s", target, error, default)
            return stored or default
        if zone and zone != stored:
            store.subscriptions.set_target_timezone(target, zone)
        return zone or stored or default


def build_scheduler(services: Services, clock: Callable[[], datetime] = utc_now):
    """The scheduler (not started) and its Ticker.

    One worker thread: the tick and the digest jobs never run at the same time. The tick
    runs now and then every tick_seconds; coalesce and a grace time of one interval mean a
    tick delayed by a long cycle runs once, late, instead of being skipped or piling up.
    """
    tick_seconds = services.settings.schedule.tick_seconds
    scheduler = BackgroundScheduler(
        jobstores={
            "default": MemoryJobStore(),
            # In the store's own database, SQLite or PostgreSQL, through its engine.
            PERSISTENT: SQLAlchemyJobStore(engine=services.store.database.engine),
        },
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=UTC,
    )
    ticker = Ticker(services, scheduler, clock)
    scheduler.add_job(
        ticker.tick,
        "interval",
        seconds=tick_seconds,
        id=TICK_JOB_ID,
        next_run_time=datetime.now(UTC),
        misfire_grace_time=tick_seconds,
    )
    return scheduler, ticker


def stop_scheduler(scheduler: BackgroundScheduler, wait: bool = True) -> None:
    """Stop starting jobs, wait for the running one (if `wait`), shut down.

    The persisted job store is detached first: APScheduler 3's shutdown wakes its loop
    once more, and a digest due at that moment would be marked done without running.
    """
    scheduler.pause()
    scheduler.remove_jobstore(PERSISTENT)
    scheduler.shutdown(wait=wait)
