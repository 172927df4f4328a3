"""The outbox worker against a fake Slack that fails on purpose, on a controlled clock."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.deliver import ALERT_EVENT_TYPE, ChannelPacer, Deliverer, iso, make_slack_client
from bot.instance import instance_lock, take_over
from bot.papers import Paper
from bot.sources import parse_feed
from bot.summarize import ExtractiveSummarizer

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends


class FakeClock:
    """A clock that moves only when told to, or when something sleeps on it."""

    def __init__(self):
        # Real time to start with: the fake Slack stamps messages with the real clock.
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += timedelta(seconds=seconds)

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock():
    return FakeClock()


def add_paper(store, number: int) -> str:
    paper_id = f"2608.{number:05d}"
    store.papers.upsert(
        [Paper(id=paper_id, title=f"Paper {number}", abstract="We propose X.", url="https://a/")]
    )
    return paper_id


def queue(store, target: str, paper_id: str, owner: str = "U1") -> None:
    """One pending row for `target`, with a subscription of `owner` behind it."""
    subs = [s for s in store.subscriptions.all() if s.target == target]
    sub = (
        subs[0]
        if subs
        else store.subscriptions.add(
            owner=owner, target=target, topic=f"topic for {target}", embedding=[1.0]
        )
    )
    store.alerts.enqueue(
        target=target,
        paper_id=paper_id,
        subscription_id=sub.id,
        score=0.6,
        matches=[{"subscription_id": sub.id, "topic": sub.topic, "score": 0.6}],
    )


@pytest.fixture
def outbox(services):
    """One paper queued for C1 and for C2."""
    store = services.store
    paper_id = add_paper(store, 1)
    for target in ("C1", "C2"):
        queue(store, target, paper_id)
    return store


def deliverer(services, slack, clock, **changes):
    settings = dataclasses.replace(services.settings.delivery, **changes)
    client = make_slack_client("xoxb-test", slack.base_url)
    return Deliverer(
        services.store,
        client,
        ExtractiveSummarizer(),
        settings,
        clock=clock,
        sleep=clock.sleep,
    )


def alerts_in(slack, channel: str) -> list[str]:
    """Paper ids of the alerts in a channel, one per message."""
    return [
        m["metadata"]["event_payload"]["paper_id"]
        for m in slack.messages_in(channel)
        if (m.get("metadata") or {}).get("event_type") == ALERT_EVENT_TYPE
    ]


def test_alert_carries_the_paper_id_as_metadata(services, outbox, slack, clock):
    report = deliverer(services, slack, clock).deliver_pending()
    assert report.sent == 2
    assert alerts_in(slack, "C1") == alerts_in(slack, "C2") == ["2608.00001"]
    sent = outbox.alerts.all("sent")
    assert {d.slack_ts for d in sent} == {
        m["ts"] for c in ("C1", "C2") for m in slack.messages_in(c)
    }


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "missing_scope"]
)
def test_permanent_error_pauses_the_target_and_tells_the_owner_once(
    services, outbox, slack, clock, error
):
    queue(outbox, "C1", add_paper(outbox, 2))
    slack.fail_next("chat.postMessage", error=error)
    report = deliverer(services, slack, clock).deliver_pending()

    assert alerts_in(slack, "C1") == [] and alerts_in(slack, "C2") == ["2608.00001"]
    failed = outbox.alerts.all("failed")
    assert [(d.target, d.last_error) for d in failed] == [("C1", error)]
    # The second alert for C1 was not thrown at a broken channel: it waits, pending.
    assert [d.paper_id for d in outbox.alerts.all("pending")] == ["2608.00002"]
    assert report.failed == 1 and report.released == 1
    paused = [s for s in outbox.subscriptions.all() if s.paused]
    assert [(s.target, s.paused_reason) for s in paused] == [("C1", f"Slack answered {error}")]
    dms = slack.messages_in("DU1")
    assert len(dms) == 1 and error in dms[0]["text"] and "<#C1>" in dms[0]["text"]

    # A later cycle neither posts to the paused channel nor tells the owner again.
    deliverer(services, slack, clock).deliver_pending()
    assert len(slack.messages_in("DU1")) == 1
    assert len(slack.calls_to("chat.postMessage", include_failed=True)) == 3


def test_no_dm_about_a_dm_that_is_what_fails(services, slack, clock):
    store = services.store
    queue(store, "U7", add_paper(store, 1), owner="U7")
    slack.fail_next("chat.postMessage", error="channel_not_found")
    deliverer(services, slack, clock).deliver_pending()
    assert store.subscriptions.all()[0].paused
    assert len(slack.calls_to("chat.postMessage", include_failed=True)) == 1


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_token_error_pauses_everything_and_stops(services, outbox, slack, clock, error):
    slack.fail_next("chat.postMessage", error=error)
    report = deliverer(services, slack, clock).deliver_pending()
    assert report.failed == 1 and report.released == 1
    assert all(s.paused and error in s.paused_reason for s in outbox.subscriptions.all())
    # No DM: it would fail with the same token.
    assert len(slack.calls_to("chat.postMessage", include_failed=True)) == 1


def test_rate_limit_waits_retry_after_then_posts_once(services, outbox, slack, clock):
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    report = deliverer(services, slack, clock).deliver_pending()
    assert report.sent == 2
    assert 7.0 in clock.slept
    assert alerts_in(slack, "C1") == ["2608.00001"] and alerts_in(slack, "C2") == ["2608.00001"]


def test_rate_limit_that_persists_is_retried_next_cycle(services, outbox, slack, clock):
    slack.fail_next("chat.postMessage", status=429, retry_after=2, times=4)
    first = deliverer(services, slack, clock, max_rate_limit_waits=3).deliver_pending()
    assert first.retrying == 1 and alerts_in(slack, "C1") == []
    clock.advance(hours=1)
    second = deliverer(services, slack, clock).deliver_pending()
    assert second.sent == 2
    assert alerts_in(slack, "C1") == ["2608.00001"] == alerts_in(slack, "C2")


def test_posts_to_one_channel_are_about_a_second_apart(services, slack, clock):
    store = services.store
    for number in (1, 2, 3):
        queue(store, "C1", add_paper(store, number))
    queue(store, "C2", "2608.00001")
    deliverer(services, slack, clock, channel_interval_seconds=1.0).deliver_pending()
    assert alerts_in(slack, "C1") == ["2608.00001", "2608.00002", "2608.00003"]
    # Two waits for C1's second and third posts; C2 had its own slot free.
    assert clock.slept == [1.0, 1.0]


def test_pacer_holds_a_channel_for_retry_after(clock):
    pacer = ChannelPacer(1.0, clock, clock.sleep)
    pacer.wait("C1")
    pacer.hold("C1", 30)
    pacer.wait("C2")
    pacer.wait("C1")
    assert clock.slept == [30.0]


def test_server_errors_back_off_across_cycles_then_fail(services, outbox, slack, clock):
    slack.fail_next("chat.postMessage", status=500, times=100)
    worker = deliverer(services, slack, clock, max_attempts=3, retry_base_seconds=60)
    assert worker.deliver_pending().retrying == 1
    # The rest of the batch waits for a later cycle rather than hammering a failing Slack.
    assert len(slack.calls_to("chat.postMessage", include_failed=True)) == 1
    # Not due yet: nothing is tried again within the backoff.
    clock.advance(seconds=30)
    worker.deliver_pending()
    assert len(slack.calls_to("chat.postMessage", include_failed=True)) == 2
    for _ in range(6):
        clock.advance(minutes=10)
        worker.deliver_pending()
    failed = outbox.alerts.all("failed")
    assert len(failed) == 2
    assert all("HTTP 500" in d.last_error or "internal_error" in d.last_error for d in failed)
    assert all("gave up after 3 tries" in d.last_error for d in failed)
    assert not any(s.paused for s in outbox.subscriptions.all())


def test_server_error_then_recovery_posts_once(services, outbox, slack, clock):
    slack.fail_next("chat.postMessage", status=503, times=1)
    worker = deliverer(services, slack, clock)
    worker.deliver_pending()
    clock.advance(minutes=5)
    worker.deliver_pending()
    assert alerts_in(slack, "C1") == ["2608.00001"] == alerts_in(slack, "C2")
    assert len(outbox.alerts.all("sent")) == 2


def test_timeout_after_slack_took_the_post_is_not_posted_twice(services, outbox, slack, clock):
    # Slack takes the message but answers after the client stopped waiting.
    slack.fail_next("chat.postMessage", delay=3)
    worker = deliverer(services, slack, clock, post_timeout_seconds=1)
    report = worker.deliver_pending()
    assert report.retrying == 1
    row = [d for d in outbox.alerts.all() if d.target == "C1"][0]
    assert row.status == "pending" and row.uncertain
    clock.advance(hours=1)
    worker.deliver_pending()
    assert alerts_in(slack, "C1") == ["2608.00001"] == alerts_in(slack, "C2")
    row = [d for d in outbox.alerts.all() if d.target == "C1"][0]
    assert row.status == "sent" and row.slack_ts == slack.messages_in("C1")[0]["ts"]


def test_timeout_where_history_cannot_be_read_fails_visibly(services, outbox, slack, clock):
    slack.fail_next("chat.postMessage", delay=3)
    slack.fail_next("conversations.history", error="missing_scope")
    worker = deliverer(services, slack, clock, post_timeout_seconds=1)
    worker.deliver_pending()
    clock.advance(hours=1)
    worker.deliver_pending()
    assert alerts_in(slack, "C1") == ["2608.00001"]
    row = [d for d in outbox.alerts.all() if d.target == "C1"][0]
    assert row.status == "failed"
    assert "outcome unknown" in row.last_error and "missing_scope" in row.last_error


def test_timeout_before_slack_took_the_post_is_posted_again(services, outbox, slack, clock):
    # The answer is a 500 after the client gave up: nothing landed, history shows nothing.
    slack.fail_next("chat.postMessage", status=500, delay=3)
    worker = deliverer(services, slack, clock, post_timeout_seconds=1)
    worker.deliver_pending()
    clock.advance(hours=1)
    worker.deliver_pending()
    assert alerts_in(slack, "C1") == ["2608.00001"] == alerts_in(slack, "C2")
    assert len(slack.calls_to("conversations.history")) == 1


def test_stop_finishes_the_post_in_flight_and_gives_back_the_rest(services, slack, clock):
    store = services.store
    for number in (1, 2, 3):
        queue(store, "C1", add_paper(store, number))
    worker = deliverer(services, slack, clock)

    def sleep_then_stop(seconds):
        clock.sleep(seconds)
        worker.request_stop()

    worker.pacer.sleep = sleep_then_stop
    report = worker.deliver_pending()
    assert (report.sent, report.released) == (2, 1)
    assert alerts_in(slack, "C1") == ["2608.00001", "2608.00002"]
    pending = store.alerts.all("pending")
    assert [(d.paper_id, d.attempts) for d in pending] == [("2608.00003", 0)]


def test_row_left_sending_by_a_dead_process_is_checked_not_reposted(services, outbox, slack, clock):
    # A process claimed both rows, posted C1's, and died before writing it down.
    a_minute_ago = iso(clock.now - timedelta(minutes=1))
    claimed = outbox.alerts.claim(10, now=a_minute_ago, claim="dead")
    assert len(claimed) == 2
    assert outbox.alerts.start_posting(claimed[0].id, "dead", a_minute_ago)
    client = make_slack_client("xoxb-test", slack.base_url)
    client.chat_postMessage(
        channel="C1",
        text="earlier",
        metadata={"event_type": ALERT_EVENT_TYPE, "event_payload": {"paper_id": "2608.00001"}},
    )
    worker = deliverer(services, slack, clock, lease_seconds=300)
    # Within the lease the rows may belong to a live process: left alone.
    assert worker.deliver_pending().sent == 0
    clock.advance(minutes=10)
    assert worker.deliver_pending().sent == 2
    assert alerts_in(slack, "C1") == ["2608.00001"] == alerts_in(slack, "C2")
    assert {d.status for d in outbox.alerts.all()} == {"sent"}
    # Only the row whose post had started needed a look at the history.
    assert len(slack.calls_to("conversations.history")) == 1


def test_a_paper_with_a_2000_character_url_is_posted_and_the_rest_after_it(services, slack, clock):
    """An RSS item with no DOI and a very long link: its id is shortened, so the alert
    (buttons included) fits Slack, and the alerts queued behind it go out too."""
    store = services.store
    link = "https://journal.example/article?ref=" + "x" * 2100
    feed = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>J</title>"
        f"<item><title>A long-linked paper</title><link>{link}</link>"
        "<description>We propose X.</description></item></channel></rss>"
    )
    (paper,) = parse_feed(feed.encode(), "https://journal.example/rss").papers
    store.papers.upsert([paper])
    queue(store, "C1", paper.id)
    queue(store, "C1", add_paper(store, 2))

    report = deliverer(services, slack, clock, channel_interval_seconds=0).deliver_pending()

    assert report.sent == 2
    assert alerts_in(slack, "C1") == [paper.id, "2608.00002"]
    first = slack.messages_in("C1")[0]
    assert json.loads(first["blocks"][-1]["elements"][0]["value"])["paper"] == paper.id


class FailingSummarizer(ExtractiveSummarizer):
    """Fails on one paper's title, as a rendering bug would."""

    def summarize(self, title, abstract, topic=None):
        if title == "Paper 1":
            raise ValueError("cannot summarise this one")
        return super().summarize(title, abstract, topic)


def test_an_alert_that_cannot_be_made_fails_alone_and_the_queue_moves_on(
    services, outbox, slack, clock
):
    queue(outbox, "C1", add_paper(outbox, 2))
    settings = dataclasses.replace(services.settings.delivery, channel_interval_seconds=0)
    worker = Deliverer(
        outbox,
        make_slack_client("xoxb-test", slack.base_url),
        FailingSummarizer(),
        settings,
        clock=clock,
        sleep=clock.sleep,
    )

    report = worker.deliver_pending()

    assert (report.sent, report.failed) == (1, 2)
    assert alerts_in(slack, "C1") == ["2608.00002"]
    failed = outbox.alerts.all("failed")
    assert {d.target for d in failed} == {"C1", "C2"}
    assert all("cannot summarise this one" in d.last_error for d in failed)
    assert outbox.alerts.all("sending") == [] and outbox.alerts.all("pending") == []


# -- the instance lock: posts left claimed are taken over at once by the sole process


@pytest.fixture
def claimed(outbox):
    """Both queued alerts claimed a moment ago, as by a process that then died."""
    outbox.alerts.claim(10)
    return outbox


def test_the_sole_process_takes_over_claims_at_once(services, claimed, slack, clock):
    worker = deliverer(services, slack, clock)

    lock = take_over(claimed.path, worker)

    assert lock is not None
    assert {d.status for d in claimed.alerts.all()} == {"pending"}
    lock.release()


def test_while_another_process_holds_the_lock_the_lease_decides(services, claimed, slack, clock):
    other = instance_lock(claimed.path)
    assert other.acquire()
    worker = deliverer(services, slack, clock)

    assert take_over(claimed.path, worker) is None
    assert {d.status for d in claimed.alerts.all()} == {"sending"}
    other.release()


def test_a_hostile_feed_item_reaches_slack_as_plain_text(services, slack, clock):
    """A link of `!channel` and markup in the title: what Slack gets pings nobody."""
    from tests.test_blocks import assert_safe_mrkdwn

    feed = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>J</title>"
        "<item><title>&lt;!channel&gt; &amp; &lt;@U0ADMIN&gt; win</title><link>!channel</link>"
        "<guid>https://j.example/1</guid>"
        "<description>See &lt;#C0GENERAL&gt; &amp; more.</description></item></channel></rss>"
    )
    (paper,) = parse_feed(feed.encode(), "https://j.example/rss").papers
    services.store.papers.upsert([paper])
    queue(services.store, "C1", paper.id)

    assert deliverer(services, slack, clock).deliver_pending().sent == 1

    [message] = slack.messages_in("C1")
    texts = [message["text"]] + [
        element.get("text", "") if isinstance(element.get("text"), str) else ""
        for block in message["blocks"]
        for element in [block.get("text") or {}, *block.get("elements", [])]
    ]
    for text in texts:
        assert_safe_mrkdwn(text)
    assert message["blocks"][0]["text"]["text"].startswith("*&lt;!channel&gt; &amp;")
