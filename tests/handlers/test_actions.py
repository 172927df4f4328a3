"""Buttons on alerts, search results and subscription lists, clicked over signed HTTP."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.blocks import render_alert
from bot.digest import held_over_cap, more_matches_message
from bot.match import OVER_CAP_REASON, Match
from bot.subscriptions import subscribe
from tests.handlers.conftest import response_text


def first_paper(slack_app):
    store = slack_app.services.store
    return store.papers.get(store.papers.embeddings(slack_app.services.embedder.name)[0][0])


def post_alert(slack_app, paper, subscription, channel="DU1"):
    """An alert as the deliverer posts it, so the click refers to a real message."""
    match = Match(subscription_id=subscription.id, topic=subscription.topic, score=0.8)
    message = render_alert(paper, [match], "A summary.")
    posted = slack_app.services.slack.chat_postMessage(channel=channel, **message)
    return posted["message"]


def value(paper, subscription=None):
    return json.dumps({"paper": paper.id, "sub": subscription.id if subscription else None})


def test_relevant_is_stored_and_the_alert_shows_it(slack_app):
    services = slack_app.services
    paper = first_paper(slack_app)
    mine = subscribe(services.store, services.embedder, topic="language models", owner="U1")
    message = post_alert(slack_app, paper, mine)
    slack_app.click("paper_relevant", value(paper, mine), channel="DU1", message=message)
    [update] = slack_app.wait_for_call("chat.update")
    assert "marked this relevant for *language models*. Its threshold" in response_text(update)
    assert "✓ Relevant" in response_text(update)
    [row] = services.store.subscriptions.feedback_of("U1")
    assert (row["paper_id"], row["subscription_id"], row["value"]) == (paper.id, mine.id, 1)
    edited = slack_app.fake.messages_in("DU1")[0]
    assert "marked this relevant" in json.dumps(edited["blocks"])


def test_feedback_clicks_relearn_the_profile_and_the_alert_shows_the_last_choice(slack_app):
    services = slack_app.services
    paper = first_paper(slack_app)
    mine = subscribe(services.store, services.embedder, topic="protein folding", owner="U1")
    assert services.store.subscriptions.get(mine.id).profile is None
    [vector] = services.embedder.encode([paper.text_for_embedding])
    message = post_alert(slack_app, paper, mine)

    slack_app.click("paper_relevant", value(paper, mine), channel="DU1", message=message)
    slack_app.wait_for_call("chat.update")
    liked = services.store.subscriptions.get(mine.id).profile
    assert liked is not None
    # Pulled towards the paper judged relevant.
    assert float(liked @ vector) > float(mine.embedding @ vector)

    edited = slack_app.fake.messages_in("DU1")[0]
    slack_app.click("paper_not_relevant", value(paper, mine), channel="DU1", message=edited)
    slack_app.wait_for_call("chat.update", count=2)
    disliked = services.store.subscriptions.get(mine.id).profile
    assert float(disliked @ vector) < float(mine.embedding @ vector)
    assert not np.allclose(liked, disliked)
    shown = json.dumps(slack_app.fake.messages_in("DU1")[0]["blocks"], ensure_ascii=False)
    assert "✓ Not relevant" in shown and "✓ Relevant" not in shown
    assert "marked this not relevant" in shown


def test_feedback_on_someone_elses_subscription_is_refused(slack_app):
    services = slack_app.services
    paper = first_paper(slack_app)
    theirs = subscribe(services.store, services.embedder, topic="language models", owner="U2")
    slack_app.click("paper_not_relevant", value(paper, theirs), user="U1")
    assert "You have no subscription" in response_text(slack_app.next_response())
    assert services.store.subscriptions.feedback_of("U1") == []


def test_save_more_like_this_and_unsave(slack_app):
    paper = first_paper(slack_app)
    slack_app.click("paper_save", value(paper))
    assert "Saved" in response_text(slack_app.next_response())
    assert [p.id for p in slack_app.services.store.saved.papers("U1")] == [paper.id]
    home = slack_app.wait_for_call("views.publish")[-1]
    assert paper.url in json.dumps(home["view"])
    slack_app.click("paper_more_like", value(paper))
    similar = slack_app.next_response()
    assert similar["response_type"] == "ephemeral"
    assert "Papers like that one" in response_text(similar)
    assert paper.url not in json.dumps(similar["blocks"])
    slack_app.click("paper_unsave", value(paper))
    slack_app.next_response()
    assert slack_app.services.store.saved.papers("U1") == []


def test_mute_pauses_the_matching_subscription(slack_app):
    services = slack_app.services
    paper = first_paper(slack_app)
    mine = subscribe(services.store, services.embedder, topic="language models", owner="U1")
    slack_app.click("paper_mute_topic", value(paper, mine))
    assert "Muted" in response_text(slack_app.next_response())
    assert services.store.subscriptions.get(mine.id).paused


def test_mute_reply_escapes_the_topic(slack_app):
    services = slack_app.services
    paper = first_paper(slack_app)
    mine = subscribe(services.store, services.embedder, topic="<!channel> & co", owner="U1")
    slack_app.click("paper_mute_topic", value(paper, mine))
    text = slack_app.next_response()["text"]
    assert "*&lt;!channel&gt; &amp; co*" in text and "<!channel>" not in text


def test_mute_of_someone_elses_subscription_is_refused(slack_app):
    services = slack_app.services
    paper = first_paper(slack_app)
    theirs = subscribe(services.store, services.embedder, topic="language models", owner="U2")
    slack_app.click("paper_mute_topic", value(paper, theirs), user="U1")
    assert f"no subscription #{theirs.id}" in response_text(slack_app.next_response())
    assert not services.store.subscriptions.get(theirs.id).paused


def test_subscribe_to_a_search_result(slack_app):
    paper = first_paper(slack_app)
    slack_app.click("paper_subscribe", value(paper))
    assert "Subscribed" in response_text(slack_app.next_response())
    [subscription] = slack_app.services.store.subscriptions.for_owner(owner="U1")
    assert subscription.seed_papers == [paper.id]


def test_next_page_shows_the_following_five(slack_app):
    slack_app.command("search language models")
    first = slack_app.next_response()
    next_button = first["blocks"][-1]["elements"][0]
    slack_app.click("search_next", next_button["value"])
    second = slack_app.next_response()
    assert second["replace_original"] is True
    assert "(6–10)" in response_text(second)
    first_urls = {b["text"]["text"] for b in first["blocks"] if b["type"] == "section"}
    second_urls = {b["text"]["text"] for b in second["blocks"] if b["type"] == "section"}
    assert not (first_urls - {first["blocks"][0]["text"]["text"]}) & second_urls


def test_list_buttons_refuse_other_users_ids(slack_app):
    services = slack_app.services
    theirs = subscribe(services.store, services.embedder, topic="secret", owner="U2")
    slack_app.click("sub_remove", str(theirs.id), user="U1")
    assert "You have no subscription" in response_text(slack_app.next_response())
    assert services.store.subscriptions.get(theirs.id) is not None


def test_pause_on_a_new_subscriptions_reply_leaves_its_papers_to_judge(slack_app):
    slack_app.command("subscribe speech recognition")
    reply = slack_app.next_response()
    [buttons] = [b for b in reply["blocks"] if b.get("block_id") == "new_subscription"]
    [pause] = [e for e in buttons["elements"] if e["action_id"] == "sub_pause"]

    slack_app.click("sub_pause", pause["value"], block_id="new_subscription")

    answer = slack_app.next_response()
    assert not answer.get("replace_original")
    assert response_text(answer).startswith("Paused *speech recognition* (#1).")
    assert "/papers resume 1" in response_text(answer)
    [subscription] = slack_app.services.store.subscriptions.all()
    assert subscription.paused


def test_pause_from_the_home_tab_republishes_it(slack_app):
    services = slack_app.services
    mine = subscribe(services.store, services.embedder, topic="speech", owner="U1")
    slack_app.click("sub_pause", str(mine.id), view={"type": "home", "id": "V1"})
    home = slack_app.wait_for_call("views.publish")[-1]
    assert "Resume" in json.dumps(home["view"])
    assert services.store.subscriptions.get(mine.id).paused


def test_forged_button_values_get_a_polite_answer(slack_app):
    for action, bad in (
        ("paper_save", "not json"),
        ("sub_pause", "1 or 1=1"),
        ("search_next", "{}"),
    ):
        slack_app.click(action, bad)
        assert "out of date" in response_text(slack_app.next_response())


def held_over_the_cap(slack_app, target: str, count: int) -> list[str]:
    """`count` stored papers matched for a new "language models" subscription of `target`
    (owned by U1) and held back by the daily cap; their ids."""
    services = slack_app.services
    store = services.store
    mine = subscribe(store, services.embedder, topic="language models", owner="U1", target=target)
    held = store.papers.embeddings(services.embedder.name)[0][:count]
    for paper_id in held:
        store.alerts.enqueue(
            target=target,
            paper_id=paper_id,
            subscription_id=mine.id,
            score=0.5,
            matches=[{"subscription_id": mine.id, "topic": mine.topic, "score": 0.5}],
            dropped_reason=OVER_CAP_REASON,
        )
    return held


def test_show_more_queues_the_alerts_held_over_the_cap(slack_app):
    services = slack_app.services
    store = services.store
    held = held_over_the_cap(slack_app, "U1", 3)
    today = json.dumps({"day": datetime.now(UTC).date().isoformat()})

    slack_app.click("show_more_matches", today, channel="DU1")

    assert "3 more papers on the way" in response_text(slack_app.next_response())
    assert sorted(d.paper_id for d in store.alerts.all("pending")) == sorted(held)
    # The next delivery run posts them as ordinary alerts in the clicker's DM.
    services.pipeline.deliverer.deliver_pending()
    posted = [m["metadata"]["event_payload"]["paper_id"] for m in slack_app.fake.messages_in("DU1")]
    assert sorted(posted) == sorted(held)
    slack_app.click("show_more_matches", today, channel="DU1")
    assert "Nothing more is held back" in response_text(slack_app.next_response())


def test_show_more_shows_ten_a_press_and_the_offer_counts_what_is_left(slack_app):
    held_over_the_cap(slack_app, "U1", 12)
    now = datetime.now(UTC)
    offer = more_matches_message(len(held_over_cap(slack_app.services.store, "U1", now)), now, now)
    assert offer["blocks"][0]["accessory"]["text"]["text"] == "Show 10 more"
    posted = slack_app.services.slack.chat_postMessage(channel="DU1", **offer)["message"]
    value = offer["blocks"][0]["accessory"]["value"]

    slack_app.click("show_more_matches", value, channel="DU1", message=posted)
    assert "10 more papers on the way" in response_text(slack_app.next_response())
    [left] = slack_app.fake.messages_in("DU1")
    assert left["text"].startswith("2 more papers matched")
    assert left["blocks"][0]["accessory"]["text"]["text"] == "Show 2 more"

    slack_app.click("show_more_matches", value, channel="DU1", message=left)
    assert "2 more papers on the way" in response_text(slack_app.next_response())
    [done] = slack_app.fake.messages_in("DU1")
    assert done["text"] == "Every paper held back today is on its way."
    assert "accessory" not in done["blocks"][0]


def test_an_earlier_days_show_more_posts_that_days_papers_only(slack_app, monkeypatch):
    import bot.storage.outbox.alerts

    today = datetime.now(UTC)
    yesterday = today - timedelta(days=1)
    monkeypatch.setattr(bot.storage.outbox.alerts, "now_iso", yesterday.isoformat)
    earlier = held_over_the_cap(slack_app, "U1", 3)
    monkeypatch.undo()
    store = slack_app.services.store
    later = store.papers.embeddings(slack_app.services.embedder.name)[0][3:5]
    for paper_id in later:
        store.alerts.enqueue(
            target="U1",
            paper_id=paper_id,
            subscription_id=1,
            score=0.9,
            matches=[],
            dropped_reason=OVER_CAP_REASON,
        )
    offer = more_matches_message(len(held_over_cap(store, "U1", yesterday)), yesterday, yesterday)
    posted = slack_app.services.slack.chat_postMessage(channel="DU1", **offer)["message"]

    value = offer["blocks"][0]["accessory"]["value"]
    slack_app.click("show_more_matches", value, channel="DU1", message=posted)

    assert "3 more papers on the way" in response_text(slack_app.next_response())
    assert sorted(d.paper_id for d in store.alerts.all("pending")) == sorted(earlier)
    [done] = slack_app.fake.messages_in("DU1")
    assert done["text"] == f"Every paper held back on {yesterday.date().isoformat()} is on its way."


def test_show_more_in_a_channel_is_for_its_members_only(slack_app):
    store = slack_app.services.store
    held = held_over_the_cap(slack_app, "C1", 2)
    slack_app.fake.members["C1"] = ["U1"]
    today = json.dumps({"day": datetime.now(UTC).date().isoformat()})

    slack_app.click("show_more_matches", today, user="U2", channel="C1")

    assert "Only members" in response_text(slack_app.next_response())
    assert store.alerts.all("pending") == []
    slack_app.click("show_more_matches", today, user="U1", channel="C1")
    assert "2 more papers on the way" in response_text(slack_app.next_response())
    assert sorted(d.paper_id for d in store.alerts.all("pending")) == sorted(held)
