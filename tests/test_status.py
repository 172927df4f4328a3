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
from tests.fake_slack import FakeSlack


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


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
