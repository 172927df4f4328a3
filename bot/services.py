"""The services one paperbot process uses, built once from Settings and passed around."""

from __future__ import annotations

import os
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.deliver import Deliverer
from bot.embed import Embedder
from bot.fetch import Fetcher
from bot.match import Matcher, MatchingConfig
from bot.pipeline import Pipeline
from bot.search import Search
from bot.settings import Settings
from bot.storage import Store
from bot.summarize import Summarizer, build_summarizer


@dataclass
class Services:
    settings: Settings
    store: Store
    embedder: Embedder
    search: Search
    matcher: Matcher
    summarizer: Summarizer
    fetcher: Fetcher
    # For lookups a person waits for (`/papers like`): a short deadline, no retries, and
    # no spacing lock that polling or another person's lookup would wait on.
    command_fetcher: Fetcher
    pipeline: Pipeline
    slack: WebClient | None = None


def build_services(
    settings: Settings, slack: WebClient | None = None, embedder: Embedder | None = None
) -> Services:
    """Wire the services together; pass `slack` to deliver, `embedder` to share a model."""
    store = Store(settings.database.path)
    embedder = embedder or Embedder(
        settings.model.path, settings.model.batch_size, settings.model.precision
    )
    summarizer = build_summarizer(settings.summary, os.environ)
    fetcher = Fetcher(
        user_agent=settings.fetch.user_agent,
        connect_timeout=settings.fetch.connect_timeout,
        read_timeout=settings.fetch.read_timeout,
        max_attempts=settings.fetch.max_attempts,
        total_timeout=settings.fetch.total_timeout,
        allow_private_addresses=settings.fetch.allow_private_addresses,
    )
    matcher = Matcher(store, embedder.name, MatchingConfig.from_settings(settings.matching))
    deliverer = (
        Deliverer(store, slack, summarizer, settings.delivery) if slack is not None else None
    )
    return Services(
        settings=settings,
        store=store,
        embedder=embedder,
        search=Search(store, embedder),
        matcher=matcher,
        summarizer=summarizer,
        fetcher=fetcher,
        command_fetcher=Fetcher(
            user_agent=settings.fetch.user_agent,
            connect_timeout=settings.fetch.connect_timeout,
            read_timeout=settings.fetch.read_timeout,
            max_attempts=1,
            min_interval_by_host={},
            total_timeout=settings.fetch.command_timeout,
            allow_private_addresses=settings.fetch.allow_private_addresses,
        ),
        pipeline=Pipeline(
            store,
            embedder,
            fetcher,
            matcher,
            deliverer,
            notify_updates=settings.ingest.notify_updates,
            max_items_per_feed=settings.ingest.max_items_per_feed,
        ),
        slack=slack,
    )
