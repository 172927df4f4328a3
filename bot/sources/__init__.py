"""Feed adapters: each turns the bytes of one feed format into Papers.

    result = parse_feed(content, url)        # the format is detected
    result.status in ("ok", "empty", "parse_error")

Kinds: "arxiv_listing" (rss.arxiv.org RSS 2.0 / Atom, and the pre-2024 RDF listing),
"arxiv_api" (export.arxiv.org/api/query Atom), "hf_daily" (Hugging Face daily papers JSON),
"rss" (any other RSS 2.0 / Atom / RSS 1.0 feed, bioRxiv and medRxiv included).
"""

from __future__ import annotations

import dataclasses
import logging
import urllib.parse

from bot.papers import Paper
from bot.sources import arxiv_api, arxiv_listing, hf_daily, rss
from bot.sources.base import FeedResult, parse_error

__all__ = ["KINDS", "FeedResult", "detect_kind", "parse_feed"]

_ADAPTERS = {
    "arxiv_listing": arxiv_listing.parse,
    "arxiv_api": arxiv_api.parse,
    "hf_daily": hf_daily.parse,
    "rss": rss.parse,
}
KINDS = tuple(_ADAPTERS)
log = logging.getLogger(__name__)

# What the first bytes of each format say about it. The listing's channel title and the
# API's OpenSearch elements come before the first item, so the head is enough.
_HEAD_BYTES = 8192
_LISTING_MARKS = (b"updates on arXiv.org", b"<arxiv:announce_type>", b"Announce Type:")
# Longer than this, a title is no title (a hostile feed's filler): it is cut, ending in "…".
# arXiv's longest run to about 300 characters.
MAX_TITLE_CHARS = 500


def _kind_from_url(url: str) -> str | None:
    """The kind an arXiv or Hugging Face address implies, if any."""
    parts = urllib.parse.urlsplit(url.strip().lower())
    host, path = parts.netloc, parts.path
    if host == "rss.arxiv.org" or (host.endswith("arxiv.org") and path.startswith("/rss")):
        return "arxiv_listing"
    if host.endswith("arxiv.org") and path.startswith("/api/"):
        return "arxiv_api"
    if host.endswith("huggingface.co") and path.startswith("/api/daily_papers"):
        return "hf_daily"
    return None


def detect_kind(content: bytes, url: str = "") -> str:
    """Guess a document's kind from its first bytes, then from its address; "rss" otherwise.

    An HTML page or a blank document gets "rss" like any unknown input; parse_feed then
    reports it as a parse_error.
    """
    head = content[:_HEAD_BYTES].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith((b"[", b"{")):
        return "hf_daily"
    # Listing marks first: they are specific, while an abstract might mention arxiv.org/api.
    if any(mark in head for mark in _LISTING_MARKS):
        return "arxiv_listing"
    if b"arxiv.org/api" in head or (b"opensearch" in head and b"arxiv.org/schemas/atom" in head):
        return "arxiv_api"
    return _kind_from_url(url) or "rss"


def parse_feed(content: bytes, url: str = "", kind: str | None = None) -> FeedResult:
    """Turn one fetched feed document into Papers, detecting its kind unless given.

    Never raises on bad input: an HTML page, an empty document, a document in no feed
    format, or an API error document gives status "parse_error" with a short reason in
    `error`. A damaged feed gives "ok" with the damage in `error` and every complete item
    a lenient reader finds in it.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    kind = kind or detect_kind(content, url)
    if kind not in _ADAPTERS:
        return parse_error(kind, f"unknown feed kind {kind!r}; known: {', '.join(KINDS)}")
    try:
        result = _ADAPTERS[kind](content, url)
    except Exception as exc:
        # One odd feed must not stop a polling cycle; the traceback goes to the log.
        log.exception("feed %s: %s adapter failed", url or "(no url)", kind)
        return parse_error(kind, f"could not read the feed: {type(exc).__name__}: {exc}")
    result.papers = [with_title_cut(paper) for paper in result.papers]
    return result


def with_title_cut(paper: Paper) -> Paper:
    """`paper` with its title cut to MAX_TITLE_CHARS, if longer."""
    if len(paper.title) <= MAX_TITLE_CHARS:
        return paper
    return dataclasses.replace(paper, title=paper.title[: MAX_TITLE_CHARS - 1].rstrip() + "…")
