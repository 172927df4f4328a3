"""The arXiv API (export.arxiv.org/api/query): Atom, one <author> per person.

feedparser reads the XML (bot/sources/xmlfeed.py) of both backends: the 2016 one declares
the arxiv namespace on each element and hard-wraps the text; the current one declares it
once. An error is served as a feed with a single entry titled "Error" (with HTTP 400); it
becomes a parse_error carrying its text.
"""

from __future__ import annotations

from bot.papers import Paper, arxiv_id, clean_abstract, normalize_doi, tex_decoded
from bot.sources.base import (
    FeedResult,
    arxiv_abs_url,
    arxiv_pdf_url,
    finish,
    https,
    iso_date,
    parse_error,
    squash,
)
from bot.sources.xmlfeed import XmlFeed, pdf_link, read_xml

KIND = "arxiv_api"


def parse(content: bytes, url: str = "") -> FeedResult:
    """Read an arXiv API response into Papers."""
    feed, failed = read_xml(KIND, content)
    if failed:
        return failed
    if not feed.is_atom:
        return parse_error(KIND, f"not an arXiv API response: a {feed.version} feed")
    api_error = _api_error(feed.entries)
    if api_error:
        return parse_error(KIND, f"arXiv API error: {api_error}", feed.title)
    papers, skipped = [], 0
    for entry in feed.entries:
        paper = _paper(feed, entry, url)
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, feed.title, feed.damage, skipped)


def _api_error(entries: list[dict]) -> str | None:
    """The message of an error document: a lone entry titled "Error"."""
    if len(entries) != 1 or entries[0].get("title") != "Error":
        return None
    return squash(entries[0].get("summary")) or "unknown error"


def _categories(entry: dict) -> list[str]:
    """The entry's categories with arxiv:primary_category first."""
    terms = [tag.get("term") for tag in entry.get("tags") or [] if tag.get("term")]
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    if primary:
        terms = [primary] + [t for t in terms if t != primary]
    return list(dict.fromkeys(terms))


def _doi(entry: dict) -> str | None:
    """arxiv:doi, else the link titled "doi". From the 2016 backend's per-element namespace
    declarations, feedparser's lenient parser keeps the attributes instead of the text."""
    doi = entry.get("arxiv_doi")
    if isinstance(doi, str) and doi.strip():
        return normalize_doi(doi)
    link = next((ln for ln in entry.get("links") or [] if ln.get("title") == "doi"), None)
    return normalize_doi(link.get("href")) if link else None


def _paper(feed: XmlFeed, entry: dict, url: str) -> Paper | None:
    """A Paper for one API entry; None when its id is not an arXiv id."""
    # The entry id is "http://arxiv.org/abs/IDvN"; the version is only there.
    found = arxiv_id(entry.get("id"))
    if not found:
        return None
    ident, version = found
    categories = _categories(entry)
    published, updated = feed.date_text(entry)
    return Paper(
        id=ident,
        title=squash(entry.get("title")),
        abstract=clean_abstract(entry.get("summary"), unescape=False),
        url=arxiv_abs_url(ident),
        authors=[tex_decoded(squash(name)) for name in feed.authors(entry)],
        categories=categories,
        primary_category=categories[0] if categories else None,
        pdf_url=https(pdf_link(entry)) or arxiv_pdf_url(ident),
        doi=_doi(entry),
        version=version,
        published=iso_date(published),
        updated=iso_date(updated),
        source=url,
    )
