"""The /papers parser: forgiving about case, spaces and quotes, clear about mistakes."""

from datetime import UTC, datetime

import pytest

from bot.commands import MAX_QUERY, parse

TODAY = datetime(2026, 8, 21, tzinfo=UTC)


@pytest.mark.parametrize("text", [None, "", "   ", "help", "HELP", "?"])
def test_help(text):
    assert parse(text).name == "help"


def test_unknown_word_gives_help_naming_it():
    command = parse("frobnicate things")
    assert (command.name, command.unknown) == ("help", "frobnicate")


def test_search_with_filters():
    command = parse('  Search   "sparse attention"  since:7d cat:cs.CL author:"Yann LeCun" ', TODAY)
    assert command.name == "search" and command.error is None
    assert command.query.text == "sparse attention"
    assert command.query.since == "2026-08-14"
    assert command.query.categories == ("cs.CL",)
    assert command.query.authors == ("Yann LeCun",)


@pytest.mark.parametrize("since, expected", [("2w", "2026-08-07"), ("2026-01-31", "2026-01-31")])
def test_since_forms(since, expected):
    assert parse(f"search x since:{since}", TODAY).query.since == expected


def test_bad_since_and_empty_query_explain():
    assert "since:7d" in parse("search x since:soon", TODAY).error
    assert "since:7d" in parse("search x since:9999y", TODAY).error
    assert "Tell me what to search" in parse("search cat:cs.CL", TODAY).error
    assert "Tell me what to search" in parse("search the and of", TODAY).error


def test_long_query_is_cut_at_a_word():
    query = parse("search " + "attention " * 600, TODAY).query
    assert len(query.text) <= MAX_QUERY and query.text.endswith("attention") and query.shortened


@pytest.mark.parametrize(
    "text, channel, topic",
    [
        ("subscribe diffusion models", None, "diffusion models"),
        ("SUBSCRIBE  “video diffusion”", None, "video diffusion"),
        ("subscribe here 'protein folding'", "here", "protein folding"),
        ("subscribe <#C0123|vision> video", "C0123", "video"),
        ("subscribe #Vision-Papers video", "#vision-papers", "video"),
    ],
)
def test_subscribe_forms(text, channel, topic):
    command = parse(text)
    assert (command.name, command.channel, command.text) == ("subscribe", channel, topic)


def test_subscribe_without_topic():
    assert "topic" in parse("subscribe here").error


@pytest.mark.parametrize("text, wanted", [("pause 12", 12), ("resume #7", 7), ("unsub 3", 3)])
def test_ids(text, wanted):
    assert parse(text).subscription_id == wanted


def test_unsubscribe_by_topic_and_values():
    assert parse('unsubscribe "Speech  Recognition"').text == "Speech Recognition"
    command = parse("threshold 4 STRICTER")
    assert (command.subscription_id, command.value) == (4, "stricter")
    assert parse("digest 4").error and parse("threshold x 0.5").error


def test_like_unwraps_slack_links():
    assert parse("like <https://arxiv.org/abs/2608.19199v2|arxiv>").text == (
        "https://arxiv.org/abs/2608.19199v2"
    )
    assert parse("like").error


@pytest.mark.parametrize("name", ["list", "saved"])
def test_a_page_number_is_plain_digits_and_not_absurd(name):
    assert parse(f"{name} 2").page == 2
    for page in ("²", "0", "-1", "99999999999999999999999", "two"):
        assert parse(f"{name} {page}").error == (
            f"Say `/papers {name}`, or `/papers {name} 2` for page 2."
        )


def test_text_slack_escaped_reads_as_typed():
    command = parse("subscribe <#C123|ml> speech &amp; audio &lt;models&gt;")
    assert (command.text, command.channel) == ("speech & audio <models>", "C123")
    # "&lt;" typed by the person comes as "&amp;lt;": it stays "&lt;".
    assert parse("search R&amp;amp;D &amp;lt;b&amp;gt;").text == "R&amp;D &lt;b&gt;"
