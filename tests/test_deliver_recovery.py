"""Recovery paths of the outbox worker that need Slack's memory: a digest part posted by
a process that died before recording it, and notices to owners that Slack refused once."""

import pytest

from bot.deliver import Deliverer
from bot.scheduler import release_digest
from bot.status import status_report, status_text
from tests.test_deliver import FakeClock, add_paper, deliverer, queue
from tests.test_digest import digest_parts, hold_for_digest, papers_in

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends


class ProcessDied(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler of the worker catches it."""


@pytest.fixture
def clock():
    return FakeClock()


def die_at_post(worker: Deliverer, number: int, after_landing: bool) -> None:
    """Make the worker's process die at its `number`th post, after or before Slack took it."""
    original = worker.poster.chat_postMessage
    posts = []

    def post(**message):
        posts.append(message)
        if len(posts) < number:
            return original(**message)
        if after_landing:
            original(**message)
        raise ProcessDied

    worker.poster.chat_postMessage = post


@pytest.mark.parametrize("landed", [True, False], ids=["part-landed", "part-not-landed"])
def test_digest_reply_cut_off_by_a_crash_is_posted_once(services, slack, clock, landed):
    store = services.store
    # Enough papers for three messages: the crash comes in the middle of the thread.
    ids = hold_for_digest(store, "C1", 100)
    release_digest(store.path, "C1", "daily")
    first_process = deliverer(services, slack, clock)
    # The second message is the first reply in the digest's thread.
    die_at_post(first_process, 2, after_landing=landed)
    with pytest.raises(ProcessDied):
        first_process.deliver_pending()
    [run] = store.digests.all()
    assert (run.status, run.parts_posted) == ("sending", 1)
    assert len(digest_parts(slack, "C1")) == (2 if landed else 1)

    # The restarted service takes the digest over once its lease has run out.
    clock.advance(minutes=10)
    assert deliverer(services, slack, clock).deliver_pending().sent == 1

    parts = digest_parts(slack, "C1")
    numbers = [p["metadata"]["event_payload"]["part"] for p in parts]
    assert numbers == list(range(len(parts))) and len(parts) == 3
    assert all(part["thread_ts"] == parts[0]["ts"] for part in parts[1:])
    assert papers_in(parts) == ids
    assert {(row.status, row.slack_ts) for row in store.alerts.all()} == {("sent", parts[0]["ts"])}
    # The part whose post had started was looked for among the thread's replies.
    [lookup] = slack.calls_to("conversations.replies")
    assert lookup["ts"] == parts[0]["ts"]


def dms_about_the_pause(slack) -> list[dict]:
    return [m for m in slack.messages_in("DU1") if "I paused your paper alerts" in m["text"]]


@pytest.fixture
def channel_gone(services):
    """One alert for C1, whose subscription U1 owns; Slack will answer channel_not_found."""
    queue(services.store, "C1", add_paper(services.store, 1), owner="U1")
    return services.store


def test_pause_notice_refused_by_a_server_error_is_sent_next_cycle_once(
    services, channel_gone, slack, clock
):
    slack.fail_next("chat.postMessage", error="channel_not_found")
    slack.fail_next("chat.postMessage", status=500)
    worker = deliverer(services, slack, clock)
    worker.deliver_pending()
    assert channel_gone.subscriptions.all()[0].paused
    assert dms_about_the_pause(slack) == []
    [notice] = channel_gone.notices.all()
    assert notice.status == "pending" and "internal_error" in notice.last_error

    # Within the backoff nothing is tried; after it the owner is told, once.
    worker.deliver_pending()
    assert dms_about_the_pause(slack) == []
    clock.advance(minutes=5)
    worker.deliver_pending()
    clock.advance(hours=2)
    deliverer(services, slack, clock).deliver_pending()
    [dm] = dms_about_the_pause(slack)
    assert "<#C1>" in dm["text"] and "channel_not_found" in dm["text"]
    assert [(n.status, n.attempts) for n in channel_gone.notices.all()] == [("sent", 2)]


def test_pause_notice_whose_answer_never_came_is_not_sent_twice(
    services, channel_gone, slack, clock
):
    slack.fail_next("chat.postMessage", error="channel_not_found")
    # Slack takes the DM but answers after the client stopped waiting.
    slack.fail_next("chat.postMessage", delay=3)
    worker = deliverer(services, slack, clock, post_timeout_seconds=1)
    worker.deliver_pending()
    [notice] = channel_gone.notices.all()
    assert notice.status == "pending" and notice.uncertain

    clock.advance(minutes=5)
    worker.deliver_pending()
    [dm] = dms_about_the_pause(slack)
    [notice] = channel_gone.notices.all()
    assert (notice.status, notice.uncertain) == ("sent", True)
    assert len(slack.calls_to("conversations.history")) == 1


def test_pause_notice_to_an_owner_slack_cannot_reach_fails_with_the_reason(
    services, channel_gone, slack, clock
):
    slack.fail_next("chat.postMessage", error="channel_not_found")
    slack.fail_next("chat.postMessage", error="user_disabled")
    worker = deliverer(services, slack, clock)
    worker.deliver_pending()
    clock.advance(hours=2)
    worker.deliver_pending()
    [notice] = channel_gone.notices.all()
    assert (notice.status, notice.last_error) == ("failed", "Slack answered user_disabled")
    assert len(slack.calls_to("chat.postMessage", include_failed=True)) == 2
    # `paperbot status` says who was not told, and why.
    text = status_text(status_report(channel_gone))
    assert (
        "Notices to owners not delivered:\n  U1 [failed, 1 tries]: Slack answered user_disabled"
        in text
    )


@pytest.mark.parametrize("landed", [True, False], ids=["dm-landed", "dm-not-landed"])
def test_pause_notice_cut_off_by_a_crash_is_sent_once(services, channel_gone, slack, clock, landed):
    slack.fail_next("chat.postMessage", error="channel_not_found")
    first_process = deliverer(services, slack, clock)
    die_at_post(first_process, 2, after_landing=landed)
    with pytest.raises(ProcessDied):
        first_process.deliver_pending()
    assert len(dms_about_the_pause(slack)) == (1 if landed else 0)

    clock.advance(minutes=10)
    deliverer(services, slack, clock).deliver_pending()
    assert len(dms_about_the_pause(slack)) == 1
    assert [n.status for n in channel_gone.notices.all()] == ["sent"]
