"""arXiv's daily listing feeds: rss.arxiv.org RSS 2.0 and Atom, and the pre-2024 RSS 1.0/RDF.

feedparser reads the XML (bot/sources/xmlfeed.py); this module adds arXiv's meaning: ids and
versions, announce types, categories and cross-lists, and the legacy RDF conventions.
"""

from __future__ import annotations

import html
import re

from bot.papers import (
    Paper,
    arxiv_id,
    clean_abstract,
    normalize_doi,
    split_authors,
    tex_decoded,
)
from bot.sources.base import (
    FeedResult,
    arxiv_abs_url,
    arxiv_pdf_url,
    finish,
    https,
    iso_date,
    squash,
)
from bot.sources.xmlfeed import XmlFeed, pdf_link, read_xml

KIND = "arxiv_listing"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")

_ANNOUNCE_IN_TEXT = re.compile(r"Announce Type:\s*([a-z-]+)")
# The legacy RDF title ends "... . (arXiv:2307.00008v1 [cs.CL])" or "... [cs.CL] UPDATED)".
_LEGACY_TITLE = re.compile(
    r"^(?P<title>.*?)\.?\s*\(arXiv:(?P<id>\S+)\s+\[(?P<cat>[^\]]+)\](?P<updated>\s+UPDATED)?\)\s*$",
    re.S,
)
_FEED_CATEGORY = re.compile(r"^(\S+) updates on arXiv\.org")
# A link's text runs to its "</a>" and holds no other link; a tag holds no "<". Read without
# those bounds, a hostile creator of "<a<a<a..." took 5 s per 200 KB.
_ANCHOR = re.compile(r"<a\b[^<>]*+>((?:(?!</?a\b).)*+)</a>", re.S | re.I)
_TAG = re.compile(r"<[^<>]++>")
_PARAGRAPH_TAG = re.compile(r"</?p>", re.I)


def parse(content: bytes, url: str = "") -> FeedResult:
    """Read an arXiv listing feed in any of its three formats into Papers."""
    feed, failed = read_xml(KIND, content)
    if failed:
        return failed
    read = _legacy_paper if feed.version == "rss10" else _current_paper
    feed_category = _FEED_CATEGORY.match(feed.title or "")
    channel_date = iso_date(feed.channel_date_text())
    papers, skipped = [], 0
    for entry in feed.entries:
        paper = read(feed, entry, url, feed_category and feed_category.group(1), channel_date)
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, feed.title, feed.damage, skipped)


def _paper(
    ident_text: str,
    title: str,
    abstract: str,
    authors: list[str],
    categories: list[str],
    announce_type: str | None,
    published: str | None,
    source: str,
    doi: str | None = None,
    updated: str | None = None,
    pdf_url: str | None = None,
) -> Paper | None:
    """A Paper for one listing item, or None when the item carries no arXiv id."""
    found = arxiv_id(ident_text)
    if not found:
        return None
    ident, version = found
    return Paper(
        id=ident,
        title=squash(title),
        abstract=abstract,
        url=arxiv_abs_url(ident),
        authors=[tex_decoded(name) for name in authors],
        categories=categories,
        primary_category=categories[0] if categories else None,
        pdf_url=https(pdf_url) or arxiv_pdf_url(ident),
        doi=normalize_doi(doi),
        version=version,
        announce_type=announce_type if announce_type in ANNOUNCE_TYPES else None,
        published=published,
        updated=updated,
        source=source,
    )


def _announce_type(entry: dict, description: str) -> str | None:
    """arxiv:announce_type, or the "Announce Type:" written into the description."""
    value = (entry.get("arxiv_announce_type") or "").strip()
    if not value:
        match = _ANNOUNCE_IN_TEXT.search(description)
        value = match.group(1) if match else ""
    return value or None


def _current_paper(
    feed: XmlFeed, entry: dict, url: str, feed_category: str | None, channel_date: str | None
) -> Paper | None:
    """An rss.arxiv.org item (RSS 2.0 or Atom): id "oai:arXiv.org:IDvN", one dc:creator
    string for all authors. Per-item dates only appeared in August 2024; before that the
    channel's date is the announcement date of every item."""
    description = entry.get("summary") or ""
    names = [squash(name) for name in feed.authors(entry)]
    published, updated = feed.date_text(entry)
    return _paper(
        entry.get("id") or entry.get("link") or description[:80],
        title=entry.get("title") or "",
        abstract=clean_abstract(description, unescape=False),
        authors=split_authors(names[0]) if len(names) == 1 else names,
        categories=[squash(t.get("term")) for t in entry.get("tags") or [] if t.get("term")],
        announce_type=_announce_type(entry, description),
        published=iso_date(published) or channel_date,
        source=url,
        doi=entry.get("arxiv_doi"),
        updated=iso_date(updated),
        pdf_url=pdf_link(entry),
    )


def _legacy_html_text(markup: str) -> str:
    """The text of the legacy description: paragraphs "<p>...</p>" whose text is HTML-escaped.

    Only the paragraph tags are removed (a space between two paragraphs), then entities
    are decoded once, so text such as "&lt;user&gt;" in the feed comes out as "<user>".
    """
    return clean_abstract(_PARAGRAPH_TAG.sub(" ", markup), unescape=True)


def _legacy_authors(creator: str) -> list[str]:
    """The legacy dc:creator is HTML: one <a href=...>Name</a> link per author."""
    names = [squash(html.unescape(_TAG.sub("", a))) for a in _ANCHOR.findall(creator)]
    return [n for n in names if n] or split_authors(_TAG.sub("", creator))


def _legacy_announce_type(primary: str, feed_category: str | None, updated: bool) -> str:
    """What the legacy title tells: UPDATED marks a replacement, and a primary category
    outside the feed's own category marks a cross-list."""
    cross = bool(
        feed_category and primary != feed_category and not primary.startswith(feed_category + ".")
    )
    if updated:
        return "replace-cross" if cross else "replace"
    return "cross" if cross else "new"


def _legacy_paper(
    feed: XmlFeed, entry: dict, url: str, feed_category: str | None, channel_date: str | None
) -> Paper | None:
    """A pre-2024 RSS 1.0/RDF item: id, version, primary category and UPDATED are in the
    title; the description and dc:creator are escaped HTML."""
    parts = _LEGACY_TITLE.match(squash(entry.get("title")))
    if not parts:
        return None
    primary = parts.group("cat").strip()
    categories = [primary]
    announce_type = _legacy_announce_type(primary, feed_category, bool(parts.group("updated")))
    if announce_type.endswith("cross"):
        categories.append(feed_category)
    published, _ = feed.date_text(entry)
    return _paper(
        parts.group("id"),
        title=parts.group("title"),
        abstract=_legacy_html_text(entry.get("summary") or ""),
        authors=_legacy_authors(" ".join(feed.authors(entry))),
        categories=categories,
        announce_type=announce_type,
        published=iso_date(published) or channel_date,
        source=url,
    )
