"""Generic journal and preprint feeds: RSS 0.9x/1.0/2.0, Atom and RDF (bioRxiv, medRxiv, ...).

Descriptions are HTML by the RSS specification. Only real HTML tags are removed from them,
by a list of tag names, so text such as "<user>" or "a < b" in an abstract survives:
feedparser's sanitizer, the library's own way, deletes such text from real abstracts.
"""

from __future__ import annotations

import re

from bot.papers import Paper, arxiv_id, canonical_id, clean_abstract, normalize_doi, split_authors
from bot.sources.base import FeedResult, arxiv_abs_url, arxiv_pdf_url, finish, iso_date, squash
from bot.sources.xmlfeed import XmlFeed, pdf_link, read_xml

KIND = "rss"

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>?#]+")
# Tags that end a block of text become a space; inline tags vanish.
_BLOCK_TAGS = "blockquote|br|dd|div|dl|dt|h[1-6]|hr|li|ol|p|pre|table|td|th|tr|ul"
_INLINE_TAGS = "a|abbr|b|big|cite|code|em|font|i|img|q|s|small|span|strike|strong|sub|sup|tt|u"
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS}|jats:p|jats:sec|jats:title)(?:\s[^<>]*)?/?>", re.I)
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_TAGS}|jats:[a-z-]+)(?:\s[^<>]*)?/?>", re.I)
# bioRxiv and medRxiv put the version in the link: .../content/short/857789v1?rss=1
_PREPRINT_VERSION = re.compile(r"/\d+v(\d+)(?:[?#/.]|$)")
# RSS 2.0 <author>: "email (Name)".
_EMAIL_AND_NAME = re.compile(r"^\S+@\S+\s+\((.+)\)\s*$")


def html_to_text(markup: str) -> str:
    """Text from a description that is HTML: known HTML tags removed, entities decoded once.

    Unknown tag-like text ("<user>", "<item path, feature path, value>") is left as is,
    because in an abstract it is part of the text, not markup.
    """
    text = _BLOCK_TAG.sub(" ", markup)
    text = _INLINE_TAG.sub("", text)
    return clean_abstract(text, unescape=True)


def parse(content: bytes, url: str = "") -> FeedResult:
    """Read an RSS 0.9x/1.0/2.0, Atom or RDF feed into Papers."""
    feed, failed = read_xml(KIND, content)
    if failed:
        return failed
    channel_date = iso_date(feed.channel_date_text())
    papers, skipped = [], 0
    for entry in feed.entries:
        paper = _paper(feed, entry, url, channel_date)
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, feed.title, feed.damage, skipped)


def _text(detail: dict | None, value: str | None) -> str:
    """A title or description as plain text: HTML by its type (RSS descriptions always are),
    plain text as it is."""
    if detail and "html" in (detail.get("type") or ""):
        return html_to_text(value or "")
    return clean_abstract(value, unescape=False)


def _abstract(entry: dict) -> str:
    """The summary (description), or the first content (content:encoded, Atom content)."""
    if entry.get("summary"):
        return _text(entry.get("summary_detail"), entry.get("summary"))
    for content in entry.get("content") or []:
        if content.get("value"):
            return _text(content, content["value"])
    return ""


def _authors(feed: XmlFeed, entry: dict) -> list[str]:
    """Names: as given in Atom and for several dc:creator; one RSS string is split, and
    its "email (Name)" form (RSS 2.0 <author>) gives the name."""
    names = [squash(name) for name in feed.authors(entry)]
    if feed.is_atom or len(names) != 1:
        return names
    return split_authors(_EMAIL_AND_NAME.sub(r"\1", names[0]))


def _find_doi(texts: list[str]) -> str | None:
    """The first DOI in the guid, dc:identifier, prism:doi or link, normalised."""
    for text in texts:
        match = _DOI.search(text or "")
        if match:
            found = match.group(0)
            # "(see 10.1/x)": a closing parenthesis with no opening one is the sentence's.
            if found.endswith(")") and "(" not in found:
                found = found[:-1]
            return normalize_doi(found)
    return None


def _paper(feed: XmlFeed, entry: dict, url: str, channel_date: str | None) -> Paper | None:
    """A Paper from one entry; None when it has neither a title nor any identity."""
    title = squash(_text(entry.get("title_detail"), entry.get("title")))
    link = (entry.get("link") or "").strip()
    guid = (entry.get("id") or "").strip()
    arxiv = next((t for t in (guid, link) if "arxiv" in t.lower() and arxiv_id(t)), None)
    identifiers = [guid, entry.get("dc_identifier"), entry.get("prism_doi"), link]
    doi = _find_doi(identifiers)
    # A guid is a page only when it is a web address ("tag:..." or "12345" are not).
    web_guid = guid if guid.startswith(("http://", "https://")) else ""
    page = link or (f"https://doi.org/{doi}" if doi else "") or web_guid
    if not title or not (arxiv or doi or page):
        return None
    ident = canonical_id(arxiv=arxiv, doi=doi, url=page or None)
    version, pdf_url = None, pdf_link(entry)
    if arxiv:
        version = arxiv_id(arxiv)[1]
        page, pdf_url = arxiv_abs_url(ident), pdf_url or arxiv_pdf_url(ident)
    elif doi and doi.startswith("10.1101/"):
        match = _PREPRINT_VERSION.search(link)
        version = int(match.group(1)) if match else None
    tags = [squash(tag.get("term")) for tag in entry.get("tags") or []]
    categories = list(dict.fromkeys(t for t in tags if t))
    published, updated = feed.date_text(entry)
    return Paper(
        id=ident,
        title=title,
        abstract=_abstract(entry),
        url=page,
        authors=_authors(feed, entry),
        categories=categories,
        primary_category=categories[0] if categories else None,
        pdf_url=pdf_url,
        doi=doi,
        version=version,
        published=iso_date(published or entry.get("prism_publicationdate")) or channel_date,
        updated=iso_date(updated),
        source=url,
    )
