"""`paperbot status`: the last cycle, pending and failed alerts, paused subscriptions."""

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.deliver import make_slack_client
from bot.papers import Paper
from bot.scheduler import build_scheduler
from bot.services import build_services
from bot.status_report import status_lines


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
    store.upsert_papers(
        [Paper(id="2608.00001", title="Sparse attention", abstract="We x.", url="https://a/")]
    )
    for target in ("C2", "C1", "C3"):
        sub = store.add_subscription(owner="U1", target=target, topic="attention", embedding=[1.0])
        store.enqueue_delivery(
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
    result = CliRunner().invoke(cli, ["--db", settings.database.path, "status"])
    assert result.exit_code == 0
    assert "Last cycle: none yet." in result.output
    assert "Paused subscriptions: none" in result.output


def test_slash_status_shows_the_callers_next_digests(services):
    store = services.store
    store.add_subscription(owner="U1", target="U1", topic="a", embedding=[1.0], cadence="daily")
    store.add_subscription(owner="U1", target="C9", topic="b", embedding=[1.0], cadence="weekly")
    store.add_subscription(owner="U2", target="U2", topic="c", embedding=[1.0], cadence="daily")
    store.set_target_timezone("U1", "Asia/Tokyo")
    schedule = dataclasses.replace(services.settings.schedule, digest_hour=8)
    # Friday 2026-08-21 12:00 UTC is 21:00 in Tokyo: the next daily digest is tomorrow.
    now = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)

    lines = status_lines(store, 60, "U1", schedule, now)

    digests = [line for line in lines if line.startswith("*Next")]
    assert digests == [
        "*Next weekly digest* in <#C9>: Mon 2026-08-24 08:00 (UTC)",
        "*Next daily digest* in your DM: Sat 2026-08-22 08:00 (Asia/Tokyo)",
    ]
