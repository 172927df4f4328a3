import pytest

from bot.deliver import Deliverer, make_slack_client
from bot.papers import Paper
from bot.summarize import ExtractiveSummarizer
from tests.fake_slack import FakeSlack


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def outbox(services):
    """A store holding one paper, one subscription per target, one pending row each."""
    store = services.store
    store.upsert_papers(
        [Paper(id="2608.00001", title="A <b> title", abstract="We propose X.", url="https://a/")]
    )
    for target in ("C1", "C2"):
        sub = store.add_subscription(owner="U1", target=target, topic="x", embedding=[1.0])
        store.enqueue_delivery(
            target=target,
            paper_id="2608.00001",
            subscription_id=sub.id,
            score=0.6,
            matches=[{"subscription_id": sub.id, "topic": "x", "score": 0.6}],
        )
    return store


def deliverer(store, slack, **kwargs):
    client = make_slack_client("xoxb-test", slack.base_url)
    return Deliverer(store, client, ExtractiveSummarizer(), **kwargs)


def test_permanent_error_fails_row_and_pauses_subscription(outbox, slack):
    slack.fail_next("chat.postMessage", error="channel_not_found", status=200)
    report = deliverer(outbox, slack).deliver_pending()
    assert (report.sent, report.failed) == (1, 1)
    failed = outbox.deliveries("failed")[0]
    assert failed.target == "C1" and failed.last_error == "channel_not_found"
    paused = [s for s in outbox.list_subscriptions() if s.paused]
    assert [s.target for s in paused] == ["C1"]
    assert paused[0].paused_reason == "Slack answered channel_not_found"


def test_server_error_keeps_row_pending_until_the_limit(outbox, slack):
    slack.fail_next("chat.postMessage", status=500, times=100)
    first = deliverer(outbox, slack, max_attempts=2).deliver_pending()
    assert first.retrying == 2 and len(outbox.deliveries("pending")) == 2
    second = deliverer(outbox, slack, max_attempts=2).deliver_pending()
    assert second.failed == 2
    reasons = [d.last_error for d in outbox.deliveries("failed")]
    assert all("gave up after 2 tries" in reason for reason in reasons)
