"""`paperbot status`: the last cycle, pending and failed alerts, paused subscriptions."""

import dataclasses
import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.deliver import make_slack_client
from bot.papers import Paper
from bot.scheduler import build_scheduler
from bot.services import build_services
from bot.settings import FeedSettings
from bot.status import status_report, status_text
from bot.status_report import status_lines
from bot.storage import Store

SMALL_FEED = (
    Path(__file__).parent
    / "fixtures"
    / "feeds"
    / "arxiv_api_atom"
    / "arxiv_api_2026_idlist_oldstyle_id_affiliations.xml"
)


@pytest.fixture
def after_a_bad_cycle(settings, embedder, slack):
    """C1 is gone, Slack failed once on C2, C3 got its alert; one cycle recorded."""
    settings = dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, channel_interval_seconds=0.0)
    )
    services = build_services(
        settings, slack=make_slack_client("xoxb-test", slack.base_url), embedder=embedder
    )
    store = services.store
    store.papers.upsert(
        [Paper(id="2608.00001", title="Sparse attention", abstract="We x.", url="https://a/")]
    )
    for target in ("C2", "C1", "C3"):
        sub = store.subscriptions.add(owner="U1", target=target, topic="attention", embedding=[1.0])
        store.alerts.enqueue(
            target=target, paper_id="2608.00001", subscription_id=sub.id, score=0.5, matches=[]
        )
    slack.fail_next("chat.postMessage", status=500)
    slack.fail_next("chat.postMessage", error="channel_not_found")
    _, ticker = build_scheduler(services, lambda: datetime.now(UTC))
    ticker.run_cycle()
    # The retry of C2 stopped the batch; the next cycle fails C1 and sends C3.
    ticker.run_cycle()
    return settings


def test_status_json_shows_cycle_outbox_and_paused_subscriptions(after_a_bad_cycle, slack):
    result = CliRunner().invoke(cli, ["--db", after_a_bad_cycle.database.path, "status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["last_cycle"]["sent"], report["last_cycle"]["failed"]) == (1, 1)
    assert report["deliveries"]["sent"] == 1
    assert report["deliveries"]["failed"] == 1
    assert report["deliveries"]["pending"] == 1
    [failed] = report["failed"]
    assert (failed["target"], failed["last_error"]) == ("C1", "channel_not_found")
    [pending] = report["pending"]
    assert pending["target"] == "C2" and "internal_error" in pending["last_error"]
    assert pending["next_attempt_at"]
    [paused] = report["paused_subscriptions"]
    assert paused["target"] == "C1" and "channel_not_found" in paused["reason"]


def test_status_text_names_the_reasons(after_a_bad_cycle):
    result = CliRunner().invoke(cli, ["--db", after_a_bad_cycle.database.path, "status"])
    assert result.exit_code == 0, result.output
    assert "Last cycle:" in result.output
    assert "Failed:" in result.output and "channel_not_found" in result.output
    assert "Paused subscriptions:" in result.output and "'attention' to C1" in result.output


def test_status_of_a_new_database(settings):
    Store(settings.database.path).close()
    result = CliRunner().invoke(cli, ["--db", settings.database.path, "status"])
    assert result.exit_code == 0
    assert "Last cycle: none yet." in result.output
    assert "Paused subscriptions: none" in result.output


def test_slash_status_shows_the_callers_next_digests(services):
    store = services.store
    store.subscriptions.add(owner="U1", target="U1", topic="a", embedding=[1.0], cadence="daily")
    store.subscriptions.add(owner="U1", target="C9", topic="b", embedding=[1.0], cadence="weekly")
    store.subscriptions.add(owner="U2", target="U2", topic="c", embedding=[1.0], cadence="daily")
    store.subscriptions.set_target_timezone("U1", "Asia/Tokyo")
    schedule = dataclasses.replace(services.settings.schedule, digest_hour=8)
    # Friday 2026-08-21 12:00 UTC is 21:00 in Tokyo: the next daily digest is tomorrow.
    now = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)

    lines = status_lines(store, 60, "U1", schedule, now)

    assert "*Your subscriptions:* active: 1 daily, 1 weekly" in lines
    digests = [line for line in lines if line.startswith("*Next")]
    assert digests == [
        "*Next weekly digest* in <#C9>: Mon 2026-08-24 08:00 (UTC)",
        "*Next daily digest* in your DM: Sat 2026-08-22 08:00 (Asia/Tokyo)",
    ]


def test_slash_status_counts_the_callers_paused_subscriptions_apart(services):
    store = services.store
    mine = store.subscriptions.add(owner="U1", target="U1", topic="a", embedding=[1.0])
    store.subscriptions.add(owner="U1", target="U1", topic="b", embedding=[1.0])
    store.subscriptions.update(mine.id, paused=True)
    now = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)
    lines = status_lines(store, 60, "U1", services.settings.schedule, now)
    assert "*Your subscriptions:* active: 1 instant; paused: 1" in lines
    store.subscriptions.update(mine.id + 1, paused=True)
    lines = status_lines(store, 60, "U1", services.settings.schedule, now)
    assert "*Your subscriptions:* active: none; paused: 2" in lines


class SteppedTimer:
    """A monotonic clock that moves only when a stage says it took time."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def taking(self, seconds: float, method):
        """`method`, which now takes `seconds` on this clock, and does its real work."""

        def run(*args, **kwargs):
            self.now += seconds
            return method(*args, **kwargs)

        return run


def test_cycle_records_and_shows_seconds_per_stage(settings, embedder, slack, caplog):
    settings = dataclasses.replace(settings, feeds=[FeedSettings(url=str(SMALL_FEED))])
    services = build_services(
        settings, slack=make_slack_client("xoxb-test", slack.base_url), embedder=embedder
    )
    pipeline = services.pipeline
    timer = pipeline.timer = SteppedTimer()
    pipeline.ingest_feed = timer.taking(1.0, pipeline.ingest_feed)
    pipeline.embed_missing = timer.taking(2.0, pipeline.embed_missing)
    pipeline.matcher.match = timer.taking(3.0, pipeline.matcher.match)
    pipeline.deliverer.deliver_pending = timer.taking(4.0, pipeline.deliverer.deliver_pending)
    _, ticker = build_scheduler(services, lambda: datetime.now(UTC))

    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        ticker.run_cycle()

    stages = {"fetch_seconds": 1.0, "embed_seconds": 2.0, "match_seconds": 3.0}
    stages["deliver_seconds"] = 4.0
    row = services.store.cycles.last()
    assert row["papers_new"] > 0
    assert {name: row[name] for name in stages} == stages
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cycle {")]
    logged = json.loads(line.removeprefix("cycle "))
    assert {name: logged[name] for name in stages} == stages

    as_json = CliRunner().invoke(cli, ["--db", settings.database.path, "status", "--json"])
    last_cycle = json.loads(as_json.output)["last_cycle"]
    assert {name: last_cycle[name] for name in stages} == stages
    as_text = CliRunner().invoke(cli, ["--db", settings.database.path, "status"]).output
    assert "(fetch 1.0s, embed 2.0s, match 3.0s, deliver 4.0s)" in as_text


def test_cycles_of_an_older_database_gain_the_stage_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        # The cycles table as paperbot made it before stage durations were recorded.
        db.execute(
            "create table cycles (id integer primary key, started text, finished text, "
            "feeds integer, feeds_ok integer, papers_new integer, matches integer, "
            "queued integer, sent integer, failed integer, retrying integer, seconds float, "
            "durations text, errors text)"
        )
        db.execute(
            "insert into cycles (started, feeds, feeds_ok, papers_new, matches, queued, sent, "
            "failed, retrying, seconds, durations, errors) values "
            "('2026-08-21T04:00:00+00:00', 2, 2, 5, 1, 1, 1, 0, 0, 7.5, '{}', '[]')"
        )
    store = Store(path)
    store.cycles.record({"started": "2026-08-21T05:00:00+00:00", "fetch_seconds": 1.5})

    columns = [row[1] for row in store.database.tuples("pragma table_info(cycles)")]
    assert {"fetch_seconds", "embed_seconds", "match_seconds", "deliver_seconds"} <= set(columns)
    first = store.database.row("select * from cycles where id = 1")
    assert (first["papers_new"], first["fetch_seconds"]) == (5, None)
    assert store.cycles.last()["fetch_seconds"] == 1.5
    # A row from before the columns shows no stage line rather than failing.
    store.database.write("delete from cycles where id = 2")
    cycle_line = status_text(status_report(store)).splitlines()[0]
    assert cycle_line.endswith("5 papers new, 1 matches, 1 sent, 0 failed, 0 to retry, in 7.5s")


def test_slash_status_shows_feed_names_and_short_states_only(services):
    store = services.store
    secret = "/srv/paperbot/private/feeds/journal.xml"
    store.feeds.save(
        secret,
        name=secret,
        last_status="network_error",
        last_error=f"cannot read {secret}: Permission denied",
        consecutive_errors=2,
    )
    store.feeds.save(
        "https://internal.example/rss?token=s3cret",
        name="Journal",
        last_status="http_error",
        last_error="HTTP 500 stack trace at db.internal:5432",
        consecutive_errors=1,
    )

    text = "\n".join(status_lines(store, 60, "U1"))

    assert "• ⚠️ a local feed file: network_error, 2 failures in a row" in text
    assert "• ⚠️ Journal: http_error, 1 failures in a row" in text
    for detail in ("/srv/paperbot", "Permission denied", "s3cret", "db.internal"):
        assert detail not in text
