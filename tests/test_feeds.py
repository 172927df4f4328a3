"""Ingestion in the real world: faults, announce types, versions, health, runtime feeds.

Feeds are served by a local scripted HTTP server; papers go into a real SQLite file and are
matched with the real model; alerts go to the local fake Slack.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.deliver import make_slack_client
from bot.feeds import (
    FeedError,
    active_feeds,
    add_feed,
    describe,
    feed_health_warnings,
    health_fields,
    remove_feed,
)
from bot.fetch import Fetcher
from bot.services import build_services
from bot.settings import FeedSettings
from bot.storage import Store
from bot.subscriptions import subscribe
from tests.feed_server import FeedServer, Reply

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
UA = "paperbot-test/0.1 (+https://example.org/paperbot)"
# 2026-08-17 is a Monday.
MONDAY = datetime(2026, 8, 17, 10, 0, tzinfo=UTC)

KV_ABSTRACT = (
    "We propose a sparse attention method that compresses the KV cache of large language "
    "models for long-context inference, cutting memory by 4x."
)
TAGGED_ABSTRACT = (
    "Agents read <user> turns and emit <CALL> tokens; each edit is a triple "
    "<item path, feature path, value> & nothing is lost, as in $O(n^{2})$."
)


def item(
    ident: str,
    version: int = 1,
    kind: str = "new",
    title: str = "A paper",
    abstract: str = "An abstract about something.",
    categories: tuple[str, ...] = ("cs.CL",),
) -> str:
    """One rss.arxiv.org RSS 2.0 item, escaped as arXiv escapes it."""
    description = f"arXiv:{ident}v{version} Announce Type: {kind} \nAbstract: {abstract}"
    tags = "".join(f"<category>{c}</category>" for c in categories)
    return (
        f"<item><title>{escape(title)}</title><link>https://arxiv.org/abs/{ident}</link>"
        f"<description>{escape(description)}</description>"
        f'<guid isPermaLink="false">oai:arXiv.org:{ident}v{version}</guid>{tags}'
        f"<pubDate>Mon, 17 Aug 2026 00:00:00 -0400</pubDate>"
        f"<arxiv:announce_type>{kind}</arxiv:announce_type>"
        f"<dc:creator>Ada Lovelace (Analytical Engines, Ltd.), Alan Turing</dc:creator></item>"
    )


def listing(*items: str) -> bytes:
    """An arXiv listing feed holding these items."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
        "<title>cs.CL updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.CL</link>"
        "<description>cs.CL updates</description>" + "".join(items) + "</channel></rss>"
    ).encode()


@pytest.fixture
def server():
    srv = FeedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def quick_fetcher(sleeps: list[float], **kwargs) -> Fetcher:
    """A fetcher that records its waits instead of sleeping, with no per-host spacing."""
    kwargs.setdefault("max_attempts", 3)
    return Fetcher(
        user_agent=UA,
        sleep=sleeps.append,
        min_interval_by_host={},
        rng=random.Random(1),
        **kwargs,
    )


def stored_ids(store: Store) -> list[str]:
    return [row[0] for row in store.database.tuples("select id from papers order by id")]


# -- faults: the cycle goes on, health says what happened ---------------------------------


def test_cycle_survives_every_kind_of_fault(services, server):
    shared = item("2608.10001", title="Shared paper")
    full = listing(item("2608.20001"), item("2608.20002"), item("2608.20003"))
    truncated = full[: full.index(b"oai:arXiv.org:2608.20003")]

    def conditional(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == '"e1"':
            return Reply(304)
        return Reply(200, listing(shared), {"ETag": '"e1"'})

    server.routes = {
        "/etag": conditional,
        "/busy": [
            Reply(429, b"slow down", {"Retry-After": "7"}),
            Reply(200, listing(item("2608.10001", kind="cross"), item("2608.30001"))),
        ],
        "/broken": [Reply(500, b"oops")],
        "/slow": [Reply(200, listing(item("2608.40001")), delay=1.5)],
        "/html": [Reply(200, b"<!DOCTYPE html><html><body>Sign in</body></html>")],
        "/truncated": [
            Reply(
                200, truncated, {"ETag": '"t1"', "Last-Modified": "Mon, 17 Aug 2026 04:00:00 GMT"}
            ),
            Reply(200, full, {"ETag": '"t2"', "Last-Modified": "Mon, 17 Aug 2026 05:00:00 GMT"}),
        ],
    }
    names = ["etag", "busy", "broken", "slow", "html", "truncated"]
    feeds = [FeedSettings(url=server.url(f"/{n}"), name=n) for n in names]
    sleeps: list[float] = []
    services.pipeline.fetcher = quick_fetcher(sleeps, read_timeout=0.3)

    first = services.pipeline.run_cycle(feeds)

    statuses = {f.name: f.status for f in first.feeds}
    assert statuses == {
        "etag": "ok",
        "busy": "ok",
        "broken": "http_error",
        "slow": "network_error",
        "html": "parse_error",
        "truncated": "ok",
    }
    assert 7.0 in sleeps  # Retry-After was honoured
    errors = {f.name: f.error for f in first.feeds}
    assert errors["broken"] == "HTTP 500 Internal Server Error"
    assert errors["slow"].startswith("timed out reading")
    assert errors["html"] == "not a feed (an HTML page)"
    assert errors["truncated"].startswith("malformed XML, kept 2 complete items")
    assert stored_ids(services.store) == [
        "2608.10001",
        "2608.20001",
        "2608.20002",
        "2608.30001",
    ]
    rows = {row["name"]: row for row in services.store.feeds.all()}
    assert {name: row["last_status"] for name, row in rows.items()} == statuses
    assert rows["broken"]["consecutive_errors"] == 1
    # The broken document's validators are not kept, so the whole feed is read again.
    assert (rows["truncated"]["etag"], rows["truncated"]["last_modified"]) == (None, None)
    assert describe(rows["truncated"]) == (f"ok, 2 items; read with damage: {errors['truncated']}")
    warnings = feed_health_warnings(services.store, feeds)
    assert len(warnings) == 3
    assert any(w.startswith("broken is failing since") and "HTTP 500" in w for w in warnings)

    second = services.pipeline.run_cycle(feeds)

    statuses = {f.name: f.status for f in second.feeds}
    assert statuses["etag"] == "not_modified"
    assert statuses["truncated"] == "ok"
    assert second.papers_new == 1
    assert stored_ids(services.store) == [
        "2608.10001",
        "2608.20001",
        "2608.20002",
        "2608.20003",
        "2608.30001",
    ]
    rows = {row["name"]: row for row in services.store.feeds.all()}
    assert rows["broken"]["consecutive_errors"] == 2
    assert rows["etag"]["last_items"] == 1  # a 304 changes nothing
    assert describe(rows["truncated"]) == "ok, 3 items"
    conditional_requests = [h for path, h in server.requests if path == "/etag"]
    assert conditional_requests[-1]["if-none-match"] == '"e1"'
    # The whole document was asked for again; read in full, its validators are kept.
    again = [h for path, h in server.requests if path == "/truncated"][-1]
    assert "if-none-match" not in again and "if-modified-since" not in again
    assert rows["truncated"]["etag"] == '"t2"'


def test_arxiv_api_error_document_is_reported_with_its_message(services, server):
    error_doc = (
        FIXTURES / "arxiv_api_atom" / "arxiv_api_2026_error_http400_bad_id.xml"
    ).read_bytes()
    server.routes["/api/query"] = [Reply(400, error_doc)]
    services.pipeline.fetcher = quick_fetcher([])

    report = services.pipeline.ingest_feed(FeedSettings(url=server.url("/api/query")))

    assert report.status == "http_error"
    assert report.error.startswith("HTTP 400 Bad Request: arXiv API error: ")
    assert "incorrect id format" in report.error.lower()


def test_tag_like_text_in_an_abstract_is_stored_verbatim(services, server):
    server.routes["/feed"] = [Reply(200, listing(item("2608.50001", abstract=TAGGED_ABSTRACT)))]
    services.pipeline.fetcher = quick_fetcher([])

    services.pipeline.ingest_feed(FeedSettings(url=server.url("/feed")))

    paper = services.store.papers.get("2608.50001")
    assert paper.abstract == TAGGED_ABSTRACT
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert [i for i, _ in services.store.fulltext.search(["feature", "path"], 5)] == ["2608.50001"]


# -- announce types and versions ----------------------------------------------------------


def test_cross_lists_are_new_unless_the_feed_leaves_them_out(services, server):
    day = listing(item("2608.60001"), item("2608.60002", kind="cross", categories=("cs.LG",)))
    server.routes = {"/with": [Reply(200, day)], "/without": [Reply(200, day)]}
    services.pipeline.fetcher = quick_fetcher([])

    without = services.pipeline.ingest_feed(
        FeedSettings(url=server.url("/without"), include_cross_lists=False)
    )
    assert (without.items, without.new) == (2, 1)
    assert stored_ids(services.store) == ["2608.60001"]

    with_cross = services.pipeline.ingest_feed(FeedSettings(url=server.url("/with")))
    assert (with_cross.items, with_cross.new) == (2, 1)
    assert stored_ids(services.store) == ["2608.60001", "2608.60002"]


def test_items_past_the_per_feed_cap_are_left_out_and_reported(services, server):
    server.routes["/huge"] = [Reply(200, listing(*(item(f"2608.{n:05d}") for n in range(1, 8))))]
    services.pipeline.fetcher = quick_fetcher([])
    services.pipeline.max_items_per_feed = 5

    report = services.pipeline.ingest_feed(FeedSettings(url=server.url("/huge"), name="huge"))

    assert (report.status, report.items, report.new) == ("ok", 7, 5)
    assert len(stored_ids(services.store)) == 5
    row = services.store.feeds.get(server.url("/huge"))
    assert describe(row) == (
        "ok, 7 items; read with damage: 7 items, over the limit of 5 "
        "(ingest.max_items_per_feed): the rest were left out"
    )


def journal(guid: str, title: str) -> bytes:
    """A plain RSS feed with one item whose guid and link point at arXiv."""
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>A journal</title>"
        f"<item><title>{escape(title)}</title><guid>{guid}</guid><link>{guid}</link>"
        "<description>Something else entirely.</description></item></channel></rss>"
    ).encode()


def test_only_arxiv_speaks_for_an_arxiv_id(services, server):
    arxiv_title = "Sparse attention for long contexts"
    server.routes = {
        "/arxiv": [Reply(200, listing(item("2608.19199", title=arxiv_title)))],
        "/journal": [
            Reply(200, journal("https://arxiv.org/abs/2608.19199v9", "<!channel> HIJACKED"))
        ],
        "/journal-first": [Reply(200, journal("https://arxiv.org/abs/2608.19200v9", "Early copy"))],
        "/arxiv-later": [Reply(200, listing(item("2608.19200", title="arXiv's own title")))],
    }
    services.pipeline.fetcher = quick_fetcher([])
    ingest = services.pipeline.ingest_feed

    ingest(FeedSettings(url=server.url("/arxiv")))
    hijack = ingest(FeedSettings(url=server.url("/journal"), kind="rss"))

    paper = services.store.papers.get("2608.19199")
    assert (paper.title, paper.version) == (arxiv_title, 1)
    assert (hijack.new, hijack.updated) == (0, 0)

    # A journal's arXiv link seen first is a reference; arXiv's record then replaces it.
    assert ingest(FeedSettings(url=server.url("/journal-first"), kind="rss")).new == 1
    later = ingest(FeedSettings(url=server.url("/arxiv-later")))
    assert (later.new, later.updated) == (0, 1)
    paper = services.store.papers.get("2608.19200")
    assert (paper.title, paper.version) == ("arXiv's own title", 1)


def alerted_services(settings, embedder, slack, notify_updates: bool):
    settings = dataclasses.replace(
        settings, ingest=dataclasses.replace(settings.ingest, notify_updates=notify_updates)
    )
    client = make_slack_client("xoxb-test", slack.base_url)
    services = build_services(settings, slack=client, embedder=embedder)
    services.pipeline.fetcher = quick_fetcher([])
    subscribe(
        services.store,
        embedder,
        topic="KV cache compression and sparse attention for long-context LLMs",
        owner="U1",
        target="C1",
    )
    return services


def kv_days(server) -> list[FeedSettings]:
    """Day one announces the paper (v1); day two replaces it (v2) with a new abstract."""
    title = "Sparse attention & KV cache compression for long-context LLMs"
    server.routes["/day"] = [
        Reply(200, listing(item("2608.70001", title=title, abstract=KV_ABSTRACT))),
        Reply(
            200,
            listing(
                item(
                    "2608.70001",
                    version=2,
                    kind="replace",
                    title=title,
                    abstract=KV_ABSTRACT + " We add experiments on 1M-token contexts.",
                )
            ),
        ),
    ]
    return [FeedSettings(url=server.url("/day"), name="cs.CL")]


def test_new_version_of_an_alerted_paper_posts_nothing(settings, embedder, server, slack):
    services = alerted_services(settings, embedder, slack, notify_updates=False)
    feeds = kv_days(server)

    first = services.pipeline.run_cycle(feeds)
    assert first.sent == 1
    assert len(slack.calls_to("chat.postMessage")) == 1

    second = services.pipeline.run_cycle(feeds)

    assert (second.papers_new, second.papers_updated, second.sent) == (0, 1, 0)
    assert len(slack.calls_to("chat.postMessage")) == 1
    paper = services.store.papers.get("2608.70001")
    assert paper.version == 2
    assert paper.abstract.endswith("We add experiments on 1M-token contexts.")
    assert paper.updated == "2026-08-17T04:00:00+00:00"
    assert services.store.notices.update_notices() == []


def test_new_version_of_a_paper_never_stored_alerts_once(settings, embedder, server, slack):
    services = alerted_services(settings, embedder, slack, notify_updates=False)
    feeds = kv_days(server)
    server.routes["/day"] = server.routes["/day"][1:]

    first = services.pipeline.run_cycle(feeds)
    second = services.pipeline.run_cycle(feeds)

    assert (first.papers_new, first.sent) == (1, 1)
    assert (second.papers_new, second.sent) == (0, 0)
    [posted] = slack.calls_to("chat.postMessage")
    assert "Sparse attention" in posted["text"]
    assert services.store.papers.get("2608.70001").version == 2


def test_notify_updates_replies_in_the_original_alerts_thread(settings, embedder, server, slack):
    services = alerted_services(settings, embedder, slack, notify_updates=True)
    feeds = kv_days(server)
    services.pipeline.run_cycle(feeds)
    alert = slack.calls_to("chat.postMessage")[0]
    alert_ts = services.store.alerts.all("sent")[0].slack_ts

    second = services.pipeline.run_cycle(feeds)
    third = services.pipeline.run_cycle(feeds)

    posted = slack.calls_to("chat.postMessage")
    assert second.sent == third.sent == 0
    assert (second.new_versions_told, third.new_versions_told) == (1, 0)
    assert second.summary_line().endswith(", 0 sent, 1 reply that a new version is out")
    assert len(posted) == 2
    reply = posted[1]
    assert reply["channel"] == alert["channel"] == "C1"
    assert reply["thread_ts"] == alert_ts
    assert reply["text"].startswith("A new version (v2) of <https://arxiv.org/abs/2608.70001|")
    assert "Sparse attention &amp; KV cache" in reply["text"]
    assert [n["status"] for n in services.store.notices.update_notices()] == ["sent"]


# -- health: quiet days, stale feeds ----------------------------------------------------


def test_unchanged_listing_is_stale_after_more_than_one_weekday_announcement():
    monday = MONDAY.isoformat()
    state = {"content_hash": "h1", "content_since": monday}
    tuesday = MONDAY.replace(day=18)
    wednesday = MONDAY.replace(day=19)

    assert health_fields(state, "ok", "arxiv_listing", "h1", tuesday)[0] == "ok"
    assert health_fields(state, "ok", "arxiv_listing", "h1", wednesday)[0] == "stale"
    assert health_fields(state, "not_modified", "arxiv_listing", None, wednesday)[0] == "stale"
    # A journal's feed may rightly stay the same for weeks.
    assert health_fields(state, "ok", "rss", "h1", wednesday)[0] == "ok"
    # New content starts the count again.
    status, fields = health_fields(state, "ok", "arxiv_listing", "h2", wednesday)
    assert status == "ok" and fields["content_since"] == wednesday.isoformat()


def test_a_weekend_is_not_stale_and_an_empty_weekend_is_told_apart():
    friday = MONDAY.replace(day=21)
    saturday, sunday = MONDAY.replace(day=22), MONDAY.replace(day=23)
    next_monday = MONDAY.replace(day=24)
    state = {"content_hash": "empty", "content_since": saturday.isoformat()}

    assert health_fields(state, "empty", "arxiv_listing", "empty", sunday)[0] == "empty"
    assert health_fields(state, "empty", "arxiv_listing", "empty", next_monday)[0] == "empty"
    friday_state = {"content_hash": "h1", "content_since": friday.isoformat()}
    assert health_fields(friday_state, "ok", "arxiv_listing", "h1", sunday)[0] == "ok"

    row = {"last_status": "empty", "kind": "arxiv_listing"}
    weekend = describe({**row, "last_checked": sunday.isoformat()})
    weekday = describe({**row, "last_checked": next_monday.isoformat()})
    assert weekend == "ok but empty: arXiv does not announce on weekends"
    assert weekday == "ok but empty on a weekday: an arXiv holiday, or a quiet category"


def test_a_stuck_feed_becomes_stale_and_is_warned_about(services, server):
    server.routes["/feed"] = [Reply(200, listing(item("2608.80001")))]
    services.pipeline.fetcher = quick_fetcher([])
    feed = FeedSettings(url=server.url("/feed"), name="arXiv cs.CL")
    statuses = []
    for day in (17, 18, 19):
        services.pipeline.clock = lambda day=day: MONDAY.replace(day=day)
        statuses.append(services.pipeline.ingest_feed(feed).status)

    assert statuses == ["ok", "ok", "stale"]
    assert stored_ids(services.store) == ["2608.80001"]
    assert feed_health_warnings(services.store) == [
        "arXiv cs.CL looks stale: the same content since 2026-08-17 10:00 UTC; "
        "its new papers may be missing."
    ]


# -- managing feeds ------------------------------------------------------------------------


def test_feeds_added_and_removed_at_run_time(settings, server):
    store = Store(settings.database.path)
    server.routes = {
        "/good": [Reply(200, listing(item("2608.90001")))],
        "/html": [Reply(200, b"<html><body>Not here</body></html>")],
        "/gone": [Reply(404, b"no")],
    }
    fetcher = quick_fetcher([])
    # A feed on the bot's own network is refused unless the settings allow it.
    with pytest.raises(FeedError, match=r"127.0.0.1 is a private address; set"):
        add_feed(settings, store, fetcher, server.url("/good"))
    assert active_feeds(settings, store) == [] and server.requests == []
    settings = dataclasses.replace(
        settings,
        feeds=(FeedSettings(url=server.url("/declared"), name="declared"),),
        fetch=dataclasses.replace(settings.fetch, allow_private_addresses=True),
    )

    added = add_feed(settings, store, fetcher, server.url("/good"), include_cross_lists=False)
    assert (added.feed.name, added.feed.kind) == ("cs.CL updates on arXiv.org", "arxiv_listing")
    assert (added.papers, added.damage) == (1, None)
    with pytest.raises(FeedError, match="did not answer with a feed: not a feed"):
        add_feed(settings, store, fetcher, server.url("/html"))
    with pytest.raises(FeedError, match=r"unsupported protocol 'ftp://'\.$"):
        add_feed(settings, store, fetcher, "ftp://example.org/feed.xml")
    with pytest.raises(FeedError, match="HTTP 404"):
        add_feed(settings, store, fetcher, server.url("/gone"))
    with pytest.raises(FeedError, match="already polled"):
        add_feed(settings, store, fetcher, server.url("/good"))

    assert active_feeds(settings, store) == [
        FeedSettings(url=server.url("/declared"), name="declared"),
        FeedSettings(
            url=server.url("/good"),
            name="cs.CL updates on arXiv.org",
            kind="arxiv_listing",
            include_cross_lists=False,
        ),
    ]
    remove_feed(settings, store, server.url("/declared"))
    remove_feed(settings, store, server.url("/good"))
    assert active_feeds(settings, store) == []
    with pytest.raises(FeedError, match="is not polled"):
        remove_feed(settings, store, server.url("/good"))


def test_feeds_command_lists_adds_and_refuses(tmp_path, server):
    db = str(tmp_path / "cli.db")
    good = FIXTURES / "arxiv_rss2" / "arxiv_rss2_cs.AI_empty_weekend_2024-03-09.xml"
    server.routes["/html"] = [Reply(200, b"<!DOCTYPE html><html></html>")]
    runner = CliRunner()
    config = tmp_path / "local.toml"
    config.write_text("[fetch]\nallow_private_addresses = true\n")
    base = ["--db", db, "--config", str(config)]

    added = runner.invoke(cli, [*base, "feeds", "add", str(good), "--name", "cs.AI"])
    refused = runner.invoke(cli, [*base, "feeds", "add", server.url("/html")])
    listed = runner.invoke(cli, [*base, "feeds", "--json"])

    assert added.exit_code == 0, added.output
    assert "Note: it has no papers just now" in added.output
    assert refused.exit_code == 1
    assert "did not answer with a feed: not a feed (an HTML page)" in refused.output
    feeds = json.loads(listed.output)
    assert [(f["name"], f["origin"], f["status"]) for f in feeds] == [("cs.AI", "added", "never")]


def test_feeds_add_says_when_only_part_of_the_feed_could_be_read(tmp_path):
    good = (FIXTURES / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(good[: len(good) // 2])
    kept = cut.read_bytes().count(b"</item>")

    added = CliRunner().invoke(cli, ["--db", str(tmp_path / "p.db"), "feeds", "add", str(cut)])

    assert added.exit_code == 0, added.output
    assert "Note: only part of it could be read just now (malformed XML" in added.output
    assert f"its {kept} readable papers come with the next cycle" in added.output


def test_a_feed_file_added_by_a_relative_path_is_kept_by_its_full_path(tmp_path, monkeypatch):
    (tmp_path / "feeds").mkdir()
    good = FIXTURES / "arxiv_rss2" / "arxiv_rss2_cs.AI_empty_weekend_2024-03-09.xml"
    (tmp_path / "feeds" / "ai.xml").write_bytes(good.read_bytes())
    (tmp_path / "elsewhere").mkdir()
    base = ["--db", str(tmp_path / "p.db")]
    runner = CliRunner()
    monkeypatch.chdir(tmp_path / "feeds")

    added = runner.invoke(cli, [*base, "feeds", "add", "ai.xml"])
    again = runner.invoke(cli, [*base, "feeds", "add", "../feeds/./ai.xml"])
    monkeypatch.chdir(tmp_path / "elsewhere")
    listed = runner.invoke(cli, [*base, "feeds", "--json"])
    removed = runner.invoke(cli, [*base, "feeds", "remove", "../feeds/ai.xml"])

    assert added.exit_code == 0, added.output
    assert again.exit_code == 1
    assert "is already polled" in again.output
    full_path = str((tmp_path / "feeds" / "ai.xml").resolve())
    assert [f["url"] for f in json.loads(listed.output)] == [full_path]
    assert removed.exit_code == 0, removed.output


def test_a_web_address_without_its_scheme_is_told_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    added = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "p.db"), "feeds", "add", "rss.arxiv.org/rss/cs.CL"]
    )
    assert added.exit_code == 1
    assert (
        "There is no file rss.arxiv.org/rss/cs.CL; for a web address, give its scheme: "
        "https://rss.arxiv.org/rss/cs.CL" in added.output
    )


def test_feed_columns_are_added_to_an_existing_database(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "create table feeds (url text primary key, kind text, name text, etag text, "
            "last_modified text, last_status text, last_error text, last_checked text, "
            "last_ok text, last_items integer, consecutive_errors integer, next_poll text)"
        )
        conn.execute("insert into feeds (url, last_status) values ('https://x/rss', 'ok')")

    store = Store(path)

    assert store.feeds.get("https://x/rss")["content_hash"] is None
    store.feeds.add_runtime("https://y/rss", "y", "rss", True)
    assert [row["url"] for row in store.feeds.runtime()] == ["https://y/rss"]
