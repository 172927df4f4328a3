"""One cycle: fetch -> store -> embed -> match -> outbox -> deliver, with a report."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot.embed import Embedder
from bot.feeds import READ_STATUSES, content_hash, health_fields, post_update_notices
from bot.fetch import Fetcher
from bot.match import OVER_CAP_REASON, Alert, Matcher
from bot.papers import Paper
from bot.settings import FeedSettings
from bot.sources import parse_feed
from bot.status import stages_line
from bot.storage import Store
from bot.subscriptions import respell_topics

log = logging.getLogger(__name__)

# The feeds that speak for arXiv ids (see Store.upsert_papers).
ARXIV_KINDS = ("arxiv_listing", "arxiv_api")


@dataclass
class FeedReport:
    url: str
    name: str
    status: str
    kind: str = ""
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
    # The stored papers no cycle had matched yet: the new ones, and any a dry run left.
    papers_matched: int = 0
    alerts: list[Alert] = field(default_factory=list)
    over_cap: list[Alert] = field(default_factory=list)
    queued: int = 0
    # Of those queued, the alerts of daily and weekly subscriptions, held for their digests.
    for_digest: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    # Replies posted in sent alerts' threads that a new version is out ([ingest] notify_updates).
    new_versions_told: int = 0
    seconds: float = 0.0
    # Where the cycle's time went: fetch (with parse and store), embed, match (with
    # queueing to the outbox) and deliver.
    fetch_seconds: float = 0.0
    embed_seconds: float = 0.0
    match_seconds: float = 0.0
    deliver_seconds: float = 0.0

    @property
    def feeds_read(self) -> int:
        return sum(1 for feed in self.feeds if feed.status in READ_STATUSES)

    def summary_line(self) -> str:
        line = (
            f"{self.feeds_read} of {len(self.feeds)} feeds read, {self.papers_new} papers new, "
            f"{len(self.alerts) + len(self.over_cap)} matches among {self.papers_matched} papers "
            f"not matched before, {self.queued} alerts queued, "
        )
        if self.for_digest:
            line += f"{self.for_digest} of them for digests, "
        line += f"{self.sent} sent"
        if self.failed or self.retrying:
            line += f", {self.failed} failed, {self.retrying} to retry"
        if self.over_cap:
            line += f" ({len(self.over_cap)} over the per-target cap)"
        if self.new_versions_told:
            replies = "reply" if self.new_versions_told == 1 else "replies"
            line += f", {self.new_versions_told} {replies} that a new version is out"
        return line

    def stages_line(self) -> str:
        """`fetch 1.2s, embed 3.4s, match 0.1s, deliver 2.0s`."""
        return stages_line(vars(self))


def lap(timer: Callable[[], float], since: float) -> tuple[float, float]:
    """Seconds from `since` to now (rounded to ms), and now, to time the next stage from."""
    now = timer()
    return round(now - since, 3), now


def _with_update_time(paper: Paper) -> Paper:
    """A replacement's announcement date is when the paper was updated, if it says no other."""
    if paper.is_update and not paper.updated and paper.published:
        return dataclasses.replace(paper, updated=paper.published)
    return paper


class Pipeline:
    """Runs cycles over the configured feeds with the services it is given."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        fetcher: Fetcher,
        matcher: Matcher,
        deliverer=None,
        *,
        notify_updates: bool = False,
        max_items_per_feed: int = 3000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timer: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.embedder = embedder
        self.fetcher = fetcher
        self.matcher = matcher
        self.deliverer = deliverer
        self.notify_updates = notify_updates
        self.max_items_per_feed = max_items_per_feed
        # Feed health counts weekday announcements, so tests set the day.
        self.clock = clock
        # Stage durations are read from it, so tests can say how long a stage took.
        self.timer = timer

    def ingest_feed(self, feed: FeedSettings) -> FeedReport:
        """Fetch and store one feed and record its health; never raises for a bad feed."""
        name = feed.name or feed.url
        state = self.store.feeds.get(feed.url) or {}
        fetched = self.fetcher.fetch(
            feed.url, etag=state.get("etag"), last_modified=state.get("last_modified")
        )
        new_hash = None
        if fetched.status == "not_modified":
            # A 304 parses nothing and changes nothing but the health record.
            report = FeedReport(feed.url, name, "not_modified", kind=state.get("kind") or "")
        elif fetched.status != "ok":
            report = self._failed_fetch(feed, name, fetched)
        else:
            try:
                report, new_hash = self._store_feed(feed, name, fetched.content)
            except Exception as exc:
                # A fault of ours on one feed must not stop the cycle's other feeds.
                log.exception("feed %s: storing its papers failed", name)
                report = FeedReport(feed.url, name, "internal_error", error=f"{exc!r}")
        status, fields = health_fields(state, report.status, report.kind, new_hash, self.clock())
        report.status = status
        fields.update(name=name, last_status=status, last_error=report.error)
        if report.kind:
            fields["kind"] = report.kind
        # A feed read only in part keeps its old validators, so the next poll fetches the
        # whole document again instead of getting a 304 for the broken one.
        if report.status in ("ok", "empty", "stale") and fetched.status == "ok":
            fields.update(last_items=report.items, last_new=report.new)
            fields["last_updated"] = report.updated
            if not report.error:
                fields.update(etag=fetched.etag, last_modified=fetched.last_modified)
        self.store.feeds.save(feed.url, **fields)
        if status not in READ_STATUSES:
            log.warning("feed %s: %s (%s)", name, status, report.error)
        return report

    def _failed_fetch(self, feed: FeedSettings, name: str, fetched) -> FeedReport:
        """The report of a fetch that failed; an arXiv API error document explains a 400."""
        error = fetched.error
        if fetched.status == "http_error" and fetched.content:
            parsed = parse_feed(fetched.content, url=feed.url, kind=feed.kind or None)
            if parsed.error and parsed.error.startswith("arXiv API error"):
                error = f"{error}: {parsed.error}"
        return FeedReport(feed.url, name, fetched.status, error=error)

    def _store_feed(
        self, feed: FeedSettings, name: str, content: bytes
    ) -> tuple[FeedReport, str | None]:
        """Parse and store one document; returns the report and the content's hash.

        New and cross-listed papers (unless the feed leaves cross-lists out) are new, and
        so is a replacement (a new version) of a paper never stored before: nobody here
        has been told of it. A replacement of a stored paper updates it and is never new.
        Items past max_items_per_feed are left out, and the report's error says so.
        """
        parsed = parse_feed(content, url=feed.url, kind=feed.kind or None)
        if parsed.status == "parse_error":
            return FeedReport(feed.url, name, "parse_error", error=parsed.error), None
        error = parsed.error
        if len(parsed.papers) > self.max_items_per_feed:
            error = (
                f"{len(parsed.papers)} items, over the limit of {self.max_items_per_feed} "
                "(ingest.max_items_per_feed): the rest were left out"
            )
        papers = [_with_update_time(p) for p in parsed.papers[: self.max_items_per_feed]]
        if not feed.include_cross_lists:
            papers = [p for p in papers if p.announce_type not in ("cross", "replace-cross")]
        known_versions = {
            paper_id: paper.version
            for paper_id, paper in self.store.papers.get_many([p.id for p in papers]).items()
        }
        result = self.store.papers.upsert(papers, arxiv_source=parsed.kind in ARXIV_KINDS)
        if self.notify_updates:
            self._queue_update_notices(papers, result.updated, known_versions)
        report = FeedReport(
            feed.url,
            name,
            parsed.status,
            kind=parsed.kind,
            error=error,
            items=len(parsed.papers),
            new=len(result.new),
            updated=len(result.updated),
        )
        # Only a document read in full says what the feed's content is.
        return report, None if error else content_hash(parsed.papers)

    def _queue_update_notices(
        self, papers: list[Paper], updated: list[str], known_versions: dict[str, int | None]
    ) -> None:
        """Queue a thread reply under each alert of a paper whose version went up; the
        cycle's delivery posts them."""
        versions = {p.id: p.version for p in papers}
        for paper_id in updated:
            # A paper first stored without a version (Hugging Face) gains one: not new.
            if known_versions.get(paper_id) is not None:
                self.store.notices.queue_update_notices(paper_id, versions[paper_id])

    def embed_missing(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Embed every stored paper that has no embedding from the current model;
        `on_progress(done, total)` hears how far it got (bot/progress.py draws it)."""
        papers = self.store.papers.without_embedding(self.embedder.name)
        if papers:
            # One encode call for the texts and all their sentences, so that one progress
            # bar covers both; it counts papers, so the texts encoded are scaled to them.
            sentences = [p.sentences for p in papers]
            texts = [p.text_for_embedding for p in papers] + [s for ss in sentences for s in ss]

            def in_papers(done: int, total: int) -> None:
                on_progress(done * len(papers) // max(total, 1), len(papers))

            vectors = self.embedder.encode(texts, in_papers if on_progress else None)
            starts = len(papers) + np.cumsum([0] + [len(ss) for ss in sentences])
            self.store.papers.set_embeddings(
                self.embedder.name,
                {p.id: vectors[i] for i, p in enumerate(papers)},
                {p.id: vectors[starts[i] : starts[i + 1]] for i, p in enumerate(papers)},
            )
        return len(papers)

    def run_cycle(
        self,
        feeds: list[FeedSettings],
        dry_run: bool = False,
        now: datetime | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> CycleReport:
        """Fetch every feed, match the papers not matched yet, queue and post the alerts.

        Alerts of daily and weekly subscriptions are held for the digest; those over a
        target's daily cap are recorded as dropped with OVER_CAP_REASON, to be offered as
        "N more matched today". A dry run fetches, stores and embeds (the papers, and the
        topics whose acronyms they first spell out), but queues and posts nothing and leaves
        the papers unmatched, so a real cycle later still alerts on them.
        `now` (for tests) is the time the daily cap counts from; `on_progress` goes to
        embed_missing.
        """
        started = mark = self.timer()
        report = CycleReport()
        for feed in feeds:
            feed_report = self.ingest_feed(feed)
            report.feeds.append(feed_report)
            report.papers_new += feed_report.new
            report.papers_updated += feed_report.updated
        report.fetch_seconds, mark = lap(self.timer, mark)
        report.embedded = self.embed_missing(on_progress)
        respelled = respell_topics(self.store, self.embedder)
        if respelled:
            log.info("embedded %d topics again, as they are read now", respelled)
        report.embed_seconds, mark = lap(self.timer, mark)
        paper_ids = self.store.papers.unmatched_ids()
        report.papers_matched = len(paper_ids)
        result = self.matcher.match(paper_ids, now=now)
        report.alerts, report.over_cap = result.alerts, result.over_cap
        if not dry_run:
            queued = self._queue(result.alerts)
            report.queued = len(queued)
            report.for_digest = sum(1 for alert in queued if alert.cadence != "instant")
            for alert in result.over_cap:
                self._enqueue(alert, status_note=OVER_CAP_REASON)
            self.store.papers.mark_matched(paper_ids)
        report.match_seconds, mark = lap(self.timer, mark)
        if not dry_run and self.deliverer is not None:
            delivered = self.deliverer.deliver_pending()
            report.sent, report.failed = delivered.sent, delivered.failed
            report.retrying = delivered.retrying
            report.new_versions_told = post_update_notices(self.store, self.deliverer.client)
        report.deliver_seconds, mark = lap(self.timer, mark)
        report.seconds = round(mark - started, 3)
        log.info(
            "cycle: %s in %.1fs (%s)", report.summary_line(), report.seconds, report.stages_line()
        )
        return report

    def _queue(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts queued: those not already in the outbox for their target."""
        return [alert for alert in alerts if self._enqueue(alert)]

    def _enqueue(self, alert: Alert, status_note: str | None = None) -> bool:
        return self.store.alerts.enqueue(
            target=alert.target,
            paper_id=alert.paper_id,
            subscription_id=alert.matches[0].subscription_id,
            score=alert.score,
            matches=[vars(match) for match in alert.matches],
            dropped_reason=status_note,
            status="pending" if alert.cadence == "instant" else "digest",
        )
