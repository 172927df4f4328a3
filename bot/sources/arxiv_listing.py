"""arXiv's daily listing feeds: rss.arxiv.org RSS 2.0 and Atom, and the pre-2024 RSS 1.0/RDF.

The XML is read with the standard library parser rather than feedparser, whose HTML
sanitizer deletes tag-like text ("<user>", "<item path, feature path, value>") from the
descriptions that carry the abstracts.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from bot.papers import Paper, arxiv_id, clean_abstract, normalize_doi, split_authors
from bot.sources.base import (
    ARXIV,
    ATOM,
    DC,
    RSS1,
    FeedResult,
    arxiv_abs_url,
    arxiv_pdf_url,
    child_text,
    finish,
    https,
    iso_date,
    local,
    no_channel,
    read_xml,
    squash,
    text_of,
    wrong_root,
)

KIND = "arxiv_listing"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")

_ANNOUNCE_IN_TEXT = re.compile(r"Announce Type:\s*([a-z-]+)")
# The legacy RDF title ends "... . (arXiv:2307.00008v1 [cs.CL])" or "... [cs.CL] UPDATED)".
_LEGACY_TITLE = re.compile(
    r"^(?P<title>.*?)\.?\s*\(arXiv:(?P<id>\S+)\s+\[(?P<cat>[^\]]+)\](?P<updated>\s+UPDATED)?\)\s*$",
    re.S,
)
_FEED_CATEGORY = re.compile(r"^(\S+) updates on arXiv\.org")
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a>", re.S | re.I)


def parse(content: bytes, url: str = "") -> FeedResult:
    """Read an arXiv listing feed in any of its three formats into Papers."""
    doc, failed = read_xml(KIND, content)
    if failed:
        return failed
    root, name = doc.root, local(doc.root.tag)
    if name == "rss":
        return _parse_rss2(root, url, doc.error)
    if name == "feed" and root.tag.startswith(f"{{{ATOM}}}"):
        return _parse_atom(root, url, doc.error)
    if name == "RDF":
        return _parse_rdf(root, url, doc.error)
    return wrong_root(KIND, doc, "an arXiv listing feed")


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
        authors=authors,
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


def _announce_type(elem: ET.Element, description: str) -> str | None:
    """arxiv:announce_type, or the "Announce Type:" written into the description."""
    value = child_text(elem, ARXIV, "announce_type")
    if not value:
        match = _ANNOUNCE_IN_TEXT.search(description)
        value = match.group(1) if match else ""
    return value or None


def _parse_rss2(root: ET.Element, url: str, xml_error: str | None) -> FeedResult:
    """rss.arxiv.org RSS 2.0: one dc:creator string, guid "oai:arXiv.org:IDvN"."""
    channel = root.find("channel")
    if channel is None:
        return no_channel(KIND, xml_error)
    title = child_text(channel, "", "title") or None
    # Per-item pubDate only appeared in August 2024; before that the channel's date is the
    # announcement date of every item.
    channel_date = iso_date(child_text(channel, "", "pubDate"))
    papers, skipped = [], 0
    for item in channel.findall("item"):
        description = text_of(item.find("description"))
        paper = _paper(
            child_text(item, "", "guid") or child_text(item, "", "link") or description[:80],
            title=text_of(item.find("title")),
            abstract=clean_abstract(description, unescape=False),
            authors=split_authors(child_text(item, DC, "creator")),
            categories=[squash(text_of(c)) for c in item.findall("category") if text_of(c)],
            announce_type=_announce_type(item, description),
            published=iso_date(child_text(item, "", "pubDate")) or channel_date,
            source=url,
            doi=child_text(item, ARXIV, "DOI"),
        )
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, title, xml_error, skipped)


def _atom_authors(entry: ET.Element) -> list[str]:
    """Atom listing authors: one dc:creator string, or one <author> per person."""
    creator = child_text(entry, DC, "creator")
    if creator:
        return split_authors(creator)
    return [
        squash(child_text(author, ATOM, "name"))
        for author in entry.findall(f"{{{ATOM}}}author")
        if child_text(author, ATOM, "name")
    ]


def _atom_pdf(entry: ET.Element) -> str | None:
    """The entry's PDF link, if it gives one."""
    for link in entry.findall(f"{{{ATOM}}}link"):
        if link.get("type") == "application/pdf" or link.get("title") == "pdf":
            return link.get("href")
    return None


def _parse_atom(root: ET.Element, url: str, xml_error: str | None) -> FeedResult:
    """rss.arxiv.org Atom: the same items as the RSS 2.0 feed, in Atom elements."""
    title = squash(child_text(root, ATOM, "title")) or None
    feed_date = iso_date(child_text(root, ATOM, "updated"))
    papers, skipped = [], 0
    for entry in root.findall(f"{{{ATOM}}}entry"):
        summary = text_of(entry.find(f"{{{ATOM}}}summary"))
        paper = _paper(
            child_text(entry, ATOM, "id") or summary[:80],
            title=text_of(entry.find(f"{{{ATOM}}}title")),
            abstract=clean_abstract(summary, unescape=False),
            authors=_atom_authors(entry),
            categories=[
                c.get("term") for c in entry.findall(f"{{{ATOM}}}category") if c.get("term")
            ],
            announce_type=_announce_type(entry, summary),
            published=iso_date(child_text(entry, ATOM, "published")) or feed_date,
            source=url,
            doi=child_text(entry, ARXIV, "DOI"),
            updated=iso_date(child_text(entry, ATOM, "updated")),
            pdf_url=_atom_pdf(entry),
        )
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, title, xml_error, skipped)


def _legacy_html_text(markup: str) -> str:
    """The text of the legacy description: "<p>abstract</p>" whose abstract is HTML-escaped.

    Only the wrapping paragraph tags are removed, then entities are decoded once, so text
    such as "&lt;user&gt;" in the feed comes out as "<user>".
    """
    markup = re.sub(r"^\s*<p>|</p>\s*$", "", markup.strip())
    return clean_abstract(markup, unescape=True)


def _legacy_authors(creator: str) -> list[str]:
    """The legacy dc:creator is HTML: one <a href=...>Name</a> link per author."""
    names = [squash(html.unescape(re.sub(r"<[^>]+>", "", a))) for a in _ANCHOR.findall(creator)]
    return [n for n in names if n] or split_authors(re.sub(r"<[^>]+>", "", creator))


def _legacy_announce_type(primary: str, feed_category: str | None, updated: bool) -> str:
    """What the legacy title tells: UPDATED marks a replacement, and a primary category
    outside the feed's own category marks a cross-list."""
    cross = bool(
        feed_category and primary != feed_category and not primary.startswith(feed_category + ".")
    )
    if updated:
        return "replace-cross" if cross else "replace"
    return "cross" if cross else "new"


def _parse_rdf(root: ET.Element, url: str, xml_error: str | None) -> FeedResult:
    """The pre-2024 RSS 1.0/RDF listing: id, version, primary category and UPDATED are in
    the title; the description and dc:creator are escaped HTML."""
    channel = root.find(f"{{{RSS1}}}channel")
    title = child_text(channel, RSS1, "title") if channel is not None else ""
    match = _FEED_CATEGORY.match(title)
    feed_category = match.group(1) if match else None
    channel_date = iso_date(child_text(channel, DC, "date")) if channel is not None else None
    papers, skipped = [], 0
    for item in root.findall(f"{{{RSS1}}}item"):
        raw_title = squash(text_of(item.find(f"{{{RSS1}}}title")))
        parts = _LEGACY_TITLE.match(raw_title)
        if not parts:
            skipped += 1
            continue
        primary = parts.group("cat").strip()
        categories = [primary]
        announce_type = _legacy_announce_type(primary, feed_category, bool(parts.group("updated")))
        if announce_type.endswith("cross"):
            categories.append(feed_category)
        paper = _paper(
            parts.group("id"),
            title=parts.group("title"),
            abstract=_legacy_html_text(text_of(item.find(f"{{{RSS1}}}description"))),
            authors=_legacy_authors(text_of(item.find(f"{{{DC}}}creator"))),
            categories=categories,
            announce_type=announce_type,
            published=iso_date(child_text(item, DC, "date")) or channel_date,
            source=url,
        )
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, title or None, xml_error, skipped)
