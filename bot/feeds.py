"""Which feeds are polled, how healthy each one is, and notices of new paper versions.

The feeds polled are the ones declared in settings plus the ones added at run time
(`paperbot feeds add`), minus the ones removed at run time. `active_feeds` is the one
place that list is made; every cycle (`paperbot cycle`, the scheduler) takes it from there.

Health, as `paperbot feeds` shows it and the digest warns about:

    ok            read, with N items; a damaged document (cut short, not well-formed) is
                  ok too, with every item still readable kept and the damage named
    empty         read, no items: arXiv does not announce on Saturdays, Sundays and its
                  holidays, so an empty listing there is a quiet day, not a fault
    not_modified  the server answered 304: nothing new since the last read
    stale         read, but the same content across more than one weekday announcement
                  (daily feeds only: arXiv listings and Hugging Face daily papers)
    http_error, network_error, too_large, parse_error, internal_error: the feed failed
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks import link
from bot.fetch import Fetcher, local_path, private_address
from bot.papers import Paper
from bot.settings import FeedSettings, Settings
from bot.sources import parse_feed
from bot.storage import Store

log = logging.getLogger(__name__)

READ_STATUSES = ("ok", "empty", "not_modified", "stale")
FAILED_STATUSES = ("http_error", "network_error", "too_large", "parse_error", "internal_error")
# Feeds that change every weekday; unchanged content there means something is stuck.
DAILY_KINDS = ("arxiv_listing", "hf_daily")
# arXiv's listing feeds are rebuilt at midnight US Eastern (04:00 or 05:00 UTC), Monday to
# Friday. 05:00 UTC is on the late side of both, so a poll just before midnight Eastern
# never counts an announcement that has not happened yet.
ANNOUNCEMENT_TIME_UTC = time(5, 0)
MAX_NOTICE_ATTEMPTS = 5
NOTICE_PERMANENT_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "thread_not_found", "invalid_auth"}
)


class FeedError(Exception):
    """A feed cannot be added or removed; the message says why and what to do."""


# -- the list of feeds polled --------------------------------------------------------


def active_feeds(settings: Settings, store: Store) -> list[FeedSettings]:
    """The settings' feeds not removed at run time, then the feeds added at run time."""
    removed = store.feeds.removed_urls()
    feeds = [feed for feed in settings.feeds if feed.url not in removed]
    declared = {feed.url for feed in feeds}
    for row in store.feeds.runtime():
        if row["url"] not in declared:
            feeds.append(
                FeedSettings(
                    url=row["url"],
                    name=row["name"] or "",
                    kind=row["kind"] or "",
                    include_cross_lists=bool(row["include_cross_lists"]),
                )
            )
    return feeds


@dataclass
class AddedFeed:
    """A feed `paperbot feeds add` will poll, and what its first read held."""

    feed: FeedSettings
    papers: int
    # What could not be read of a damaged document (cut short, not well-formed), if anything.
    damage: str | None


# A path that starts like a web address without its scheme ("rss.arxiv.org/rss/cs.CL").
HOST_FIRST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/", re.IGNORECASE)


def add_feed(
    settings: Settings,
    store: Store,
    fetcher: Fetcher,
    url: str,
    *,
    name: str = "",
    kind: str = "",
    include_cross_lists: bool = True,
) -> AddedFeed:
    """Fetch `url` once and start polling it if it answers with a feed; else FeedError.

    An empty feed is accepted (an arXiv listing on a Saturday is empty and fine). A host
    on a loopback, link-local or private address is refused unless the settings allow it.
    """
    typed, url = url.strip(), feed_address(url)
    if url != typed and not Path(url).exists() and HOST_FIRST.match(typed):
        raise FeedError(
            f"There is no file {typed}; for a web address, give its scheme: https://{typed}"
        )
    if url in {feed_address(feed.url) for feed in active_feeds(settings, store)}:
        raise FeedError(f"{url} is already polled; `paperbot feeds` lists the feeds.")
    host = urllib.parse.urlsplit(url).hostname
    address = private_address(host) if host else None
    if address and not settings.fetch.allow_private_addresses:
        where = "a private address" if host == address else f"at {address}, a private address"
        raise FeedError(
            f"{host} is {where}; set fetch.allow_private_addresses "
            "= true in the settings to poll feeds there."
        )
    fetched = fetcher.fetch(url)
    if fetched.status != "ok":
        raise FeedError(
            f"{url} did not answer with a feed: {_ended(fetched.error or fetched.status)}"
        )
    parsed = parse_feed(fetched.content, url=url, kind=kind or None)
    if parsed.status == "parse_error":
        raise FeedError(f"{url} did not answer with a feed: {_ended(parsed.error)}")
    feed = FeedSettings(
        url=url,
        name=name or parsed.title or url,
        kind=parsed.kind,
        include_cross_lists=include_cross_lists,
    )
    store.feeds.add_runtime(feed.url, feed.name, feed.kind, feed.include_cross_lists)
    return AddedFeed(feed, len(parsed.papers), parsed.error)


def _ended(reason: str) -> str:
    """`reason` with one full stop at the end, though it may end with one of its own."""
    return reason.rstrip(".") + "."


def remove_feed(settings: Settings, store: Store, url: str) -> FeedSettings:
    """Stop polling `url`; the papers it brought stay. FeedError when it is not polled."""
    url = url.strip()
    address = feed_address(url)
    feed = next((f for f in active_feeds(settings, store) if feed_address(f.url) == address), None)
    if feed is None:
        raise FeedError(f"{url} is not polled; `paperbot feeds` lists the feeds.")
    store.feeds.remove(feed.url)
    return feed


def feed_address(url: str) -> str:
    """`url` as a feed is kept: a file by its full path, since paperbot may run next from
    another folder (a link to it stays a link, so a "latest.xml" that moves on is followed)."""
    url = url.strip()
    if (path := local_path(url)) is not None:
        return os.path.abspath(path.expanduser())
    return url


# -- health ----------------------------------------------------------------------------


def content_hash(papers: list[Paper]) -> str:
    """What a feed said, independent of order and of dates in its channel header."""
    keys = sorted(f"{p.id} {p.version} {p.announce_type}" for p in papers)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def weekday_announcements(start: datetime, end: datetime) -> int:
    """How many weekday announcement moments fall after `start` and up to `end`."""
    count = 0
    day = start.date()
    while day <= end.date():
        moment = datetime.combine(day, ANNOUNCEMENT_TIME_UTC, UTC)
        if day.weekday() < 5 and start < moment <= end:
            count += 1
        day += timedelta(days=1)
    return count


def is_weekend_listing_day(now: datetime) -> bool:
    """True while the current arXiv listing is a Saturday's or Sunday's: empty by design."""
    return (now.astimezone(UTC) - timedelta(hours=5)).weekday() >= 5


def health_fields(
    state: dict, status: str, kind: str, new_hash: str | None, now: datetime
) -> tuple[str, dict]:
    """The health status a read or failure earns, and the feed-row fields to save.

    `new_hash` is the content hash of a document read in full, or None (a 304, a failure,
    or a document read only in part, which says nothing reliable about the content).
    """
    stamp = now.isoformat(timespec="seconds")
    fields: dict = {"last_checked": stamp}
    if status in FAILED_STATUSES:
        fields["consecutive_errors"] = (state.get("consecutive_errors") or 0) + 1
        fields["first_error_at"] = state.get("first_error_at") or stamp
        return status, fields
    fields.update(last_ok=stamp, consecutive_errors=0, first_error_at=None)
    since = state.get("content_since")
    if new_hash is not None and new_hash != state.get("content_hash"):
        fields.update(content_hash=new_hash, content_since=stamp)
        return status, fields
    if kind in DAILY_KINDS and since:
        if weekday_announcements(datetime.fromisoformat(since), now) > 1:
            return "stale", fields
    return status, fields


@dataclass
class FeedHealth:
    """One polled feed as `paperbot feeds` shows it."""

    url: str
    name: str
    kind: str
    origin: str
    status: str
    detail: str
    last_checked: str | None
    last_ok: str | None
    items: int | None
    new: int | None
    updated: int | None
    consecutive_errors: int


def describe(row: dict) -> str:
    """What a feed's last status means, in words."""
    status = row.get("last_status")
    if status is None:
        return "not polled yet"
    if status == "ok":
        damage = f"; read with damage: {row['last_error']}" if row.get("last_error") else ""
        return f"ok, {row.get('last_items') or 0} items{damage}"
    if status == "empty":
        checked = row.get("last_checked")
        if (row.get("kind") or "") == "arxiv_listing" and checked:
            if is_weekend_listing_day(datetime.fromisoformat(checked)):
                return "ok but empty: arXiv does not announce on weekends"
            return "ok but empty on a weekday: an arXiv holiday, or a quiet category"
        return "ok but empty"
    if status == "not_modified":
        return "not modified since the last read"
    if status == "stale":
        return f"stale: the same content since {_day(row.get('content_since'))}"
    errors = row.get("consecutive_errors") or 0
    return f"{status}: {row.get('last_error') or 'no detail'} ({errors} in a row)"


def feed_health(settings: Settings, store: Store) -> list[FeedHealth]:
    """Every polled feed with its health, last success and counts."""
    declared = {feed.url for feed in settings.feeds}
    report = []
    for feed in active_feeds(settings, store):
        row = store.feeds.get(feed.url) or {}
        report.append(
            FeedHealth(
                url=feed.url,
                name=feed.name or row.get("name") or feed.url,
                kind=feed.kind or row.get("kind") or "",
                origin="settings" if feed.url in declared else "added",
                status=row.get("last_status") or "never",
                detail=describe(row),
                last_checked=row.get("last_checked"),
                last_ok=row.get("last_ok"),
                items=row.get("last_items"),
                new=row.get("last_new"),
                updated=row.get("last_updated"),
                consecutive_errors=row.get("consecutive_errors") or 0,
            )
        )
    return report


def feed_health_warnings(store: Store, feeds: list[FeedSettings] | None = None) -> list[str]:
    """One sentence for each failing or stale feed, for digests and status messages.

    `feeds` limits the warnings to the feeds a digest depends on; None means every feed
    polled, as recorded in the store. A quiet day (empty, not modified) is no warning.
    """
    if feeds is None:
        removed = store.feeds.removed_urls()
        rows = [row for row in store.feeds.all() if row["url"] not in removed]
    else:
        rows = [store.feeds.get(feed.url) for feed in feeds]
        rows = [row for row in rows if row]
    warnings = []
    for row in rows:
        name = row.get("name") or row["url"]
        status = row.get("last_status")
        if status in FAILED_STATUSES:
            warnings.append(
                f"{name} is failing since {_day(row.get('first_error_at'))} "
                f"({row.get('last_error') or status}); its new papers may be missing. "
                f"Last read: {_day(row.get('last_ok'))}."
            )
        elif status == "stale":
            warnings.append(
                f"{name} looks stale: the same content since "
                f"{_day(row.get('content_since'))}; its new papers may be missing."
            )
    return warnings


def _day(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "never"


# -- notices of new versions -------------------------------------------------------------


def notice_text(paper: Paper, version: int) -> str:
    """The thread reply saying a new version of an alerted paper is out."""
    return f"A new version (v{version}) of {link(paper.url, paper.title)} is out."


def post_update_notices(store: Store, client: WebClient) -> int:
    """Post pending new-version notices as replies in their alerts' threads; return how many.

    A notice that fails for a reason that may pass stays pending for the next cycle, up to
    MAX_NOTICE_ATTEMPTS; one that cannot succeed is marked failed with the reason.
    """
    posted = 0
    for notice in store.notices.pending_update_notices():
        paper = store.papers.get(notice["paper_id"])
        if paper is None:
            store.notices.finish_update_notice(notice["id"], "failed", "paper no longer stored")
            continue
        text = notice_text(paper, notice["version"])
        try:
            client.chat_postMessage(
                channel=notice["slack_channel"],
                thread_ts=notice["thread_ts"],
                text=text,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            _notice_failed(store, notice, error.response.get("error") or str(error))
            continue
        except (SlackClientError, OSError) as error:
            _notice_failed(store, notice, f"could not reach Slack: {error}")
            continue
        store.notices.finish_update_notice(notice["id"], "sent")
        posted += 1
    return posted


def _notice_failed(store: Store, notice: dict, reason: str) -> None:
    gave_up = (notice["attempts"] or 0) + 1 >= MAX_NOTICE_ATTEMPTS
    status = "failed" if reason in NOTICE_PERMANENT_ERRORS or gave_up else "pending"
    store.notices.finish_update_notice(notice["id"], status, reason)
    log.warning("new-version notice %s for %s: %s", notice["id"], notice["paper_id"], reason)
