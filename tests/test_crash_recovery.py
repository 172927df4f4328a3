"""The real process killed mid-delivery, or stopped with SIGTERM, and started again.

Every alert must end up in Slack exactly once (counted per channel and paper from what
the fake Slack received), or be marked failed with its reason.
"""

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.deliver import ALERT_EVENT_TYPE
from bot.papers import Paper

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends

REPO = Path(__file__).resolve().parent.parent
CHANNELS = ("C1", "C2")
PAPERS = 10


@pytest.fixture
def queued(services, tmp_path):
    """Ten embedded, matched papers queued for two channels: twenty pending alerts."""
    store = services.store
    store.papers.upsert(
        [
            Paper(
                id=f"2608.{n:05d}",
                title=f"Paper {n} on sparse attention",
                abstract=f"We study attention pattern number {n} for long documents.",
                url=f"https://arxiv.org/abs/2608.{n:05d}",
            )
            for n in range(1, PAPERS + 1)
        ]
    )
    services.pipeline.embed_missing()
    store.papers.mark_matched(store.papers.unmatched_ids())
    embedding = services.embedder.encode_one("sparse attention")
    for channel in CHANNELS:
        sub = store.subscriptions.add(
            owner="U1", target=channel, topic="sparse attention", embedding=embedding
        )
        for n in range(1, PAPERS + 1):
            store.alerts.enqueue(
                target=channel,
                paper_id=f"2608.{n:05d}",
                subscription_id=sub.id,
                score=0.5,
                matches=[{"subscription_id": sub.id, "topic": sub.topic, "score": 0.5}],
            )
    config = tmp_path / "paperbot.toml"
    config.write_text(
        "[delivery]\npost_timeout_seconds = 10\nlease_seconds = 1\n"
        "channel_interval_seconds = 0.0\n\n[schedule]\ntick_seconds = 3600\n"
    )
    return services, config


def paperbot(services, config, slack, *args) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERBOT_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="test-secret",
        SLACK_API_BASE_URL=slack.base_url,
        PAPERBOT_DB=services.store.path,
        PAPERBOT_CONFIG=str(config),
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "-v", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_posts(slack, count: int, process: subprocess.Popen) -> None:
    """Until the fake Slack has received `count` posts (the model loads first)."""
    deadline = time.monotonic() + 180
    while len(slack.calls_to("chat.postMessage")) < count:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the process never posted"
        time.sleep(0.05)


def alerts_per_pair(slack) -> collections.Counter:
    counts = collections.Counter()
    for channel in CHANNELS:
        for message in slack.messages_in(channel):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == ALERT_EVENT_TYPE:
                counts[(channel, metadata["event_payload"]["paper_id"])] += 1
    return counts


def every_alert_once(services, slack) -> None:
    counts = alerts_per_pair(slack)
    rows = services.store.alerts.all()
    failed = {(d.target, d.paper_id) for d in rows if d.status == "failed"}
    assert all(d.last_error for d in rows if d.status == "failed")
    for channel in CHANNELS:
        for n in range(1, PAPERS + 1):
            pair = (channel, f"2608.{n:05d}")
            assert counts[pair] == 1 or (counts[pair] == 0 and pair in failed), pair
    assert {d.status for d in rows} <= {"sent", "failed"}


def test_killed_mid_batch_and_restarted_posts_each_alert_once(queued, slack):
    services, config = queued
    # Slack takes each post at once but answers late, so the kill lands between a post
    # reaching Slack and the database hearing about it.
    slack.fail_next("chat.postMessage", delay=0.3, times=1000)
    first = paperbot(services, config, slack, "cycle")
    wait_for_posts(slack, 5, first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    rows = services.store.alerts.all()
    assert sum(d.status == "sending" for d in rows) >= 1
    # Killed between Slack taking a post and the database recording it.
    assert len(slack.calls_to("chat.postMessage")) > sum(d.status == "sent" for d in rows)

    # The dead process's claim (lease_seconds = 1) runs out. Timestamps are stored in
    # whole seconds, so a lease of 1 s can take up to 2 s to pass.
    time.sleep(2.5)
    second = paperbot(services, config, slack, "cycle")
    assert second.wait(timeout=180) == 0, second.stderr.read().decode()
    every_alert_once(services, slack)
    assert len(services.store.alerts.all("sent")) == len(CHANNELS) * PAPERS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sigterm_finishes_the_post_in_flight_and_exits_zero(queued, slack):
    services, config = queued
    slack.fail_next("chat.postMessage", delay=0.3, times=1000)
    config.write_text(
        config.read_text() + f'\n[server]\nhost = "127.0.0.1"\nport = {free_port()}\n'
    )
    service = paperbot(services, config, slack, "run")
    wait_for_posts(slack, 3, service)
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=60) == 0, service.stderr.read().decode()
    statuses = collections.Counter(d.status for d in services.store.alerts.all())
    assert statuses["sending"] == 0, statuses
    assert statuses["pending"] > 0 and statuses["sent"] >= 3, statuses
    assert sum(alerts_per_pair(slack).values()) == statuses["sent"]

    rest = paperbot(services, config, slack, "cycle")
    assert rest.wait(timeout=180) == 0, rest.stderr.read().decode()
    every_alert_once(services, slack)


def test_restarted_after_a_kill_takes_over_at_once_not_after_the_lease(queued, slack):
    """The lease is 5 minutes; the instance lock tells the new process the old one is gone."""
    services, config = queued
    config.write_text(config.read_text().replace("lease_seconds = 1", "lease_seconds = 300"))
    slack.fail_next("chat.postMessage", delay=0.3, times=1000)
    first = paperbot(services, config, slack, "cycle")
    wait_for_posts(slack, 5, first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert any(d.status == "sending" for d in services.store.alerts.all())

    second = paperbot(services, config, slack, "cycle")
    assert second.wait(timeout=180) == 0, second.stderr.read().decode()

    every_alert_once(services, slack)
    assert len(services.store.alerts.all("sent")) == len(CHANNELS) * PAPERS
