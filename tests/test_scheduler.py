"""Scheduling on a controlled clock: feed polling, arXiv re-polls, digests, downtime."""

import dataclasses
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED

from bot.deliver import make_slack_client
from bot.scheduler import (
    PERSISTENT,
    build_scheduler,
    last_arxiv_announcement,
    next_arxiv_announcement,
    next_digest_time,
    next_poll_time,
    stop_scheduler,
)
from bot.services import build_services
from bot.settings import FeedSettings
from bot.subscriptions import subscribe
from tests.conftest import FIXTURES

EASTERN = ZoneInfo("America/New_York")
FEED_FILE = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"


def eastern(*args) -> datetime:
    return datetime(*args, tzinfo=EASTERN)


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_arxiv_announces_sunday_to_thursday_at_eight_eastern():
    friday_night = eastern(2026, 8, 21, 21, 0)
    assert last_arxiv_announcement(friday_night) == eastern(2026, 8, 20, 20, 0)
    assert next_arxiv_announcement(friday_night) == eastern(2026, 8, 23, 20, 0)
    just_before = eastern(2026, 8, 24, 19, 59)
    assert next_arxiv_announcement(just_before) == eastern(2026, 8, 24, 20, 0)
    assert last_arxiv_announcement(eastern(2026, 8, 24, 20, 0)) == eastern(2026, 8, 24, 20, 0)


def test_arxiv_feed_is_repolled_after_the_announcement_until_a_new_batch(settings):
    schedule = settings.schedule
    feed = FeedSettings(url="https://rss.arxiv.org/rss/cs.CL", kind="arxiv_listing")
    after = eastern(2026, 8, 20, 20, 5)
    yesterday = {"last_status": "ok", "new_batch_at": "2026-08-20T01:00:00+00:00"}
    assert next_poll_time(feed, yesterday, after, schedule) == after + timedelta(minutes=10)
    # The batch is in: back to the normal interval, and no later than the next announcement.
    found = {"last_status": "ok", "new_batch_at": after.astimezone(UTC).isoformat()}
    assert next_poll_time(feed, found, after, schedule) == after + timedelta(minutes=60)
    late_evening = eastern(2026, 8, 20, 19, 30)
    assert next_poll_time(feed, found, late_evening, schedule) == eastern(2026, 8, 20, 20, 0)
    # Bounded: once the window has passed, stop re-polling even without a batch.
    window = timedelta(minutes=schedule.arxiv_repoll_window_minutes)
    too_late = eastern(2026, 8, 20, 20, 0) + window + timedelta(minutes=1)
    assert next_poll_time(feed, yesterday, too_late, schedule) == too_late + timedelta(minutes=60)


def test_other_feeds_follow_their_own_interval_and_back_off_on_errors(settings):
    schedule = settings.schedule
    now = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)
    hourly = FeedSettings(url="https://example.org/feed.xml")
    every_15 = FeedSettings(url="https://example.org/fast.xml", poll_minutes=15)
    assert next_poll_time(hourly, {"last_status": "ok"}, now, schedule) == now + timedelta(hours=1)
    assert next_poll_time(every_15, {}, now, schedule) == now + timedelta(minutes=15)
    failing = {"last_status": "http_error", "consecutive_errors": 1}
    assert next_poll_time(hourly, failing, now, schedule) == now + timedelta(minutes=5)
    long_failing = {"last_status": "network_error", "consecutive_errors": 30}
    assert next_poll_time(hourly, long_failing, now, schedule) == now + timedelta(hours=1)


def service_with_slack(settings, embedder, slack, db_name: str, feed_url: str):
    settings = dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, path=str(settings_dir(settings) / db_name)),
        feeds=(FeedSettings(url=feed_url, name="cs.CL"),),
        delivery=dataclasses.replace(settings.delivery, channel_interval_seconds=0.0),
    )
    client = make_slack_client("xoxb-test", slack.base_url)
    services = build_services(settings, slack=client, embedder=embedder)
    subscribe(
        services.store,
        embedder,
        topic="large language models",
        owner="U1",
        target="C1",
        threshold=0.2,
    )
    return services


def settings_dir(settings) -> Path:
    return Path(settings.database.path).parent


def sent_pairs(services) -> set[tuple[str, str]]:
    return {(d.target, d.paper_id) for d in services.store.alerts.all("sent")}


def test_feed_down_for_a_day_and_back_misses_no_paper(settings, embedder, slack, feed_server):
    url = feed_server.url + "cs.CL.xml"
    # The reference: the same feed, read while it was up.
    shutil.copy(FEED_FILE, feed_server.root / "cs.CL.xml")
    reference = service_with_slack(settings, embedder, slack, "reference.db", url)
    clock = Clock(datetime(2026, 8, 21, 12, 0, tzinfo=UTC))
    build_scheduler(reference, clock)[1].run_cycle()
    expected = sent_pairs(reference)
    assert expected, "the subscription should match some of the feed's papers"

    (feed_server.root / "cs.CL.xml").unlink()
    services = service_with_slack(settings, embedder, slack, "down.db", url)
    _, ticker = build_scheduler(services, clock)
    polls = 0
    end = clock.now + timedelta(days=1)
    while clock.now < end:
        record = ticker.run_cycle()
        if record:
            polls += record["feeds"]
            assert record["feeds_ok"] == 0
        clock.now += timedelta(minutes=1)
    # Retried with backoff, never less than hourly, never given up.
    assert 24 <= polls <= 60
    assert services.store.papers.count() == 0

    shutil.copy(FEED_FILE, feed_server.root / "cs.CL.xml")
    for _ in range(61):
        ticker.run_cycle()
        clock.now += timedelta(minutes=1)
    assert {p for _, p in sent_pairs(services)} == {p for _, p in expected}
    assert services.store.cycles.last()["feeds_ok"] == 1


def test_a_cycle_is_recorded_and_logged_as_one_line(settings, embedder, slack, feed_server, caplog):
    shutil.copy(FEED_FILE, feed_server.root / "cs.CL.xml")
    services = service_with_slack(
        settings, embedder, slack, "log.db", feed_server.url + "cs.CL.xml"
    )
    clock = Clock(datetime(2026, 8, 21, 12, 0, tzinfo=UTC))
    _, ticker = build_scheduler(services, clock)
    with caplog.at_level("INFO", logger="bot.scheduler"):
        record = ticker.run_cycle()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cycle ")]
    assert len(lines) == 1
    for key in ('"feeds": 1', '"papers_new": ', '"matches": ', '"sent": ', '"durations": '):
        assert key in lines[0]
    alerts = [m for m in slack.messages_in("C1") if m.get("metadata")]
    assert record["sent"] == len(alerts) > 0
    # The matches over the per-cycle cap are offered once, after the alerts.
    [offer] = [m for m in slack.messages_in("C1") if not m.get("metadata")]
    assert "more papers matched your subscriptions today" in offer["text"]
    assert services.store.cycles.last()["sent"] == record["sent"]
    # Nothing due a minute later: no cycle, no line, no second post.
    clock.now += timedelta(minutes=1)
    assert ticker.run_cycle() is None


def add_digest_subscriptions(services, embedder):
    subscribe(services.store, embedder, topic="graph neural networks", owner="U1", cadence="daily")
    subscribe(
        services.store,
        embedder,
        topic="speech recognition",
        owner="U2",
        target="C9",
        cadence="weekly",
    )


@pytest.mark.both_backends  # the digest jobs persist in the database
def test_digest_jobs_run_at_the_local_hour_of_each_target(settings, embedder, slack):
    slack.users["U1"] = {"tz": "Asia/Tokyo"}
    services = build_services(
        settings, slack=make_slack_client("xoxb-test", slack.base_url), embedder=embedder
    )
    add_digest_subscriptions(services, embedder)
    scheduler, ticker = build_scheduler(services)
    scheduler.start(paused=True)
    try:
        ticker.sync_digest_jobs()
        jobs = {job.id: job for job in scheduler.get_jobs(jobstore=PERSISTENT)}
        assert set(jobs) == {"digest:daily:U1", "digest:weekly:C9"}
        daily = jobs["digest:daily:U1"].next_run_time.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (daily.hour, daily.minute) == (settings.schedule.digest_hour, 0)
        weekly = jobs["digest:weekly:C9"].next_run_time.astimezone(ZoneInfo("UTC"))
        assert weekly.strftime("%a").lower() == settings.schedule.weekly_digest_day
        assert services.store.subscriptions.target_timezone("U1") == "Asia/Tokyo"
        assert all(j.coalesce and j.misfire_grace_time is None for j in jobs.values())
    finally:
        stop_scheduler(scheduler, wait=False)


@pytest.mark.both_backends  # the digest jobs persist in the database
def test_missed_digest_runs_once_after_downtime(settings, embedder, slack):
    services = build_services(
        settings, slack=make_slack_client("xoxb-test", slack.base_url), embedder=embedder
    )
    add_digest_subscriptions(services, embedder)
    sub = services.store.subscriptions.all()[0]
    for number in (1, 2):
        services.store.alerts.enqueue(
            target="U1",
            paper_id=f"2608.0000{number}",
            subscription_id=sub.id,
            score=0.5,
            matches=[],
            status="digest",
        )
    # Before the downtime: the daily job was due three days ago and never ran.
    scheduler, ticker = build_scheduler(services)
    scheduler.start(paused=True)
    ticker.sync_digest_jobs()
    job = scheduler.get_job("digest:daily:U1", jobstore=PERSISTENT)
    job.modify(next_run_time=datetime.now(UTC) - timedelta(days=3, hours=1))
    stop_scheduler(scheduler, wait=False)

    # Back up: a new process finds the persisted job and runs it once, not three times.
    restarted, _ = build_scheduler(services)
    restarted.remove_job("tick")
    runs = []
    ran = threading.Event()

    def on_executed(event):
        runs.append(event.job_id)
        ran.set()

    restarted.add_listener(on_executed, EVENT_JOB_EXECUTED)
    restarted.start()
    assert ran.wait(timeout=60)
    stop_scheduler(restarted)
    assert runs == ["digest:daily:U1"]
    [digest] = services.store.digests.all()
    assert (digest.target, digest.cadence, digest.status) == ("U1", "daily", "pending")
    assert [d.paper_id for d in services.store.digests.rows(digest.id)] == [
        "2608.00001",
        "2608.00002",
    ]
    # Held for the digest, never queued as alerts of their own.
    assert services.store.alerts.all("pending") == []
    after, _ = build_scheduler(services)
    after.start(paused=True)
    assert after.get_job("digest:daily:U1", jobstore=PERSISTENT).next_run_time > datetime.now(UTC)
    stop_scheduler(after, wait=False)


def test_next_digest_time_is_the_next_digest_hour_in_the_targets_zone(settings):
    schedule = dataclasses.replace(settings.schedule, digest_hour=8, weekly_digest_day="mon")
    tokyo = ZoneInfo("Asia/Tokyo")
    # Friday 2026-08-21 07:59 in Tokyo: today at 08:00; at 08:00 sharp, tomorrow.
    before = datetime(2026, 8, 21, 7, 59, tzinfo=tokyo)
    assert next_digest_time("daily", "Asia/Tokyo", schedule, before) == datetime(
        2026, 8, 21, 8, 0, tzinfo=tokyo
    )
    at = datetime(2026, 8, 21, 8, 0, tzinfo=tokyo)
    assert next_digest_time("daily", "Asia/Tokyo", schedule, at) == datetime(
        2026, 8, 22, 8, 0, tzinfo=tokyo
    )
    # Weekly: the next Monday; the moment is the same whatever zone `now` is given in.
    weekly = next_digest_time("weekly", "Asia/Tokyo", schedule, at.astimezone(UTC))
    assert weekly == datetime(2026, 8, 24, 8, 0, tzinfo=tokyo)
    # Across a DST change the local hour holds: New York, 2026-11-01.
    new_york = next_digest_time(
        "daily", "America/New_York", schedule, datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    )
    assert new_york == eastern(2026, 11, 1, 8, 0)
    assert new_york.utcoffset() == timedelta(hours=-5)
    # An unknown zone falls back to UTC rather than failing.
    assert next_digest_time("daily", "Mars/Olympus", schedule, at).hour == 8
