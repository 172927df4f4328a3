"""Block Kit for the Slack app: escaping and Slack's limits hold for hostile papers."""

from dataclasses import replace

from bot.commands import SearchQuery
from bot.papers import Paper
from bot.storage import Subscription
from bot.subscriptions import NewSubscription, Preview, Reach
from bot.views import (
    add_subscription_modal,
    feedback_marked,
    feedback_noted,
    help_message,
    home_view,
    search_results,
    subscribed_message,
    subscription_list,
)

HOSTILE = Paper(
    id="2608.00001",
    title="<!channel> " + "Huge | title & more " * 400,
    abstract="<@U123> pinged. " + "word " * 3000,
    url="https://arxiv.org/abs/2608.00001",
    authors=["<!here>"] * 50,
    published="2026-08-21T00:00:00",
)


def texts(message):
    """The message without its button values, which Slack never shows as text."""
    return _shown(message)


def _shown(node) -> str:
    if isinstance(node, dict):
        return " ".join(_shown(v) for k, v in node.items() if k != "value")
    if isinstance(node, list):
        return " ".join(_shown(v) for v in node)
    return str(node)


def test_search_results_escape_and_fit():
    message = search_results(SearchQuery("<!channel>"), [HOSTILE] * 5, 0, True, "")
    rendered = texts(message)
    assert "<!channel>" not in rendered and "<!here>" not in rendered and "<@U123>" not in rendered
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= 3000
    assert "…" in rendered


def test_search_heading_quotes_the_query_so_a_star_cannot_break_bold():
    message = search_results(SearchQuery('NEAR( "x*'), [HOSTILE], 0, False, "")
    heading = message["blocks"][0]["text"]["text"]
    assert heading.startswith('Papers for “NEAR( "x*”')
    assert "*" not in heading.replace('"x*', "")


def test_help_lists_every_subcommand():
    rendered = texts(help_message())
    for word in (
        "search",
        "subscribe",
        "list",
        "unsubscribe",
        "pause",
        "resume",
        "threshold",
        "digest",
        "like",
        "saved",
        "status",
    ):
        assert f"/papers {word}" in rendered


def subscription(i, owner="U1", target="U1"):
    return Subscription(i, owner, target, "<b>topic</b> " * 100, None, "instant", False, None, "")


def test_list_and_home_stay_within_block_limits():
    many = [subscription(i) for i in range(200)]
    assert len(subscription_list(many, lambda s: 0.4)["blocks"]) <= 50
    home = home_view(many, [HOSTILE] * 30, [HOSTILE] * 30, lambda s: 0.4)
    assert len(home["blocks"]) <= 100
    assert "<b>" not in texts(home)
    for block in home["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def feedback_buttons_for(value: str) -> dict:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "paper_relevant",
                "text": {"type": "plain_text", "text": "Relevant"},
                "value": value,
            },
            {
                "type": "button",
                "action_id": "paper_not_relevant",
                "text": {"type": "plain_text", "text": "Not relevant"},
                "value": value,
            },
        ],
    }


LANGUAGE_MODELS = ("language models", "Its threshold is now 0.47, up from 0.42.")


def test_feedback_marks_the_choice():
    blocks = [feedback_buttons_for("v")]
    once = feedback_marked(blocks, "paper_not_relevant", "v", "U7", *LANGUAGE_MODELS)
    again = feedback_marked(once, "paper_relevant", "v", "U7", *LANGUAGE_MODELS)
    assert len(again) == 2 and (
        "<@U7> marked this relevant for *language models*. Its threshold is now 0.47, up from 0.42."
    ) in texts(again)
    labels = [e["text"]["text"] for e in again[0]["elements"]]
    assert labels == ["✓ Relevant", "Not relevant"]
    assert "<@U7>" in texts(again)
    hostile = feedback_marked(blocks, "paper_relevant", "v", "<!channel>", *LANGUAGE_MODELS)
    assert "<@" not in texts(hostile)


def test_feedback_marks_only_the_judged_paper_of_a_message_of_several():
    previews = [feedback_buttons_for(v) for v in ("a", "b", "c")]
    first = feedback_marked(previews, "paper_relevant", "b", "U7", *LANGUAGE_MODELS)
    both = feedback_marked(first, "paper_not_relevant", "c", "U7", *LANGUAGE_MODELS)
    labels = [[e["text"]["text"] for e in b["elements"]] for b in both if b["type"] == "actions"]
    assert labels == [
        ["Relevant", "Not relevant"],
        ["✓ Relevant", "Not relevant"],
        ["Relevant", "✓ Not relevant"],
    ]
    notes = [b for b in both if b["type"] == "context"]
    assert [n["block_id"] for n in notes] == [b["block_id"] for b in both[2::2]]
    assert len({n["block_id"] for n in notes}) == 2
    assert [texts(n).split(" marked this ")[1][:3] for n in notes] == ["rel", "not"]


def test_modal_has_the_four_fields():
    view = add_subscription_modal("C1")
    assert [b["block_id"] for b in view["blocks"]] == ["topic", "channel", "cadence", "strictness"]
    assert view["blocks"][1]["element"]["initial_conversation"] == "C1"


def test_the_list_says_what_a_subscription_asks_beyond_its_topic():
    mine = Subscription(
        7,
        "U1",
        "U1",
        "video understanding",
        None,
        "daily",
        False,
        None,
        "",
        required=["<b>video</b>"],
        categories=["cs.CV"],
        strictness="strict",
    )
    text = texts(subscription_list([mine], lambda s: 0.5))
    assert "· strict · requires '&lt;b&gt;video&lt;/b&gt;' · category cs.CV" in text


def test_a_noted_judgment_shows_the_title_escaped_once():
    paper = Paper(id="2608.00002", title="Q&A <retrieval> & drafts", abstract="", url="")
    text = feedback_noted(paper, False, "Its threshold is now 0.42.")["text"]
    assert text.startswith("Noted: Q&amp;A &lt;retrieval&gt; &amp; drafts is not relevant.")


def test_a_new_subscription_names_its_words_no_stored_paper_contains():
    typo = Subscription(8, "U1", "U1", "reinforcment lerning", None, "instant", False, None, "")
    new = NewSubscription(typo, 0.42, [], ["reinforcment", "lerning"], {}, NOTHING_STORED, [])
    assert (
        "No stored paper contains the words 'reinforcment' and 'lerning' yet, so they count "
        "for nothing until one does. If that is a misspelling, or not English, remove this "
        "subscription"
    ) in texts(subscribed_message(new))
    spelt = NewSubscription(typo, 0.42, [], [], {}, NOTHING_STORED, [])
    assert "No stored paper contains" not in texts(subscribed_message(spelt))


def test_a_new_subscription_says_which_of_its_previews_it_would_alert_on():
    mine = Subscription(8, "U1", "U1", "speech recognition", None, "instant", False, None, "")
    above = Paper(id="2608.00003", title="Streaming speech recognition", abstract="", url="")
    below = Paper(id="2608.00004", title="Speaker diarisation", abstract="", url="")
    previews = [Preview(above, True, 0.61), Preview(below, False, 0.3)]
    new = NewSubscription(mine, 0.42, previews, [], {}, Reach(1, 2, 10, 10, True, None), [])
    shown = texts(subscribed_message(new))
    first, second = shown.index("Streaming speech"), shown.index("Speaker diarisation")
    assert shown.index("It would alert on this one.") in range(first, second)
    assert shown.index("It would not alert on this one.") > second


NOTHING_STORED = Reach(0, 0, 10, 10, True, None)


def test_a_new_subscription_says_how_many_stored_papers_it_would_have_alerted_on():
    mine = Subscription(8, "U1", "U1", "LLM agents", None, "instant", False, None, "")

    def shown(reach: Reach) -> str:
        return texts(subscribed_message(NewSubscription(mine, 0.42, [], [], {}, reach, [])))

    few = shown(Reach(6, 1098, 10, 10, True, None))
    assert "Of the 1,098 papers stored on the latest day, it would have alerted on 6." in few
    assert "more matched today" not in few
    flood = shown(Reach(102, 1098, 10, 10, True, (0.89, 9)))
    assert (
        "it would have alerted on 102. At most 10 alerts a day are posted to you; the rest are "
        'offered in one "N more matched today" message. With a threshold of 0.89 it would have '
        "alerted on 9: `/papers threshold 8 0.89` sets it."
    ) in flood
    channel = replace(mine, target="C1")
    new = NewSubscription(channel, 0.42, [], [], {}, Reach(40, 1098, 10, 15, True, None), [])
    assert (
        "At most 10 alerts a cycle, 15 a day, are posted to the channel; the rest are offered in "
        'one "N more matched today" message.'
    ) in texts(subscribed_message(new))
    assert (
        "Of the 5 papers stored on the latest day, it would have alerted on none: it waits for "
        "papers closer to its topic. If papers like its previews are what you want, judging "
        "them relevant makes it ask less."
    ) in shown(Reach(0, 5, 10, 10, True, None))
    assert "papers stored on" not in shown(NOTHING_STORED)


def test_a_new_subscription_names_another_delivering_its_topic_there():
    mine = Subscription(9, "U1", "U1", "Language models", None, "daily", False, None, "")
    other = Subscription(4, "U1", "U1", "language <models>", 0.73, "instant", False, None, "")
    new = NewSubscription(mine, 0.42, [], [], {}, NOTHING_STORED, [other])
    assert (
        "Subscription #4 already delivers this topic here, typed there as "
        "'language &lt;models&gt;', with other settings: if one is enough, "
        "`/papers unsubscribe 4` removes it."
    ) in texts(subscribed_message(new))


def test_a_new_subscription_says_what_its_misspelt_words_were_read_as():
    spelt = Subscription(8, "U1", "U1", "reinforcement learning", None, "instant", False, None, "")
    respelled = {"reinforcment": "reinforcement", "lerning": "learning"}
    new = NewSubscription(spelt, 0.42, [], [], respelled, NOTHING_STORED, [])
    assert (
        "No stored paper contains the words 'reinforcment' and 'lerning': read as "
        "'reinforcement' and 'learning'."
    ) in texts(subscribed_message(new))


def test_search_results_say_what_was_said_of_the_query_s_spelling():
    query = SearchQuery("lerning from human <feedbak>")
    found = texts(search_results(query, [HOSTILE], 0, False, "No stored paper has '<feedbak>'."))
    assert "No stored paper has '&lt;feedbak&gt;'." in found
    nothing = search_results(query, [], 0, False, "Check 'lerning'.")["text"]
    assert nothing.endswith("Try fewer words or drop a filter. Check 'lerning'.")
    assert "No stored paper" not in texts(search_results(query, [HOSTILE], 0, False, ""))
