import numpy as np
import pytest


def add(store, **kw):
    return store.subscriptions.add(
        owner=kw.pop("owner", "U1"),
        target=kw.pop("target", "U1"),
        topic=kw.pop("topic", "sparse attention"),
        embedding=np.ones(3, np.float32),
        **kw,
    )


def test_a_subscription_keeps_what_it_was_made_with(store):
    made = add(store, required=["sparse"], authors=["Zoë"], cadence="daily", strictness="broad")
    stored = store.subscriptions.get(made.id)
    assert (stored.id, stored.topic, stored.strictness) == (made.id, made.topic, "broad")
    assert (stored.required, stored.authors, stored.cadence) == (["sparse"], ["Zoë"], "daily")
    assert stored.embedding.tolist() == [1, 1, 1] and not stored.paused


def test_listing_by_owner_and_channel(store):
    mine, channel, other = add(store), add(store, owner="U2", target="C1"), add(store, owner="U3")
    found = store.subscriptions.for_owner(owner="U1", channel="C1")
    assert [s.id for s in found] == [mine.id, channel.id]
    assert [s.id for s in store.subscriptions.all()] == [mine.id, channel.id, other.id]


def test_update_changes_only_what_may_change(store):
    made = add(store)
    assert store.subscriptions.update(made.id, threshold=0.6).threshold == 0.6
    with pytest.raises(ValueError, match="topic"):
        store.subscriptions.update(made.id, topic="x")


def test_pausing_a_target_returns_those_it_paused(store):
    first, second, elsewhere = add(store, target="C1"), add(store, target="C1"), add(store)
    paused = store.subscriptions.pause_target("C1", "channel_not_found")
    assert [s.id for s in paused] == [first.id, second.id]
    assert store.subscriptions.pause_target("C1", "again") == []
    assert [s.id for s in store.subscriptions.all(active_only=True)] == [elsewhere.id]
    assert store.subscriptions.get(first.id).paused_reason == "channel_not_found"
    assert [s.id for s in store.subscriptions.pause_all("token_revoked")] == [elsewhere.id]


def test_removed_subscription_is_gone(store):
    made = add(store)
    assert store.subscriptions.remove(made.id) and not store.subscriptions.remove(made.id)
    assert store.subscriptions.get(made.id) is None


def test_learning_and_timezones(store):
    made = add(store, target="C1", cadence="weekly")
    store.subscriptions.set_learning(made.id, np.ones(3, np.float32), 0.5)
    learned = store.subscriptions.get(made.id)
    assert learned.profile.tolist() == [1, 1, 1] and learned.threshold_shift == 0.5
    assert store.subscriptions.target_timezone("C1") is None
    store.subscriptions.set_target_timezone("C1", "Europe/Paris")
    assert store.subscriptions.target_timezone("C1") == "Europe/Paris"
    assert store.subscriptions.digest_targets() == [("C1", "weekly")]


def test_removing_a_subscription_removes_its_judgments(store):
    gone = add(store)
    store.subscriptions.set_feedback("U1", "p1", gone.id, 1)
    assert store.subscriptions.remove(gone.id)
    made = add(store)
    assert store.subscriptions.feedback(made.id) == {}
    assert store.subscriptions.judged_papers() == {}


def test_verdicts_of_every_subscription_as_feedback_gives_each(store):
    first, second, unjudged = add(store), add(store, topic="video"), add(store, topic="audio")
    store.subscriptions.set_feedback("U1", "p1", first.id, 1)
    store.subscriptions.set_feedback("U1", "p2", first.id, -1)
    store.subscriptions.set_feedback("U2", "p1", second.id, -1)
    store.subscriptions.set_feedback("U3", "p1", second.id, 1)
    verdicts = store.subscriptions.verdicts()
    assert verdicts == {first.id: {"p1": 1, "p2": -1}}
    assert verdicts[first.id] == store.subscriptions.feedback(first.id)
    assert unjudged.id not in verdicts


def test_votes_give_every_judged_paper_in_the_order_first_judged_ties_included(store):
    made = add(store)
    store.subscriptions.set_feedback("U1", "p2", made.id, -1)
    store.subscriptions.set_feedback("U1", "p1", made.id, 1)
    store.subscriptions.set_feedback("U2", "p2", made.id, 1)
    store.subscriptions.set_feedback("U1", "p3", made.id, 1)
    store.subscriptions.set_feedback("U2", "p3", made.id, 1)
    assert list(store.subscriptions.votes(made.id).items()) == [("p2", 0), ("p1", 1), ("p3", 2)]
    assert store.subscriptions.feedback(made.id) == {"p1": 1, "p3": 1}


def test_a_removed_subscriptions_id_is_never_given_again(store):
    """Old messages' buttons carry the id: they must not reach a newer subscription."""
    kept, newest = add(store), add(store, topic="video")
    store.subscriptions.remove(newest.id)
    assert add(store, topic="audio").id not in (kept.id, newest.id)


def test_a_new_vote_replaces_the_old_and_votes_are_summed_per_paper(store):
    made = add(store)
    store.subscriptions.set_feedback("U1", "p1", made.id, 1)
    store.subscriptions.set_feedback("U1", "p1", made.id, -1)
    store.subscriptions.set_feedback("U2", "p2", made.id, 1)
    store.subscriptions.set_feedback("U3", "p2", made.id, -1)
    assert store.subscriptions.feedback(made.id) == {"p1": -1}
    assert [row["value"] for row in store.subscriptions.feedback_of("U1")] == [-1]
    # Votes that cancel out still mean the paper was seen and judged.
    assert store.subscriptions.judged_papers() == {made.target: {"p1", "p2"}}
