"""Performance behaviour that users notice: alerts to many channels are not held up by pacing."""

from tests.fake_slack import FakeSlack
from tests.test_deliver import FakeClock, add_paper, deliverer, queue


def test_alerts_take_turns_across_channels_instead_of_waiting_on_one(services):
    """Queued channel by channel, posted round-robin: pacing waits once a round, not per post."""
    clock = FakeClock()
    store = services.store
    papers = [add_paper(store, n) for n in range(4)]
    for channel in ("C1", "C2", "C3"):
        for paper_id in papers:
            queue(store, channel, paper_id)
    with FakeSlack() as slack:
        report = deliverer(services, slack, clock).deliver_pending()
        posted = [call["channel"] for call in slack.calls_to("chat.postMessage")]
    assert report.sent == 12
    assert posted == ["C1", "C2", "C3"] * 4
    # About one second of waiting per round after the first, not one per post (9 s).
    assert sum(clock.slept) <= 3.0


def test_claims_smaller_than_the_channel_count_still_take_turns(services):
    """Each claim starts with the channels posted to least recently, so none is starved."""
    clock = FakeClock()
    store = services.store
    papers = [add_paper(store, n) for n in range(3)]
    for channel in ("C1", "C2", "C3", "C4"):
        for paper_id in papers:
            queue(store, channel, paper_id)
    with FakeSlack() as slack:
        report = deliverer(services, slack, clock, batch_size=2).deliver_pending()
        posted = [call["channel"] for call in slack.calls_to("chat.postMessage")]
    assert report.sent == 12
    assert posted == ["C1", "C2", "C3", "C4"] * 3
    assert sum(clock.slept) <= 2.0
