"""/papers over signed HTTP: every subcommand's normal use and hostile input."""

import dataclasses
import json
import threading

import pytest

from bot.subscriptions import subscribe
from tests.feed_server import FeedServer, Reply
from tests.handlers.conftest import FEEDS, response_text, wait_until

API_ENTRY = FEEDS / "arxiv_api_atom" / "arxiv_api_2026_idlist_oldstyle_id_affiliations.xml"


def test_help_for_empty_or_unknown_command(slack_app):
    assert slack_app.command("").status == 200
    text = response_text(slack_app.next_response())
    assert "/papers search" in text and "subscribe here" in text and "threshold" in text
    slack_app.command("  FROBNICATE <!channel>  ")
    text = response_text(slack_app.next_response())
    assert "frobnicate" in text.lower() and "<!channel>" not in text


def test_search_shows_five_papers_with_buttons_only_to_the_caller(slack_app):
    slack_app.command("  SEARCH   large language models  ")
    response = slack_app.next_response()
    assert response["response_type"] == "ephemeral"
    actions = [b for b in response["blocks"] if b["type"] == "actions"]
    paper_buttons = [a for a in actions if a["elements"][0]["action_id"] == "paper_save"]
    assert len(paper_buttons) == 5
    labels = {e["action_id"] for e in paper_buttons[0]["elements"]}
    assert labels == {"paper_save", "paper_more_like", "paper_subscribe"}
    assert actions[-1]["elements"][0]["action_id"] == "search_next"
    assert "arxiv.org/abs/" in response_text(response)


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "trans*", "NEAR(attention", "-negative OR", "🤖 robots", "<!channel> hi", ""],
)
def test_search_survives_fts_operators_and_markup(slack_app, query):
    slack_app.command("search " + query)
    response = slack_app.next_response()
    text = response_text(response)
    assert "Sorry" not in text
    assert "<!channel>" not in text
    if not query:
        assert "Tell me what to search for" in text


def test_a_5000_character_query_is_cut_and_fits_slack_limits(slack_app):
    slack_app.command("search " + "attention " * 555)
    response = slack_app.next_response()
    for block in response["blocks"]:
        assert len(json.dumps(block)) < 3500
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= 2000
    assert "cut to its first words" in response_text(response)


def search_and_subscribe(slack_app, topic: str) -> tuple[str, str]:
    """The replies to /papers search and /papers subscribe with `topic`."""
    replies = []
    for command in ("search", "subscribe"):
        slack_app.command(f"{command} {topic}")
        replies.append(response_text(slack_app.next_response()))
    return replies[0], replies[1]


def test_search_names_the_words_no_stored_paper_contains(slack_app, monkeypatch):
    # The sample holds 109 papers, fewer than the spelling check waits for.
    monkeypatch.setattr("bot.search.WORD_CHECK_PAPERS", 100)
    search, subscribe = search_and_subscribe(slack_app, "machine qzxwv")
    assert "No stored paper contains the word 'qzxwv': check the spelling." in search
    assert "No stored paper contains the word 'qzxwv' yet, so it counts for nothing" in subscribe


def test_a_misspelt_word_is_read_as_the_stored_word_one_letter_away(slack_app, monkeypatch):
    monkeypatch.setattr("bot.search.WORD_CHECK_PAPERS", 100)
    search, subscribe = search_and_subscribe(slack_app, "machine transaltion")
    read_as = "No stored paper contains the word 'transaltion': read as 'translation'."
    assert read_as in search
    assert "Subscribed: #1 *machine translation*" in subscribe and read_as in subscribe


def test_search_filters(slack_app):
    slack_app.command("search language models cat:cs.CL since:2026-08-01")
    in_range = response_text(slack_app.next_response())
    assert "arxiv.org/abs/" in in_range
    slack_app.command("search language models since:2030-01-01")
    assert "No stored papers match" in response_text(slack_app.next_response())
    slack_app.command("search language models since:yesterday")
    assert "since:7d" in response_text(slack_app.next_response())
    # Further back than the calendar goes: still an answer, saying what to write.
    slack_app.command("search x since:9999y")
    assert "since:7d" in response_text(slack_app.next_response())


def button_values(response: dict, action_id: str) -> list[str]:
    return [
        element["value"]
        for block in response.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]


def test_subscribe_reply_shows_papers_to_judge_and_a_judgment_counts(slack_app):
    slack_app.command('subscribe "Large Language Models"')
    reply = slack_app.next_response()
    text = response_text(reply)
    assert "Subscribed" in text and "your DM" in text and "near its threshold" in text
    assert "arxiv.org/abs/" in text
    [subscription] = slack_app.services.store.subscriptions.for_owner(owner="U1")
    assert subscription.target == "U1" and subscription.topic == "Large Language Models"
    home = slack_app.wait_for_call("views.publish")[-1]
    assert home["user_id"] == "U1" and "Large Language Models" in json.dumps(home["view"])

    relevant = button_values(reply, "paper_relevant")
    assert len(relevant) == 5 == len(button_values(reply, "paper_not_relevant"))
    value = json.loads(relevant[0])
    assert value["sub"] == subscription.id
    slack_app.click("paper_not_relevant", relevant[0])
    assert "Noted" in response_text(slack_app.next_response())
    assert slack_app.services.store.subscriptions.feedback(subscription.id) == {value["paper"]: -1}


def test_subscribe_reply_says_what_a_request_for_papers_is_matched_on(slack_app):
    slack_app.command("subscribe I'm interested in papers about protein folding")
    text = response_text(slack_app.next_response())
    assert "Papers are matched on *protein folding*" in text
    slack_app.command("subscribe protein folding")
    assert "matched on" not in response_text(slack_app.next_response())


def test_subscribe_reply_says_that_what_a_topic_does_not_want_holds_back_no_paper(slack_app):
    slack_app.command("subscribe protein folding, not surveys")
    text = response_text(slack_app.next_response())
    assert "Papers are matched on *protein folding*" in text
    assert "'not surveys' is left out of the topic, but papers that mention it can still" in text


def test_subscribe_here_needs_channel_membership(slack_app):
    slack_app.fake.members["C1"] = ["U2"]
    slack_app.command("subscribe here speech recognition", user="U1", channel="C1")
    assert "Only members" in response_text(slack_app.next_response())
    assert slack_app.services.store.subscriptions.for_owner(owner="U1") == []
    slack_app.command("subscribe here speech recognition", user="U2", channel="C1")
    assert "<#C1>" in response_text(slack_app.next_response())
    [subscription] = slack_app.services.store.subscriptions.for_owner(owner="U2")
    assert subscription.target == "C1"


def test_subscribe_another_channel_by_link(slack_app):
    slack_app.fake.members["C9"] = ["U1"]
    slack_app.command("subscribe <#C9|vision> video generation", channel="D1")
    assert "<#C9>" in response_text(slack_app.next_response())
    assert slack_app.services.store.subscriptions.for_owner(owner="U1")[0].target == "C9"


def test_subscribe_a_channel_by_name_found_on_a_later_page(slack_app):
    fake = slack_app.fake
    fake.max_page_size = 2
    for number, name in enumerate(["general", "random", "ml-reading", "vision-papers"]):
        fake.add_channel(f"C{number + 10}", name)
    fake.members["C13"] = ["U1"]

    slack_app.command("subscribe #Vision-Papers video generation", channel="D1")

    assert "<#C13>" in response_text(slack_app.next_response())
    [subscription] = slack_app.services.store.subscriptions.for_owner(owner="U1")
    assert (subscription.target, subscription.topic) == ("C13", "video generation")
    # The bot read past the first page to find it.
    assert [call.get("cursor") for call in fake.calls_to("conversations.list")] == [None, "2"]


def test_subscribe_an_unknown_channel_name_says_what_to_do(slack_app):
    slack_app.fake.add_channel("C10", "general")
    slack_app.command("subscribe #no-such-channel video generation", channel="D1")
    text = response_text(slack_app.next_response())
    assert "can't find a channel called #no-such-channel" in text
    assert "subscribe here" in text
    assert slack_app.services.store.subscriptions.for_owner(owner="U1") == []


def test_empty_subscribe_explains(slack_app):
    slack_app.command("subscribe   ")
    assert "Tell me the topic" in response_text(slack_app.next_response())


def make_subscription(slack_app, owner="U1", target=None, topic="speech recognition"):
    services = slack_app.services
    return subscribe(services.store, services.embedder, topic=topic, owner=owner, target=target)


def test_list_shows_own_and_channel_subscriptions_not_others(slack_app):
    mine = make_subscription(slack_app, topic="my topic")
    theirs = make_subscription(slack_app, owner="U2", topic="secret topic of U2")
    slack_app.fake.members["C1"] = ["U1", "U2"]
    channel = make_subscription(slack_app, owner="U2", target="C1", topic="channel topic")
    slack_app.command("list")
    text = response_text(slack_app.next_response())
    assert f"#{mine.id}" in text and f"#{channel.id}" in text
    assert "secret topic" not in text and f"#{theirs.id} " not in text
    assert "sub_pause" in text and "sub_remove" in text


def test_another_users_subscription_id_is_refused(slack_app):
    theirs = make_subscription(slack_app, owner="U2")
    for command in (
        f"unsubscribe {theirs.id}",
        f"pause {theirs.id}",
        f"resume {theirs.id}",
        f"threshold {theirs.id} 0.9",
        f"digest {theirs.id} weekly",
    ):
        slack_app.command(command, user="U1")
        assert f"You have no subscription #{theirs.id}" in response_text(slack_app.next_response())
    unchanged = slack_app.services.store.subscriptions.get(theirs.id)
    assert unchanged is not None and not unchanged.paused
    assert unchanged.threshold is None and unchanged.cadence == "instant"


def test_pause_resume_threshold_digest_unsubscribe(slack_app):
    mine = make_subscription(slack_app)
    store = slack_app.services.store
    slack_app.command(f"PAUSE #{mine.id}")
    assert "Paused" in response_text(slack_app.next_response())
    assert store.subscriptions.get(mine.id).paused
    slack_app.command(f"resume {mine.id}")
    slack_app.next_response()
    assert not store.subscriptions.get(mine.id).paused
    slack_app.command(f"threshold {mine.id} 0.6")
    assert "Set by hand, it stays there" in response_text(slack_app.next_response())
    assert store.subscriptions.get(mine.id).threshold == 0.6
    slack_app.command(f"threshold {mine.id} stricter")
    slack_app.next_response()
    assert store.subscriptions.get(mine.id).threshold == pytest.approx(0.65)
    slack_app.command(f"threshold {mine.id} 7")
    assert "between 0 and 1" in response_text(slack_app.next_response())
    slack_app.command(f"digest {mine.id} Weekly")
    slack_app.next_response()
    assert store.subscriptions.get(mine.id).cadence == "weekly"
    slack_app.command(f"digest {mine.id} hourly")
    assert "instant, daily, weekly" in response_text(slack_app.next_response())
    slack_app.command("unsubscribe 'SPEECH   recognition'")
    assert "Removed" in response_text(slack_app.next_response())
    assert store.subscriptions.get(mine.id) is None


def test_bad_ids_explain_usage(slack_app):
    for command in ("pause", "pause abc", "threshold 3", "digest x daily", "unsubscribe"):
        slack_app.command(command)
        assert "/papers" in response_text(slack_app.next_response())


def test_like_a_stored_paper(slack_app):
    paper_id = slack_app.services.store.papers.get_many(
        [slack_app.services.store.papers.embeddings("all-MiniLM-L6-v2")[0][0]]
    )
    known = next(iter(paper_id))
    slack_app.command(f"like <https://arxiv.org/abs/{known}v2>")
    assert "Subscribed" in response_text(slack_app.next_response())
    [subscription] = slack_app.services.store.subscriptions.for_owner(owner="U1")
    assert subscription.topic.startswith("like ")


def test_like_without_an_id(slack_app):
    slack_app.command("like https://example.org/paper")
    assert "can't find an arXiv id" in response_text(slack_app.next_response())


def test_saved_and_status(slack_app):
    slack_app.command("saved")
    assert "no saved papers" in response_text(slack_app.next_response())
    slack_app.services.store.saved.add(
        "U1", slack_app.services.store.papers.embeddings(slack_app.services.embedder.name)[0][0]
    )
    slack_app.command("saved")
    assert "arxiv.org/abs/" in response_text(slack_app.next_response())
    slack_app.command("status")
    text = response_text(slack_app.next_response())
    assert "Papers stored:" in text and "Last cycle" in text


@pytest.fixture
def slow_arxiv(slack_app):
    """The arXiv API answering `like` lookups after 4 seconds."""
    api = FeedServer()
    api.thread.start()
    api.routes["/api/query?id_list=astro-ph%2F0601001"] = [
        Reply(200, API_ENTRY.read_bytes(), delay=4.0)
    ]
    services = slack_app.services
    fetch = dataclasses.replace(services.settings.fetch, arxiv_api_url=api.url("/api/query"))
    services.settings = dataclasses.replace(services.settings, fetch=fetch)
    yield api
    api.httpd.shutdown()
    api.httpd.server_close()


def test_slow_lookups_leave_other_peoples_commands_answered(slack_app, slow_arxiv):
    """Six people's `like` wait on a slow arXiv; a seventh person's help is still
    acknowledged and answered (bolt acknowledges on a pool of five threads)."""
    likes = [
        threading.Thread(
            target=slack_app.command, args=("like astro-ph/0601001",), kwargs={"user": f"U{n}"}
        )
        for n in range(2, 8)
    ]
    for like in likes:
        like.start()
    wait_until(lambda: slow_arxiv.in_flight == 6, "six lookups in flight")

    assert slack_app.command("help", user="U9").status == 200

    replies = [response_text(slack_app.next_response()) for _ in range(7)]
    assert "/papers search" in replies[0]
    assert sum("Subscribed" in reply for reply in replies) == 6
    for like in likes:
        like.join()


def test_a_lookup_slower_than_its_deadline_is_answered_with_a_retry_hint(slack_app, slow_arxiv):
    slack_app.services.command_fetcher.total_timeout = 1.0

    slack_app.command("like astro-ph/0601001")

    assert "arXiv did not answer" in response_text(slack_app.next_response())
    assert slack_app.services.store.papers.get("astro-ph/0601001") is None
