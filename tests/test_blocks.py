"""Block Kit rendering: escaping, Slack's limits, buttons, and the terminal view."""

from __future__ import annotations

import json

import pytest

from bot.blocks import (
    DigestEntry,
    DigestGroup,
    escape,
    render_alert,
    render_digest,
    render_for_terminal,
    render_more_matches,
    short_authors,
    truncate,
)
from bot.match import Match
from bot.papers import Paper

HOSTILE_TITLE = "<!channel> & <@U123> | trick>"


def make_paper(**overrides) -> Paper:
    fields = {
        "id": "2608.19199",
        "title": "Sparse Attention for Long Context",
        "abstract": "We study sparse attention.",
        "url": "https://arxiv.org/abs/2608.19199",
        "authors": [
            "Ada Lovelace",
            "Alan Turing",
            "Grace Hopper",
            "Edsger Dijkstra",
            "Barbara Liskov",
        ],
        "categories": ["cs.LG", "cs.CL"],
        "published": "2026-08-20T00:00:00Z",
    }
    fields.update(overrides)
    return Paper(**fields)


MATCHES = [Match(subscription_id=7, topic="long context <models>", score=0.5234)]


def texts(message: dict) -> list[str]:
    """Every mrkdwn/plain text in the message, fallback included."""
    found = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            found.append(element["text"]["text"] if block["type"] == "actions" else element["text"])
    return found


def test_escape_order():
    assert escape("a & <b> &lt;") == "a &amp; &lt;b&gt; &amp;lt;"


def test_truncate_cuts_at_a_word():
    assert truncate("short", 10) == "short"
    cut = truncate("the quick brown fox jumps", 12)
    assert cut == "the quick…" and len(cut) <= 12
    assert truncate("x" * 50, 10) == "x" * 9 + "…"


def test_short_authors():
    assert short_authors(["A", "B", "C", "D", "E"]) == "A, B, C et al."
    assert short_authors(["A", "B", "C", "D"]) == "A, B, C, D"
    assert short_authors([]) == ""


def test_hostile_title_is_escaped_everywhere():
    message = render_alert(make_paper(title=HOSTILE_TITLE), MATCHES, "A summary & more.")

    raw = json.dumps(message, ensure_ascii=False)
    assert "<!channel>" not in raw and "<@U123>" not in raw
    title = message["blocks"][0]["text"]["text"]
    # One link, whose text cannot end early at the title's `|` or `>`.
    assert title.startswith("*<https://arxiv.org/abs/2608.19199|")
    assert title.count("<") == 1 and title.count(">") == 1 and title.count("|") == 1
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in title
    assert message["text"].startswith("New paper: &lt;!channel&gt; &amp;")
    assert "&lt;models&gt;" in raw
    for text in texts(message):
        assert_safe_mrkdwn(text)


def test_link_url_cannot_break_out():
    paper = make_paper(url="https://example.org/a?x=1&y=<2>|evil")

    title = render_alert(paper, MATCHES, "s")["blocks"][0]["text"]["text"]

    assert title.startswith("*<https://example.org/a?x=1&amp;y=%3C2%3E%7Cevil|")
    assert_safe_mrkdwn(title)


# Feed links that are not web addresses: inside `<...|...>` each would ping, link a
# channel or run a script.
HOSTILE_LINKS = [
    "!channel",
    "@U0ADMIN",
    "!subteam^S0X",
    "#C0GENERAL",
    "javascript:alert(1)",
    "  !here",
    "mailto:a@b.c",
    "https://",
    "//example.org/x",
]


def assert_safe_mrkdwn(text: str) -> None:
    """Every `<` opens an http(s) link, and every `&` starts one of the three entities."""
    for start in (i for i, char in enumerate(text) if char == "<"):
        assert text.startswith(("<https://", "<http://"), start), text
    for start in (i for i, char in enumerate(text) if char == "&"):
        assert text.startswith(("&amp;", "&lt;", "&gt;"), start), text


@pytest.mark.parametrize("url", HOSTILE_LINKS)
def test_a_link_that_is_not_a_web_address_is_shown_as_text(url):
    paper = make_paper(url=url, title="A & B")
    digest = render_digest("Digest", [DigestGroup("t", [DigestEntry(paper, MATCHES, "")])])

    alert_title = render_alert(paper, MATCHES, "s")["blocks"][0]["text"]["text"]
    digest_entry = digest[0]["blocks"][-1]["text"]["text"]

    assert alert_title == "*A &amp; B*"
    assert digest_entry.startswith("*A &amp; B*\n")
    for text in (alert_title, digest_entry):
        assert "<" not in text and ">" not in text


def test_long_summary_and_title_fit_slack_limits():
    words = "attention " * 2000 + "end"
    message = render_alert(make_paper(title="Title " * 200), MATCHES * 60, words)

    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    summary = message["blocks"][2]["text"]["text"]
    assert summary.endswith("attention…") and len(summary) < len(words)
    assert message["text"].endswith("…") and len(message["text"]) <= 300


def test_escaping_never_pushes_text_over_its_limit():
    summary = "&" * 5000
    text = render_alert(make_paper(), MATCHES, summary)["blocks"][2]["text"]["text"]

    assert len(text) <= 3000 and text.endswith("&amp;…")


def test_byline_and_matches():
    message = render_alert(make_paper(), MATCHES, "s")

    byline = message["blocks"][1]["elements"][0]["text"]
    assert byline == "Ada Lovelace, Alan Turing, Grace Hopper et al. · cs.LG, cs.CL · 2026-08-20"
    matched = message["blocks"][3]["elements"][0]["text"]
    assert matched == "Matched *long context &lt;models&gt;*"


def test_explanation_shows_band_and_evidence_not_a_number():
    match = Match(
        subscription_id=7,
        topic="sparse <attention>",
        score=0.8123,
        band="strong",
        reasons=["topic", "like: <!channel> paper", "keywords: attention, sparse"],
        threshold=0.45,
    )
    line = render_alert(make_paper(), [match], "s")["blocks"][3]["elements"][0]["text"]
    assert line == (
        "Matched *sparse &lt;attention&gt;* · strong · like: &lt;!channel&gt; paper"
        " · keywords: attention, sparse"
    )
    assert "0.81" not in line


def digest_groups(papers: int, groups: int = 3) -> list[DigestGroup]:
    match = Match(subscription_id=1, topic="topic", score=0.7, band="good", reasons=["topic"])
    return [
        DigestGroup(
            topic=f"topic {g}",
            entries=[
                DigestEntry(make_paper(id=f"2608.{g}{i:04d}"), [match], "A summary. " * 20)
                for i in range(papers)
            ],
        )
        for g in range(groups)
    ]


def test_short_digest_is_one_message_grouped_by_subscription():
    messages = render_digest("Your daily digest, 2026-11-26", digest_groups(2))
    assert len(messages) == 1
    blocks = messages[0]["blocks"]
    assert blocks[0]["type"] == "header"
    headings = [
        b["text"]["text"]
        for b in blocks
        if b["type"] == "section" and b["text"]["text"].startswith("*topic")
    ]
    assert headings == ["*topic 0*", "*topic 1*", "*topic 2*"]
    assert messages[0]["text"] == "Your daily digest, 2026-11-26: 6 papers"


def test_digest_topic_headings_are_escaped():
    group = DigestGroup("<!channel> & <@U1>", [DigestEntry(make_paper(), MATCHES, "")])

    blocks = render_digest("Digest", [group])[0]["blocks"]

    heading = next(b for b in blocks if b["type"] == "section")
    assert heading["text"]["text"] == "*&lt;!channel&gt; &amp; &lt;@U1&gt;*"


def test_long_digest_is_split_within_slack_limits():
    messages = render_digest("Your daily digest", digest_groups(30))
    assert len(messages) > 1
    papers = sum(1 for m in messages for b in m["blocks"] if "2608." in json.dumps(b))
    assert papers == 90
    for message in messages:
        assert len(message["blocks"]) <= 50
        assert len(json.dumps(message["blocks"])) < 12_000
        assert message["text"]


def test_more_matches_offer_has_a_button_that_says_what_one_press_shows():
    message = render_more_matches(4, 10, "2026-11-26", "today")
    assert message["text"].startswith("4 more papers matched")
    button = message["blocks"][0]["accessory"]
    assert (button["action_id"], button["text"]["text"]) == ("show_more_matches", "Show 4 more")
    assert json.loads(button["value"]) == {"day": "2026-11-26"}
    many = render_more_matches(50, 10, "2026-11-26", "today")
    assert many["text"].startswith("50 more papers matched")
    assert many["blocks"][0]["accessory"]["text"]["text"] == "Show 10 more"


def test_buttons_have_stable_ids_and_values():
    matches = [Match(7, "a", 0.6), Match(9, "b", 0.4)]
    actions = render_alert(make_paper(), matches, "s")["blocks"][-1]

    assert actions["type"] == "actions"
    assert "2608.19199" in actions["block_id"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "paper_relevant",
        "paper_not_relevant",
        "paper_save",
        "paper_more_like",
        "paper_mute_topic",
    ]
    for button in actions["elements"]:
        assert json.loads(button["value"]) == {"paper": "2608.19199", "sub": 7}
        assert len(button["value"]) <= 2000


def test_long_url_id_gets_a_short_block_id():
    paper = make_paper(id="url:https://example.org/" + "a" * 400)

    actions = render_alert(paper, MATCHES, "s")["blocks"][-1]

    assert len(actions["block_id"]) <= 255
    assert json.loads(actions["elements"][0]["value"])["paper"] == paper.id


def test_an_id_too_long_for_a_button_leaves_the_buttons_off():
    paper = make_paper(id="url:https://example.org/" + "a" * 2100)

    message = render_alert(paper, MATCHES, "s")

    assert [b["type"] for b in message["blocks"]] == ["section", "context", "section", "context"]


def test_a_digest_entry_with_many_long_matches_fits_a_section():
    long_topic = "graph neural networks for " + "molecular property prediction " * 10
    matches = [
        Match(i, f"{long_topic} {i}", 0.6, band="strong", reasons=["keywords: " + "w " * 200])
        for i in range(7)
    ]
    paper = make_paper(title="Title word " * 60, url="https://example.org/" + "p" * 1900)
    entry = DigestEntry(paper, matches, "summary " * 100)

    messages = render_digest("Digest", [DigestGroup(long_topic, [entry])])

    section = messages[0]["blocks"][-1]["text"]["text"]
    assert len(section) <= 3000
    assert section.startswith("*<https://example.org/ppp")
    assert section.count("Matched *") >= 1
    assert "more of your topics" in section


def test_terminal_rendering_reads_like_slack():
    message = render_alert(make_paper(title=HOSTILE_TITLE), MATCHES, "A summary & more. " * 20)

    shown = render_for_terminal(message, console_width=60)

    assert "<!channel> & <@U123>" in shown
    assert "(https://arxiv.org/abs/2608.19199)" in shown
    assert "[ Relevant ] [ Not relevant ] [ Save ]" in shown
    # The button row wraps at the console width like any other line.
    assert "[ Save ] [ More like this ] [ Mute this topic ]" in " ".join(shown.split())
    assert "Matched *long context <models>*" in shown
    assert "&lt;" not in shown and "&amp;" not in shown and '"blocks"' not in shown
    assert all(len(line) <= 60 for line in shown.splitlines() if "http" not in line)


def test_terminal_rendering_without_blocks_uses_text():
    assert (
        render_for_terminal({"text": "a &lt;b&gt; <https://x.org|link>"})
        == "a <b> link (https://x.org)"
    )


def test_alert_is_accepted_by_slack_api():
    """The rendered message goes through chat.postMessage as it is."""
    from slack_sdk import WebClient

    from tests.fake_slack import FakeSlack

    message = render_alert(make_paper(title=HOSTILE_TITLE), MATCHES * 60, "word " * 3000)
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        client.chat_postMessage(channel="C1", **message)

        assert fake.calls_to("chat.postMessage")[0]["blocks"] == message["blocks"]


def test_a_revision_of_an_older_paper_says_so_not_new_paper():
    revised = make_paper(announce_type="replace", version=3)

    message = render_alert(revised, MATCHES, "")

    assert message["text"] == "Revised paper (v3): Sparse Attention for Long Context"
    assert any(text.endswith("cs.LG, cs.CL · v3, revised 2026-08-20") for text in texts(message))
    new = render_alert(make_paper(announce_type="new", version=1), MATCHES, "")
    assert new["text"].startswith("New paper: ")
    assert not any("revised" in text for text in texts(new))
