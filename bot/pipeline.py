"""One cycle: fetch -> store -> embed -> match -> outbox -> deliver, with a report."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.embed import Embedder
from bot.fetch import Fetcher
from bot.match import Alert, Matcher
from bot.settings import FeedSettings
from bot.sources import parse_feed
from bot.store import Store, now_iso

log = logging.getLogger(__name__)


@dataclass
class FeedReport:
    url: str
    name: str
    status: str
    items: int = 0
    new: int = 0
    updated: int = 0
    error: str | None = None


@dataclass
class CycleReport:
    feeds: list[FeedReport] = field(default_factory=list)
    papers_new: int = 0
    papers_updated: int = 0
    embedded: int = 0
    alerts: list[Alert] = field(default_factory=list)
    over_cap: list[Alert] = field(default_factory=list)
    queued: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    seconds: float = 0.0

    @property
    def feeds_read(self) -> int:
        return sum(1 for feed in self.feeds if feed.status in ("ok", "empty", "not_modified"))

    def summary_line(self) -> str:
        line = (
            f"{self.feeds_read} of {len(self.feeds)} feeds read, {self.papers_new} papers new, "
            f"{len(self.alerts) + len(self.over_cap)} matches, {self.queued} alerts queued, "
            f"{self.sent} sent"
        )
        if self.failed or self.retrying:
            line += f", {self.failed} failed, {self.retrying} to retry"
        if self.over_cap:
            line += f" ({len(self.over_cap)} over the per-target cap)"
        return line


class Pipeline:
    """Runs cycles over the configured feeds with the services it is given."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        fetcher: Fetcher,
        matcher: Matcher,
        deliverer=None,
    ):
        self.store = store
        self.embedder = embedder
        self.fetcher = fetcher
        self.matcher = matcher
        self.deliverer = deliverer

    def ingest_feed(self, feed: FeedSettings) -> FeedReport:
        """Fetch and store one feed; never raises for a bad feed, reports it instead."""
        name = feed.name or feed.url
        state = self.store.get_feed_state(feed.url) or {}
        fetched = self.fetcher.fetch(
            feed.url, etag=state.get("etag"), last_modified=state.get("last_modified")
        )
        if fetched.status == "not_modified":
            report = FeedReport(feed.url, name, "not_modified")
        elif fetched.status != "ok":
            report = FeedReport(feed.url, name, fetched.status, error=fetched.error)
        else:
            report = self._store_feed(feed, name, fetched.content)
        ok = report.status in ("ok", "empty", "not_modified")
        fields = {
            "name": name,
            "last_status": report.status,
            "last_error": report.error,
            "last_checked": now_iso(),
            "consecutive_errors": 0 if ok else (state.get("consecutive_errors") or 0) + 1,
        }
        if ok:
            fields["last_ok"] = now_iso()
        # A feed read only in part keeps its old validators, so the next poll fetches the
        # whole document again instead of getting a 304 for the broken one.
        if report.status in ("ok", "empty") and not report.error:
            fields.update(
                etag=fetched.etag, last_modified=fetched.last_modified, last_items=report.items
            )
        self.store.save_feed_state(feed.url, **fields)
        if not ok:
            log.warning("feed %s: %s (%s)", name, report.status, report.error)
        return report

    def _store_feed(self, feed: FeedSettings, name: str, content: bytes) -> FeedReport:
        parsed = parse_feed(content, url=feed.url, kind=feed.kind or None)
        if parsed.status == "parse_error":
            return FeedReport(feed.url, name, "parse_error", error=parsed.error)
        papers = parsed.papers
        if not feed.include_cross_lists:
            papers = [p for p in papers if p.announce_type != "cross"]
        result = self.store.upsert_papers(papers)
        # A replacement we had never seen is stored for search, but is no new paper.
        replaced = {p.id for p in papers if p.is_update}
        self.store.mark_matched([paper_id for paper_id in result.new if paper_id in replaced])
        return FeedReport(
            feed.url,
            name,
            parsed.status,
            error=parsed.error,
            items=len(parsed.papers),
            new=len(result.new),
            updated=len(result.updated),
        )

    def embed_missing(self) -> int:
        """Embed every stored paper that has no embedding from the current model."""
        papers = self.store.papers_without_embedding(self.embedder.name)
        if papers:
            vectors = self.embedder.encode([p.text_for_embedding for p in papers])
            self.store.set_embeddings(
                self.embedder.name, {p.id: v for p, v in zip(papers, vectors, strict=True)}
            )
        return len(papers)

    def run_cycle(self, feeds: list[FeedSettings], dry_run: bool = False) -> CycleReport:
        """Fetch every feed, match the papers not matched yet, queue and post the alerts.

        A dry run fetches, stores and embeds, but queues and posts nothing and leaves the
        papers unmatched, so a real cycle later still alerts on them.
        """
        started = time.monotonic()
        report = CycleReport()
        for feed in feeds:
            feed_report = self.ingest_feed(feed)
            report.feeds.append(feed_report)
            report.papers_new += feed_report.new
            report.papers_updated += feed_report.updated
        report.embedded = self.embed_missing()
        paper_ids = self.store.unmatched_paper_ids()
        result = self.matcher.match(paper_ids)
        report.alerts, report.over_cap = result.alerts, result.over_cap
        if not dry_run:
            report.queued = self._queue(result.alerts)
            for alert in result.over_cap:
                self._enqueue(alert, status_note="over the per-target cap")
            self.store.mark_matched(paper_ids)
            if self.deliverer is not None:
                delivered = self.deliverer.deliver_pending()
                report.sent, report.failed = delivered.sent, delivered.failed
                report.retrying = delivered.retrying
        report.seconds = round(time.monotonic() - started, 3)
        log.info("cycle: %s in %.1fs", report.summary_line(), report.seconds)
        return report

    def _queue(self, alerts: list[Alert]) -> int:
        return sum(1 for alert in alerts if self._enqueue(alert))

    def _enqueue(self, alert: Alert, status_note: str | None = None) -> bool:
        return self.store.enqueue_delivery(
            target=alert.target,
            paper_id=alert.paper_id,
            subscription_id=alert.matches[0].subscription_id,
            score=alert.score,
            matches=[vars(match) for match in alert.matches],
            dropped_reason=status_note,
        )
