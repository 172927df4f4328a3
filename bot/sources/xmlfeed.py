"""Reading an XML feed (RSS 0.9x/1.0/2.0, Atom, RDF): feedparser, and the rules it lacks.

feedparser runs with sanitize_html=False and resolve_relative_uris=False, so titles and
descriptions come back as the document wrote them, tag-like text ("<user>") included. It
recovers what a strict XML parser rejects, falling back to a lenient parser. On top of it,
each rule below was checked on a real case where feedparser alone does worse:

- An HTML page (a login wall, an error page) is not a feed: feedparser reports no error
  for one, only no entries.
- A document cut short keeps its complete items only: feedparser also returns the item
  the document ended in, with its abstract cut, and often without an id.
- Bytes that are not UTF-8 in a UTF-8 document are read one by one as Windows-1252:
  feedparser re-reads the whole document as Windows-1252 instead, which garbles every
  correct non-ASCII character ("Büşra" becomes "BÃ¼ÅŸra").
- A bare "&" is text: feedparser's lenient parser turns "A&T" into "A&T;".
- The lenient parser leaves author names escaped ("R\\&amp;D", "&lt;a href=..."): they are
  decoded once, as the strict parser decodes them.

No XML is parsed outside feedparser. feedparser drops every entity declaration that refers
to another entity or to an outside resource, and never fetches an external DTD, so a
billion-laughs or an external-entity document expands nothing (tests/test_sources.py).
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass
from xml.sax import SAXException, SAXParseException

import feedparser

from bot.sources.base import NOT_A_FEED_HTML, FeedResult, is_blank, is_html, parse_error, squash

# The end of an item (RSS, RDF) or an entry (Atom), with or without a namespace prefix.
_ITEM_END = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.I)
_DECLARED_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)")
# A bare "&" is one that starts no character or entity reference; CDATA sections and
# comments are matched whole so that the "&" inside them, which is text, is left alone.
_CDATA_COMMENT_OR_BARE_AMP = re.compile(
    rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|&(?!#[0-9]+;|#x[0-9A-Fa-f]+;|[A-Za-z_][\w.-]*;)", re.S
)


def _as_cp1252(error: UnicodeDecodeError) -> tuple[str, int]:
    """A codecs error handler: the bytes that are not UTF-8 read as Windows-1252 (as
    Latin-1 for the five bytes Windows-1252 leaves undefined)."""
    bad = error.object[error.start : error.end]
    text = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad)
    return text, error.end


codecs.register_error("paperbot.cp1252", _as_cp1252)


@dataclass
class XmlFeed:
    """A feed document as feedparser read it, with the complete entries only."""

    version: str  # feedparser's name of the format: "rss20", "atom10", "rss10", ...
    channel: feedparser.FeedParserDict
    entries: list[feedparser.FeedParserDict]
    # What was wrong with the document, for the feed's health; empty when nothing was.
    damage: list[str]
    # True when the strict parser gave up and feedparser's lenient parser read the document.
    lenient: bool

    @property
    def title(self) -> str | None:
        return squash(self.channel.get("title")) or None

    @property
    def is_atom(self) -> bool:
        return self.version.startswith("atom")

    def authors(self, entry: feedparser.FeedParserDict) -> list[str]:
        """The entry's author names as the document wrote them, entities decoded once.

        Atom gives one name per <author>. RSS gives one per dc:creator, and a lone author
        is the element's whole text: arXiv and bioRxiv put every author in one string,
        and feedparser 6.0.14 mis-splits an RSS <author> "ann@x.org (Ann Lee)" into
        name "ple (Ann Lee" and email "ann@x.exam".
        """
        if not self.is_atom and len(entry.get("authors") or []) == 1:
            names = [entry.get("author") or ""]
        else:
            names = [author.get("name") or "" for author in entry.get("authors") or []]
        if self.lenient:
            names = [html.unescape(name) for name in names]
        return [name for name in names if name.strip()]

    def date_text(self, entry: feedparser.FeedParserDict) -> tuple[str | None, str | None]:
        """The entry's publication and update dates as written.

        feedparser files dc:date under "updated", and RSS has no update date of its own,
        so there "updated" is the date the item was published.
        """
        if self.is_atom:
            # Not entry.get("updated"): feedparser answers that with the published date
            # when there is no update date.
            updated = entry["updated"] if "updated" in entry else None
            return entry.get("published") or updated, updated
        return entry.get("published") or entry.get("updated"), None

    def channel_date_text(self) -> str | None:
        """The channel's own date (pubDate, dc:date, lastBuildDate, Atom updated)."""
        return self.channel.get("published") or self.channel.get("updated")


def pdf_link(entry: feedparser.FeedParserDict) -> str | None:
    """The entry's PDF link (type application/pdf, or arXiv's title "pdf"), if it has one."""
    for link in entry.get("links") or []:
        if link.get("type") == "application/pdf" or link.get("title") == "pdf":
            return link.get("href")
    return None


def read_xml(kind: str, content: bytes) -> tuple[XmlFeed | None, FeedResult | None]:
    """The feed read from `content`, or the parse_error FeedResult of a document that is
    not a feed (blank, an HTML page, no RSS, Atom or RDF in it)."""
    if is_blank(content):
        return None, parse_error(kind, "empty document")
    if is_html(content):
        return None, parse_error(kind, NOT_A_FEED_HTML)
    damage: list[str] = []
    # The two repairs work on bytes where "<" and "&" are one byte each, as in UTF-8 and
    # the 8-bit encodings; UTF-16 and UTF-32 documents go to feedparser as they are.
    if b"\x00" not in content[:4] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        content = _utf8(content, damage)
        content = _bare_ampersands_escaped(content, damage)
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    error = parsed.get("bozo_exception")
    if not parsed.get("version"):
        reason = f": {_describe(error)}" if error else " (no RSS, Atom or RDF document)"
        return None, parse_error(kind, f"not a feed{reason}")
    entries = parsed.entries
    if error is not None:
        # Only the items whose end is in the document are complete.
        entries = entries[: len(_ITEM_END.findall(content))]
        damage.append(_describe(error))
    lenient = isinstance(error, SAXException)
    return XmlFeed(parsed.version, parsed.feed, entries, damage, lenient), None


def _utf8(content: bytes, damage: list[str]) -> bytes:
    """A UTF-8 document whose bytes that are not UTF-8 are read as Windows-1252, the usual
    cause (Latin-1 text pasted into a UTF-8 feed). Other encodings are left to feedparser."""
    try:
        content.decode("utf-8")
        return content
    except UnicodeDecodeError as error:
        first_bad = error.start
    declared = _DECLARED_ENCODING.match(content)
    # No declaration means UTF-8.
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return content
    damage.append(f"not UTF-8 from byte {first_bad}: such bytes read as Windows-1252")
    return content.decode("utf-8", errors="paperbot.cp1252").encode("utf-8")


def _bare_ampersands_escaped(content: bytes, damage: list[str]) -> bytes:
    """The document with each bare "&" written as "&amp;", the text it stands for."""
    count = 0

    def escape(match: re.Match[bytes]) -> bytes:
        nonlocal count
        if match.group(0) != b"&":
            return match.group(0)
        count += 1
        return b"&amp;"

    fixed = _CDATA_COMMENT_OR_BARE_AMP.sub(escape, content)
    if not count:
        return content
    damage.append(f"{count} bare '&' read as text")
    return fixed


def _describe(error: Exception) -> str:
    """feedparser's complaint about a document. Line numbers are left out: feedparser
    counts them in its own re-encoded copy, one line off when it adds an XML declaration."""
    if isinstance(error, SAXParseException):
        return error.getMessage()
    return str(error)
