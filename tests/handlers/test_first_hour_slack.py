"""What a Slack user reads (issue 14): every cut list says how many are hidden and where to
see them, a `*` in a topic keeps the bold intact, a wild value is not echoed back."""

import json

from bot.blocks import explain
from bot.match import Match
from tests.handlers.conftest import response_text


def add_subscriptions(slack_app, count: int, owner: str = "U1") -> list:
    store, embedder = slack_app.services.store, slack_app.services.embedder
    vector = embedder.encode_one("speech recognition")
    return [
        store.subscriptions.add(owner=owner, target=owner, topic=f"topic {n}", embedding=vector)
        for n in range(1, count + 1)
    ]


def open_home(slack_app) -> str:
    slack_app.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    [call] = slack_app.wait_for_call("views.publish")
    return json.dumps(call["view"], ensure_ascii=False)


def test_home_says_how_many_subscriptions_and_saved_papers_are_not_shown(slack_app):
    add_subscriptions(slack_app, 60)
    store = slack_app.services.store
    for paper_id in store.papers.embeddings("all-MiniLM-L6-v2")[0][:30]:
        store.saved.add("U1", paper_id)
    view = open_home(slack_app)
    assert "and 35 more: `/papers list` shows every one, by pages." in view
    assert "and 20 more: `/papers saved` shows every one, by pages." in view


def test_list_pages_through_every_subscription(slack_app):
    subscriptions = add_subscriptions(slack_app, 45)
    slack_app.command("list")
    first = response_text(slack_app.next_response())
    assert "Showing 1–20 of 45. `/papers list 2` shows the next 20." in first
    assert f"#{subscriptions[19].id} " in first and f"#{subscriptions[20].id} " not in first
    slack_app.command("list 3")
    last = response_text(slack_app.next_response())
    assert "Showing 41–45 of 45." in last and "shows the next" not in last
    assert f"#{subscriptions[44].id} " in last
    slack_app.command("list 4")
    assert "There is no page 4: 45 fit on 3 pages" in response_text(slack_app.next_response())


def test_saved_pages_through_every_saved_paper(slack_app):
    store = slack_app.services.store
    ids = store.papers.embeddings("all-MiniLM-L6-v2")[0][:40]
    for paper_id in ids:
        store.saved.add("U1", paper_id)
    slack_app.command("saved")
    first = slack_app.next_response()
    assert "Showing 1–15 of 40. `/papers saved 2` shows the next 15." in response_text(first)
    assert len(first["blocks"]) <= 50
    slack_app.command("saved 3")
    assert "Showing 31–40 of 40." in response_text(slack_app.next_response())


def test_a_star_in_a_topic_does_not_end_the_bold():
    line = explain(Match(subscription_id=1, topic="C* algebras", score=0.8, band="strong"))
    assert line.startswith("Matched *C∗ algebras* · strong")
    assert line.count("*") == 2


def test_a_star_in_a_topic_in_the_list(slack_app):
    [subscription] = add_subscriptions(slack_app, 1)
    slack_app.services.store.subscriptions.remove(subscription.id)
    store, embedder = slack_app.services.store, slack_app.services.embedder
    starred = store.subscriptions.add(
        owner="U1", target="U1", topic="*bold* claims", embedding=embedder.encode_one("x")
    )
    slack_app.command("list")
    text = response_text(slack_app.next_response())
    assert f"#{starred.id} *∗bold∗ claims* → your DM" in text


def test_an_out_of_range_threshold_is_not_echoed(slack_app):
    [subscription] = add_subscriptions(slack_app, 1)
    slack_app.command(f"threshold {subscription.id} {'9' * 3000}")
    text = response_text(slack_app.next_response())
    assert "between 0 and 1" in text and "999999" not in text


def test_subscribing_twice_to_the_same_topic_is_refused(slack_app):
    slack_app.command("subscribe speech recognition")
    assert "Subscribed" in response_text(slack_app.next_response())
    slack_app.command("subscribe  Speech Recognition ")
    text = response_text(slack_app.next_response())
    assert "already delivers this topic, typed there as 'speech recognition'" in text
    assert len(slack_app.services.store.subscriptions.for_owner(owner="U1")) == 1
