"""A whole cycle on real parts: a feed over HTTP, the real model, the database (SQLite and
PostgreSQL), a fake Slack."""

import json
import shutil
from pathlib import Path

import pytest

from bot.deliver import make_slack_client
from bot.services import build_services
from bot.settings import FeedSettings
from bot.subscriptions import subscribe

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
CHANNEL_ITEM_FEED = """<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
     version="2.0"><channel><title>cs.CL updates on arXiv.org</title>
<link>http://rss.arxiv.org/rss/cs.CL</link><description>test</description>
<item>
  <title>&lt;!channel&gt; Sparse attention &amp; KV cache compression for long-context LLMs</title>
  <link>https://arxiv.org/abs/2608.99999</link>
  <description>arXiv:2608.99999v1 Announce Type: new
Abstract: We propose a sparse attention method that compresses the KV cache of large language
models for long-context inference, cutting memory by 4x.</description>
  <guid isPermaLink="false">oai:arXiv.org:2608.99999v1</guid>
  <category>cs.CL</category>
  <pubDate>Fri, 21 Aug 2026 00:00:00 -0400</pubDate>
  <arxiv:announce_type>new</arxiv:announce_type>
  <dc:creator>Ada Lovelace, Alan Turing</dc:creator>
</item></channel></rss>
"""


def all_text(message: dict) -> str:
    return json.dumps(message["blocks"]) + message["text"]


def test_cycle_posts_matching_alerts_once(settings, embedder, feed_server, slack):
    shutil.copy(FEEDS / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml", feed_server.root)
    (feed_server.root / "channel.xml").write_text(CHANNEL_ITEM_FEED)
    feeds = [
        FeedSettings(url=feed_server.url + "arxiv_rss2_cs.CL_2026-08-21.xml"),
        FeedSettings(url=feed_server.url + "channel.xml"),
    ]
    client = make_slack_client("xoxb-test", slack.base_url)
    services = build_services(settings, slack=client, embedder=embedder)
    subscribe(
        services.store,
        embedder,
        topic="KV cache compression and sparse attention for long-context LLMs",
        owner="U1",
        target="C1",
    )

    report = services.pipeline.run_cycle(feeds)

    posted = slack.calls_to("chat.postMessage")
    assert report.papers_new == 110
    assert report.sent == len(posted) > 0
    assert all(message["channel"] == "C1" for message in posted)
    assert all(message["unfurl_links"] is False for message in posted)
    titles = [message["text"] for message in posted]
    assert any("KV Cache" in t or "KV cache" in t for t in titles)
    channel_alert = next(m for m in posted if "2608.99999" in json.dumps(m["blocks"]))
    assert "<!channel>" not in all_text(channel_alert)
    assert "&lt;!channel&gt;" in all_text(channel_alert)
    actions = next(b for b in channel_alert["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "paper_relevant",
        "paper_not_relevant",
        "paper_save",
        "paper_more_like",
        "paper_mute_topic",
    ]
    assert channel_alert["metadata"]["event_payload"]["paper_id"] == "2608.99999"
    stored = {d.paper_id: d for d in services.store.alerts.all("sent")}
    assert stored["2608.99999"].slack_ts

    second = services.pipeline.run_cycle(feeds)

    assert second.papers_new == 0 and second.sent == 0
    assert len(slack.calls_to("chat.postMessage")) == len(posted)


def test_rate_limited_post_is_retried_and_sent_once(settings, embedder, feed_server, slack):
    (feed_server.root / "channel.xml").write_text(CHANNEL_ITEM_FEED)
    client = make_slack_client("xoxb-test", slack.base_url)
    services = build_services(settings, slack=client, embedder=embedder)
    subscribe(services.store, embedder, topic="KV cache compression", owner="U1", target="U1")
    slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)

    report = services.pipeline.run_cycle([FeedSettings(url=feed_server.url + "channel.xml")])

    assert report.sent == 1
    posted = slack.calls_to("chat.postMessage")
    assert len(posted) == 1 and posted[0]["channel"] == "DU1"
