"""Slash commands and a running cycle share the database: no "database is locked"."""

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.deliver import make_slack_client
from bot.scheduler import build_scheduler
from bot.services import build_services
from bot.settings import FeedSettings
from tests.conftest import FIXTURES
from tests.fake_slack import FakeSlack

FEED_FILE = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
SEARCHES = 20


def test_twenty_searches_while_a_cycle_writes(settings, embedder, tmp_path):
    with FakeSlack() as slack:
        settings = dataclasses.replace(
            settings,
            feeds=(FeedSettings(url=str(FEED_FILE), name="cs.CL"),),
            delivery=dataclasses.replace(settings.delivery, channel_interval_seconds=0.0),
        )
        services = build_services(
            settings, slack=make_slack_client("xoxb-test", slack.base_url), embedder=embedder
        )
        store = services.store
        services.pipeline.ingest_feed(settings.feeds[0])
        services.pipeline.embed_missing()
        paper_ids = store.papers.unmatched_ids()
        store.papers.mark_matched(paper_ids)
        # A cycle with plenty to write: one alert per stored paper for three channels,
        # each post answered slowly so the searches arrive while it is delivering.
        for channel in ("C1", "C2", "C3"):
            sub = store.subscriptions.add(
                owner="U1", target=channel, topic="language models", embedding=[1.0]
            )
            for paper_id in paper_ids:
                store.alerts.enqueue(
                    target=channel,
                    paper_id=paper_id,
                    subscription_id=sub.id,
                    score=0.5,
                    matches=[{"subscription_id": sub.id, "topic": sub.topic, "score": 0.5}],
                )
        slack.fail_next("chat.postMessage", delay=0.02, times=10_000)
        _, ticker = build_scheduler(services)
        cycle_errors = []

        def run_cycle():
            try:
                ticker.run_cycle()
            except Exception as error:  # the assertion below reports it
                cycle_errors.append(error)

        cycle = threading.Thread(target=run_cycle)
        cycle.start()
        while len(slack.calls_to("chat.postMessage")) < 3:
            assert cycle.is_alive(), cycle_errors
            threading.Event().wait(0.01)

        def slash_command(n: int):
            """What /papers search and a save button do: a read and a write."""
            hits = services.search.search("language model evaluation", limit=5)
            store.saved.add(f"U{n}", hits[0].paper.id)
            return hits

        with ThreadPoolExecutor(max_workers=SEARCHES) as pool:
            results = list(pool.map(slash_command, range(SEARCHES)))
        still_delivering = cycle.is_alive()
        cycle.join()

        assert not cycle_errors
        assert still_delivering, "the searches should overlap the cycle"
        assert all(len(hits) == 5 for hits in results)
        assert all(store.saved.papers(f"U{n}") for n in range(SEARCHES))
        assert len(store.alerts.all("sent")) == 3 * len(paper_ids)
        assert store.cycles.last()["sent"] == 3 * len(paper_ids)
