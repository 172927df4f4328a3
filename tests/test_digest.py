"""Digests posted as one message and a thread, and the "N more matched today" offer,
through the real outbox worker against a fake Slack, on a controlled clock."""

import json
import re

import pytest

from bot.deliver import DIGEST_EVENT_TYPE
from bot.match import OVER_CAP_REASON
from bot.scheduler import release_digest
from tests.test_deliver import FailingSummarizer, FakeClock, add_paper, deliverer

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends


@pytest.fixture
def clock():
    return FakeClock()


def hold_for_digest(store, target: str, papers: int, cadence: str = "daily") -> list[str]:
    """`papers` stored papers held for `target`'s digest by one subscription of U1."""
    subscription = store.subscriptions.add(
        owner="U1", target=target, topic="graph neural networks", embedding=[1.0], cadence=cadence
    )
    ids = [add_paper(store, number) for number in range(1, papers + 1)]
    for paper_id in ids:
        store.alerts.enqueue(
            target=target,
            paper_id=paper_id,
            subscription_id=subscription.id,
            score=0.6,
            matches=[
                {"subscription_id": subscription.id, "topic": subscription.topic, "score": 0.6}
            ],
            status="digest",
        )
    return ids


def digest_parts(slack, channel: str) -> list[dict]:
    """The digest messages in a channel, in the order posted."""
    return [
        m
        for m in slack.messages_in(channel)
        if (m.get("metadata") or {}).get("event_type") == DIGEST_EVENT_TYPE
    ]


def papers_in(messages: list[dict]) -> list[str]:
    """The ids of the papers listed in the messages (add_paper titles them "Paper N")."""
    text = json.dumps([m["blocks"] for m in messages])
    return sorted(f"2608.{int(n):05d}" for n in re.findall(r"\|Paper (\d+)>", text))


def test_digest_is_one_message_with_the_rest_in_its_thread(services, slack, clock):
    store = services.store
    ids = hold_for_digest(store, "U1", 60)
    assert release_digest(store.path, "U1", "daily", "Asia/Tokyo") == 60

    report = deliverer(services, slack, clock).deliver_pending()

    assert report.sent == 1
    parts = digest_parts(slack, "DU1")
    assert len(parts) > 1
    first = parts[0]
    assert "thread_ts" not in first
    assert first["blocks"][0]["type"] == "header"
    assert all(part["thread_ts"] == first["ts"] for part in parts[1:])
    assert [p["metadata"]["event_payload"]["part"] for p in parts] == list(range(len(parts)))
    assert papers_in(parts) == ids
    # No paper came as an alert of its own; every row is sent with the digest's ts.
    assert len(slack.messages_in("DU1")) == len(parts)
    rows = store.alerts.all()
    assert {(row.status, row.slack_ts) for row in rows} == {("sent", first["ts"])}
    # Nothing left for a second digest or a second run.
    assert release_digest(store.path, "U1", "daily") == 0
    assert deliverer(services, slack, clock).deliver_pending().sent == 0
    assert len(slack.messages_in("DU1")) == len(parts)


def test_digest_tells_a_failing_feed_from_a_quiet_day(services, slack, clock):
    store = services.store
    store.feeds.save(
        "https://rss.arxiv.org/rss/cs.CL",
        name="arXiv cs.CL",
        last_status="http_error",
        last_error="HTTP 503",
        first_error_at="2026-08-20T04:00:00+00:00",
        last_ok="2026-08-19T04:00:00+00:00",
    )
    store.subscriptions.add(
        owner="U1", target="C7", topic="speech", embedding=[1.0], cadence="weekly"
    )
    # Nothing matched, but a feed is down: the digest says so rather than stay silent.
    release_digest(store.path, "C7", "weekly")
    deliverer(services, slack, clock).deliver_pending()

    [digest] = digest_parts(slack, "C7")
    text = json.dumps(digest["blocks"])
    assert "arXiv cs.CL is failing since 2026-08-20 04:00 UTC (HTTP 503)" in text
    assert "No new papers matched" in text


def test_quiet_day_with_healthy_feeds_posts_nothing(services, slack, clock):
    services.store.subscriptions.add(
        owner="U1", target="U1", topic="speech", embedding=[1.0], cadence="daily"
    )
    assert release_digest(services.store.path, "U1", "daily") == 0
    deliverer(services, slack, clock).deliver_pending()
    assert slack.calls_to("chat.postMessage") == []


def test_digest_refused_with_a_server_error_is_retried_whole(services, slack, clock):
    store = services.store
    ids = hold_for_digest(store, "C1", 60)
    release_digest(store.path, "C1", "daily")
    worker = deliverer(services, slack, clock)
    slack.fail_next("chat.postMessage", status=500)
    assert worker.deliver_pending().retrying == 1
    assert digest_parts(slack, "C1") == []
    assert {row.status for row in store.alerts.all()} == {"digest"}
    # Within the backoff nothing is tried; after it, the whole digest goes out once.
    assert worker.deliver_pending().sent == 0
    clock.advance(minutes=5)
    assert worker.deliver_pending().sent == 1
    assert papers_in(digest_parts(slack, "C1")) == ids
    assert {row.status for row in store.alerts.all()} == {"sent"}


def test_digest_reply_failing_is_resumed_not_reposted(services, slack, clock):
    store = services.store
    ids = hold_for_digest(store, "C1", 60)
    release_digest(store.path, "C1", "daily")
    worker = deliverer(services, slack, clock)
    original = worker.poster.chat_postMessage
    calls = []

    def second_post_fails(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            slack.fail_next("chat.postMessage", status=502)
        return original(**kwargs)

    worker.poster.chat_postMessage = second_post_fails
    assert worker.deliver_pending().retrying == 1
    [first] = digest_parts(slack, "C1")
    [run] = store.digests.all()
    assert (run.parts_posted, run.slack_ts, run.status) == (1, first["ts"], "pending")
    assert {row.status for row in store.alerts.all()} == {"digest"}

    clock.advance(minutes=5)
    assert worker.deliver_pending().sent == 1
    parts = digest_parts(slack, "C1")
    assert parts[0] == first
    assert all(part["thread_ts"] == first["ts"] for part in parts[1:])
    assert [p["metadata"]["event_payload"]["part"] for p in parts] == list(range(len(parts)))
    assert papers_in(parts) == ids


def test_unanswered_digest_post_is_found_in_history_not_posted_twice(services, slack, clock):
    store = services.store
    hold_for_digest(store, "C1", 3)
    release_digest(store.path, "C1", "daily")
    # Slack takes the digest but answers after the client stopped waiting.
    slack.fail_next("chat.postMessage", delay=3)
    worker = deliverer(services, slack, clock, post_timeout_seconds=1)
    assert worker.deliver_pending().retrying == 1
    [run] = store.digests.all()
    assert run.uncertain
    clock.advance(hours=1)
    assert worker.deliver_pending().sent == 1
    [digest] = digest_parts(slack, "C1")
    assert {(row.status, row.slack_ts) for row in store.alerts.all()} == {("sent", digest["ts"])}


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_digest_to_a_channel_that_refuses_fails_visibly_and_pauses(services, slack, clock, error):
    store = services.store
    hold_for_digest(store, "C1", 3)
    release_digest(store.path, "C1", "daily")
    slack.fail_next("chat.postMessage", error=error)
    assert deliverer(services, slack, clock).deliver_pending().failed == 1
    rows = store.alerts.all()
    assert {(row.status, row.last_error) for row in rows} == {("failed", error)}
    assert all(s.paused for s in store.subscriptions.all())
    # The owner is told once, by DM.
    [dm] = slack.messages_in("DU1")
    assert error in dm["text"]


def over_cap(store, target: str, papers: int) -> None:
    subscription = store.subscriptions.add(
        owner="U1", target=target, topic="speech", embedding=[1.0]
    )
    for number in range(1, papers + 1):
        store.alerts.enqueue(
            target=target,
            paper_id=add_paper(store, number),
            subscription_id=subscription.id,
            score=0.5,
            matches=[{"subscription_id": subscription.id, "topic": "speech", "score": 0.5}],
            dropped_reason=OVER_CAP_REASON,
        )


def test_more_matched_today_is_offered_once_a_day(services, slack, clock):
    over_cap(services.store, "U1", 4)
    worker = deliverer(services, slack, clock)
    worker.deliver_pending()
    worker.deliver_pending()
    [offer] = slack.messages_in("DU1")
    assert offer["text"].startswith("4 more papers matched")
    assert offer["blocks"][0]["accessory"]["action_id"] == "show_more_matches"
    # Yesterday's overflow is not offered again the next day.
    clock.advance(days=1)
    worker.deliver_pending()
    assert len(slack.messages_in("DU1")) == 1


def test_the_offer_counts_what_a_later_cycle_of_the_day_held_back(services, slack, clock):
    store = services.store
    over_cap(store, "U1", 4)
    worker = deliverer(services, slack, clock)
    worker.deliver_pending()
    [subscription] = store.subscriptions.all()
    for number in (5, 6):
        store.alerts.enqueue(
            target="U1",
            paper_id=add_paper(store, number),
            subscription_id=subscription.id,
            score=0.5,
            matches=[{"subscription_id": subscription.id, "topic": "speech", "score": 0.5}],
            dropped_reason=OVER_CAP_REASON,
        )

    worker.deliver_pending()
    worker.deliver_pending()

    [offer] = slack.messages_in("DU1")
    assert offer["text"].startswith("6 more papers matched")
    assert len(slack.calls_to("chat.update")) == 1


def test_offer_that_could_not_be_posted_is_made_next_cycle(services, slack, clock):
    over_cap(services.store, "C1", 2)
    slack.fail_next("chat.postMessage", status=500)
    worker = deliverer(services, slack, clock)
    worker.deliver_pending()
    assert slack.messages_in("C1") == []
    worker.deliver_pending()
    [offer] = slack.messages_in("C1")
    assert offer["text"].startswith("2 more papers matched")


def test_a_digest_that_cannot_be_made_fails_alone_and_the_next_one_goes_out(services, slack, clock):
    store = services.store
    hold_for_digest(store, "C1", 1)  # "Paper 1", which FailingSummarizer cannot summarise
    store.subscriptions.add(owner="U1", target="C7", topic="speech", embedding=[1.0])
    store.feeds.save("https://f.example/rss", name="F", last_status="http_error")
    release_digest(store.path, "C1", "daily")
    release_digest(store.path, "C7", "daily")
    worker = deliverer(services, slack, clock)
    worker.summarizer = FailingSummarizer()

    report = worker.deliver_pending()

    assert (report.sent, report.failed) == (1, 1)
    assert digest_parts(slack, "C1") == [] and len(digest_parts(slack, "C7")) == 1
    [row] = store.alerts.all()
    assert row.status == "failed" and "cannot summarise this one" in row.last_error
