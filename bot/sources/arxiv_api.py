"""The arXiv API (export.arxiv.org/api/query): Atom, one <author> per person.

Both backends are read: the 2016 one declares the arxiv namespace on each element and
hard-wraps the text; the current one declares it once. An error is served as a feed with a
single entry titled "Error" (with HTTP 400); it becomes a parse_error carrying its text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.papers import Paper, arxiv_id, clean_abstract, normalize_doi
from bot.sources.base import (
    ARXIV,
    ATOM,
    FeedResult,
    arxiv_abs_url,
    arxiv_pdf_url,
    child_text,
    finish,
    https,
    iso_date,
    parse_error,
    read_xml,
    squash,
    text_of,
    wrong_root,
)

KIND = "arxiv_api"


def parse(content: bytes, url: str = "") -> FeedResult:
    """Read an arXiv API response into Papers."""
    doc, failed = read_xml(KIND, content)
    if failed:
        return failed
    root = doc.root
    if root.tag != f"{{{ATOM}}}feed":
        return wrong_root(KIND, doc, "an arXiv API response")
    title = squash(child_text(root, ATOM, "title")) or None
    entries = root.findall(f"{{{ATOM}}}entry")
    api_error = _api_error(entries)
    if api_error:
        return parse_error(KIND, f"arXiv API error: {api_error}", title)
    papers, skipped = [], 0
    for entry in entries:
        paper = _paper(entry, url)
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, title, doc.error, skipped)


def _api_error(entries: list[ET.Element]) -> str | None:
    """The message of an error document: a lone entry titled "Error"."""
    if len(entries) != 1 or child_text(entries[0], ATOM, "title") != "Error":
        return None
    return squash(child_text(entries[0], ATOM, "summary")) or "unknown error"


def _categories(entry: ET.Element) -> list[str]:
    """The entry's categories with arxiv:primary_category first."""
    terms = [c.get("term") for c in entry.findall(f"{{{ATOM}}}category") if c.get("term")]
    primary_elem = entry.find(f"{{{ARXIV}}}primary_category")
    primary = primary_elem.get("term") if primary_elem is not None else None
    if primary:
        terms = [primary] + [t for t in terms if t != primary]
    return list(dict.fromkeys(terms))


def _pdf_link(entry: ET.Element) -> str | None:
    """The entry's PDF link (title="pdf" or type application/pdf)."""
    for link in entry.findall(f"{{{ATOM}}}link"):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            return https(link.get("href"))
    return None


def _paper(entry: ET.Element, url: str) -> Paper | None:
    """A Paper for one API entry; None when its id is not an arXiv id."""
    # The entry id is "http://arxiv.org/abs/IDvN"; the version is only there.
    found = arxiv_id(child_text(entry, ATOM, "id"))
    if not found:
        return None
    ident, version = found
    categories = _categories(entry)
    # entry.author in feedparser is the last author; every <author> is read here.
    authors = [
        squash(child_text(author, ATOM, "name"))
        for author in entry.findall(f"{{{ATOM}}}author")
        if child_text(author, ATOM, "name")
    ]
    return Paper(
        id=ident,
        title=squash(text_of(entry.find(f"{{{ATOM}}}title"))),
        abstract=clean_abstract(text_of(entry.find(f"{{{ATOM}}}summary")), unescape=False),
        url=arxiv_abs_url(ident),
        authors=authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        pdf_url=_pdf_link(entry) or arxiv_pdf_url(ident),
        doi=normalize_doi(child_text(entry, ARXIV, "doi")),
        version=version,
        published=iso_date(child_text(entry, ATOM, "published")),
        updated=iso_date(child_text(entry, ATOM, "updated")),
        source=url,
    )
