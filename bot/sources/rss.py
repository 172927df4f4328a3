"""Generic journal and preprint feeds: RSS 2.0, Atom and RSS 1.0/RDF (bioRxiv, medRxiv, ...).

The XML is read with the standard library parser so that descriptions stay verbatim.
Descriptions are HTML by the RSS specification; only real HTML tags are removed from them,
so text such as "<user>" or "a < b" in an abstract survives.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from bot.papers import Paper, arxiv_id, canonical_id, clean_abstract, normalize_doi, split_authors
from bot.sources.base import (
    ATOM,
    DC,
    PRISM_NAMESPACES,
    RSS1,
    FeedResult,
    arxiv_abs_url,
    arxiv_pdf_url,
    child_text,
    finish,
    iso_date,
    local,
    no_channel,
    read_xml,
    squash,
    text_of,
    wrong_root,
)

KIND = "rss"
CONTENT = "http://purl.org/rss/1.0/modules/content/"

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>?#]+")
# Tags that end a block of text become a space; inline tags vanish.
_BLOCK_TAGS = "blockquote|br|dd|div|dl|dt|h[1-6]|hr|li|ol|p|pre|table|td|th|tr|ul"
_INLINE_TAGS = "a|abbr|b|big|cite|code|em|font|i|img|q|s|small|span|strike|strong|sub|sup|tt|u"
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS}|jats:p|jats:sec|jats:title)(?:\s[^<>]*)?/?>", re.I)
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_TAGS}|jats:[a-z-]+)(?:\s[^<>]*)?/?>", re.I)
# bioRxiv and medRxiv put the version in the link: .../content/short/857789v1?rss=1
_PREPRINT_VERSION = re.compile(r"/\d+v(\d+)(?:[?#/.]|$)")


def html_to_text(markup: str) -> str:
    """Text from a description that is HTML: known HTML tags removed, entities decoded once.

    Unknown tag-like text ("<user>", "<item path, feature path, value>") is left as is,
    because in an abstract it is part of the text, not markup.
    """
    text = _BLOCK_TAG.sub(" ", markup)
    text = _INLINE_TAG.sub("", text)
    return clean_abstract(text, unescape=True)


@dataclass
class _Item:
    """The raw fields of one item, whatever the feed format."""

    title: str = ""
    link: str = ""
    guid: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    pdf_url: str | None = None


def parse(content: bytes, url: str = "") -> FeedResult:
    """Read an RSS 2.0, Atom or RSS 1.0 feed into Papers."""
    doc, failed = read_xml(KIND, content)
    if failed:
        return failed
    root = doc.root
    name = local(root.tag)
    if name == "rss":
        channel = root.find("channel")
        if channel is None:
            return no_channel(KIND, doc.error)
        title, items = child_text(channel, "", "title"), channel.findall("item")
        read, channel_date = _rss2_item, _channel_date(channel, "")
    elif root.tag == f"{{{ATOM}}}feed":
        title, items = child_text(root, ATOM, "title"), root.findall(f"{{{ATOM}}}entry")
        read, channel_date = _atom_item, iso_date(child_text(root, ATOM, "updated"))
    elif name == "RDF":
        channel = root.find(f"{{{RSS1}}}channel")
        title = child_text(channel, RSS1, "title") if channel is not None else ""
        items = root.findall(f"{{{RSS1}}}item")
        read = _rss1_item
        channel_date = _channel_date(channel, RSS1) if channel is not None else None
    else:
        return wrong_root(KIND, doc, "a feed")
    papers, skipped = [], 0
    for elem in items:
        paper = _paper(read(elem), url, channel_date)
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, squash(title) or None, doc.error, skipped)


def _channel_date(channel: ET.Element, namespace: str) -> str | None:
    """The channel's own date, used for items that carry none."""
    for ns, name in ((namespace, "pubDate"), (DC, "date"), (namespace, "lastBuildDate")):
        value = iso_date(child_text(channel, ns, name))
        if value:
            return value
    return None


def _dc_and_prism(elem: ET.Element, item: _Item) -> None:
    """Fill what Dublin Core and PRISM say, which all three formats may carry."""
    creators = [squash(text_of(c)) for c in elem.findall(f"{{{DC}}}creator") if text_of(c).strip()]
    if len(creators) == 1:
        item.authors = item.authors or split_authors(creators[0])
    elif creators:
        item.authors = item.authors or creators
    item.categories += [squash(text_of(s)) for s in elem.findall(f"{{{DC}}}subject")]
    item.identifiers.append(child_text(elem, DC, "identifier"))
    item.published = item.published or iso_date(child_text(elem, DC, "date"))
    for prism in PRISM_NAMESPACES:
        item.identifiers.append(child_text(elem, prism, "doi"))
        item.published = item.published or iso_date(child_text(elem, prism, "publicationDate"))
    item.title = item.title or squash(child_text(elem, DC, "title"))


def _rss2_item(elem: ET.Element) -> _Item:
    """The fields of an RSS 2.0 <item>."""
    guid = elem.find("guid")
    item = _Item(
        title=squash(text_of(elem.find("title"))),
        link=child_text(elem, "", "link"),
        guid=text_of(guid).strip(),
        abstract=html_to_text(
            text_of(elem.find("description")) or text_of(elem.find(f"{{{CONTENT}}}encoded"))
        ),
        categories=[squash(text_of(c)) for c in elem.findall("category")],
        published=iso_date(child_text(elem, "", "pubDate")),
    )
    if guid is not None and guid.get("isPermaLink", "true") == "true" and not item.link:
        item.link = item.guid
    item.identifiers.append(item.guid)
    _dc_and_prism(elem, item)
    if not item.authors:
        # RSS <author> is "email (Name)"; keep the name when there is one.
        item.authors = [
            re.sub(r"^.*\((.+)\)\s*$", r"\1", squash(text_of(a)))
            for a in elem.findall("author")
            if text_of(a).strip()
        ]
    return item


def _atom_text(elem: ET.Element | None) -> str:
    """An Atom text construct as plain text, following its type attribute."""
    if elem is None:
        return ""
    kind = elem.get("type", "text")
    if kind == "html":
        return html_to_text(text_of(elem))
    # "text" was decoded once by the XML parser; "xhtml" is real elements, read as text.
    return clean_abstract(text_of(elem), unescape=False)


def _atom_item(elem: ET.Element) -> _Item:
    """The fields of an Atom <entry>."""
    item = _Item(
        title=squash(_atom_text(elem.find(f"{{{ATOM}}}title"))),
        guid=child_text(elem, ATOM, "id"),
        abstract=_atom_text(elem.find(f"{{{ATOM}}}summary"))
        or _atom_text(elem.find(f"{{{ATOM}}}content")),
        authors=[
            squash(child_text(a, ATOM, "name"))
            for a in elem.findall(f"{{{ATOM}}}author")
            if child_text(a, ATOM, "name")
        ],
        categories=[c.get("term", "") for c in elem.findall(f"{{{ATOM}}}category")],
        published=iso_date(child_text(elem, ATOM, "published")),
        updated=iso_date(child_text(elem, ATOM, "updated")),
    )
    for link in elem.findall(f"{{{ATOM}}}link"):
        rel, href = link.get("rel", "alternate"), link.get("href", "").strip()
        if link.get("type") == "application/pdf" or link.get("title") == "pdf":
            item.pdf_url = item.pdf_url or href
        elif rel == "alternate" and not item.link:
            item.link = href
    item.identifiers.append(item.guid)
    item.published = item.published or item.updated
    _dc_and_prism(elem, item)
    return item


def _rss1_item(elem: ET.Element) -> _Item:
    """The fields of an RSS 1.0 (RDF) <item>, as bioRxiv and many journals serve them."""
    item = _Item(
        title=squash(text_of(elem.find(f"{{{RSS1}}}title"))),
        link=child_text(elem, RSS1, "link"),
        abstract=html_to_text(text_of(elem.find(f"{{{RSS1}}}description"))),
    )
    _dc_and_prism(elem, item)
    return item


def _find_doi(texts: list[str]) -> str | None:
    """The first DOI in dc:identifier, prism:doi, guid or link, normalised."""
    for text in texts:
        match = _DOI.search(text or "")
        if match:
            found = match.group(0)
            # "(see 10.1/x)": a closing parenthesis with no opening one is the sentence's.
            if found.endswith(")") and "(" not in found:
                found = found[:-1]
            return normalize_doi(found)
    return None


def _paper(item: _Item, url: str, channel_date: str | None) -> Paper | None:
    """A Paper from an item's fields; None when it has neither a title nor any identity."""
    arxiv = next((t for t in (item.guid, item.link) if "arxiv" in t.lower() and arxiv_id(t)), None)
    doi = _find_doi(item.identifiers + [item.link])
    # A guid is a page only when it is a web address ("tag:..." or "12345" are not).
    web_guid = item.guid if item.guid.startswith(("http://", "https://")) else ""
    page = item.link or (f"https://doi.org/{doi}" if doi else "") or web_guid
    if not item.title or not (arxiv or doi or page):
        return None
    ident = canonical_id(arxiv=arxiv, doi=doi, url=page or None)
    version, pdf_url = None, item.pdf_url
    if arxiv:
        version = arxiv_id(arxiv)[1]
        page, pdf_url = arxiv_abs_url(ident), pdf_url or arxiv_pdf_url(ident)
    elif doi and doi.startswith("10.1101/"):
        match = _PREPRINT_VERSION.search(item.link)
        version = int(match.group(1)) if match else None
    categories = list(dict.fromkeys(c for c in item.categories if c))
    return Paper(
        id=ident,
        title=item.title,
        abstract=item.abstract,
        url=page,
        authors=item.authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        pdf_url=pdf_url,
        doi=doi,
        version=version,
        published=item.published or channel_date,
        updated=item.updated,
        source=url,
    )
