"""What every feed adapter shares: the result record, XML reading, dates and small text helpers."""

from __future__ import annotations

import email.utils
import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.papers import Paper

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
DC = "http://purl.org/dc/elements/1.1/"
RSS1 = "http://purl.org/rss/1.0/"
PRISM_NAMESPACES = (
    "http://prismstandard.org/namespaces/basic/2.0/",
    "http://prismstandard.org/namespaces/1.2/basic/",
    "http://purl.org/rss/1.0/modules/prism/",
)
XHTML = "http://www.w3.org/1999/xhtml"

NOT_A_FEED_HTML = "not a feed (an HTML page)"
ENTRY_TAGS = ("item", "entry")


@dataclass
class FeedResult:
    """What one feed document held, and whether it could be read.

    status is "ok" (at least one paper), "empty" (a valid feed with no items: a quiet day)
    or "parse_error" (not a feed, or broken beyond use; `error` says why). A malformed
    document from which complete items could still be read is "ok" with `error` set, so a
    caller can log the damage without losing the papers.
    """

    kind: str
    papers: list[Paper] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None
    title: str | None = None


def make_result(
    kind: str, papers: list[Paper], title: str | None = None, error: str | None = None
) -> FeedResult:
    """A FeedResult whose status follows from the papers found and any error met."""
    if papers:
        return FeedResult(kind, papers, "ok", error, title)
    if error:
        return FeedResult(kind, [], "parse_error", error, title)
    return FeedResult(kind, [], "empty", None, title)


def parse_error(kind: str, error: str, title: str | None = None) -> FeedResult:
    """A FeedResult for a document that could not be read as this kind of feed."""
    return FeedResult(kind, [], "parse_error", error, title)


def _strip_prolog(content: bytes) -> bytes:
    """The document without BOM, leading whitespace, XML declaration and comments."""
    text = content.lstrip(b"\xef\xbb\xbf").lstrip()
    while True:
        for opening, closing in ((b"<?", b"?>"), (b"<!--", b"-->")):
            if text.startswith(opening):
                end = text.find(closing)
                if end < 0:
                    return text
                text = text[end + len(closing) :].lstrip()
                break
        else:
            return text


def is_html(content: bytes) -> bool:
    """True for an HTML page (a login wall, an error page, a captcha) served instead of a feed."""
    head = _strip_prolog(content[:4096]).lower()
    return head.startswith((b"<!doctype html", b"<html"))


def is_blank(content: bytes) -> bool:
    """True for a document with nothing but whitespace, a declaration or comments in it."""
    return not _strip_prolog(content)


@dataclass
class XmlDoc:
    """A parsed XML document; `error` is set when it was malformed and `root` holds what
    could be read before the damage (complete items only), or is None."""

    root: ET.Element | None
    error: str | None = None


def _numeric_entities(content: bytes) -> bytes:
    """Replace HTML named entities (&nbsp;, &eacute;), which XML does not define and which
    many hand-made feeds use, by numeric references that any XML parser accepts."""

    def replace(match: re.Match[bytes]) -> bytes:
        name = match.group(1).decode("ascii")
        if name in ("amp", "lt", "gt", "quot", "apos"):
            return match.group(0)
        codepoint = html.entities.name2codepoint.get(name)
        return b"&#%d;" % codepoint if codepoint else match.group(0)

    return re.sub(rb"&([A-Za-z][A-Za-z0-9]*);", replace, content)


def _pull_parse(content: bytes) -> XmlDoc:
    """Parse incrementally, so that a document broken part way still yields its complete
    items: the item being read when the error struck is removed, the rest is kept."""
    parser = ET.XMLPullParser(events=("start", "end"))
    error: ET.ParseError | None = None
    try:
        parser.feed(content)
        parser.close()
    except ET.ParseError as exc:
        error = exc
    root: ET.Element | None = None
    stack: list[ET.Element] = []
    try:
        for event, elem in parser.read_events():
            if event == "start":
                root = elem if root is None else root
                stack.append(elem)
            else:
                stack.pop()
    except ET.ParseError as exc:
        error = exc
    if error is None:
        return XmlDoc(root)
    # The elements still open when parsing stopped are incomplete; drop the item among them.
    for parent, elem in zip(stack, stack[1:], strict=False):
        if local(elem.tag) in ENTRY_TAGS:
            parent.remove(elem)
            break
    return XmlDoc(root, str(error))


def parse_xml(content: bytes) -> XmlDoc:
    """Parse a feed with the standard library's XML parser, which keeps text verbatim.

    Leading whitespace before the XML declaration is dropped, and undefined HTML entities
    are retried as numeric references: both are common in real feeds and harmless to fix.
    """
    content = content.lstrip(b"\xef\xbb\xbf").lstrip()
    doc = _pull_parse(content)
    if doc.error and doc.error.startswith("undefined entity"):
        doc = _pull_parse(_numeric_entities(content))
    return doc


def read_xml(kind: str, content: bytes) -> tuple[XmlDoc | None, FeedResult | None]:
    """The parsed document, or a parse_error FeedResult when nothing could be read.

    A malformed document whose root could be read comes back with its root and its error;
    the adapter decides from the items it finds (see `finish`).
    """
    if is_blank(content):
        return None, parse_error(kind, "empty document")
    if is_html(content):
        return None, parse_error(kind, NOT_A_FEED_HTML)
    doc = parse_xml(content)
    if doc.root is None:
        return None, parse_error(kind, f"malformed XML: {doc.error}")
    if doc.root.tag == f"{{{XHTML}}}html" or local(doc.root.tag) == "html":
        return None, parse_error(kind, NOT_A_FEED_HTML)
    return doc, None


def finish(
    kind: str,
    papers: list[Paper],
    title: str | None,
    xml_error: str | None,
    skipped: int = 0,
) -> FeedResult:
    """The FeedResult for what an adapter read, including from a malformed document.

    Papers read from a malformed document are kept (status "ok", with the damage in
    `error`); a malformed document with no readable items is a parse_error, never "empty",
    because a quiet day must not be confused with a broken feed. Items that were present
    but could not be turned into papers make an otherwise empty result a parse_error.
    """
    if xml_error:
        if papers:
            note = f"malformed XML, kept {len(papers)} complete items: {xml_error}"
            return make_result(kind, papers, title, note)
        return parse_error(kind, f"malformed XML: {xml_error}", title)
    if not papers and skipped:
        return parse_error(kind, f"{skipped} items, none of them readable as a paper", title)
    return make_result(kind, papers, title)


def wrong_root(kind: str, doc: XmlDoc, expected: str) -> FeedResult:
    """The parse_error for a document whose root is not what this kind of feed has; the
    parse error comes first, as a broken document's root says little."""
    if doc.error:
        return parse_error(kind, f"malformed XML: {doc.error}")
    return parse_error(kind, f"not {expected}: root element <{local(doc.root.tag)}>")


def no_channel(kind: str, xml_error: str | None) -> FeedResult:
    """The parse_error for an <rss> document without a <channel>."""
    if xml_error:
        return parse_error(kind, f"malformed XML: {xml_error}")
    return parse_error(kind, "not a feed: <rss> without a <channel>")


def local(tag: str) -> str:
    """An element's tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def find(elem: ET.Element, namespace: str, name: str) -> ET.Element | None:
    """The first child `name` in `namespace` ("" for none)."""
    return elem.find(f"{{{namespace}}}{name}" if namespace else name)


def text_of(elem: ET.Element | None) -> str:
    """An element's text content, CDATA included, or "" for a missing element."""
    return "".join(elem.itertext()) if elem is not None else ""


def child_text(elem: ET.Element, namespace: str, name: str) -> str:
    """The stripped text of the first child `name` in `namespace`, or ""."""
    return text_of(find(elem, namespace, name)).strip()


def squash(text: str | None) -> str:
    """Runs of whitespace (line wraps, indentation, CDATA padding) as one space."""
    return " ".join(text.split()) if text else ""


def iso_date(text: str | None) -> str | None:
    """An RFC 822 or ISO 8601 date as ISO 8601, in UTC when the source gave a zone.

    A bare date ("2019-11-29") stays a bare date, and a time without a zone stays without
    one: inventing a zone would put the paper on the wrong day. Unreadable dates give None.
    """
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    moment = moment.replace(microsecond=0)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.isoformat()


def https(url: str | None) -> str | None:
    """An arxiv.org link over https: the old API backend still writes http links."""
    if url and url.startswith("http://arxiv.org/"):
        return "https://" + url[len("http://") :]
    return url


def arxiv_abs_url(ident: str) -> str:
    """The abstract page of the latest version of an arXiv paper."""
    return f"https://arxiv.org/abs/{ident}"


def arxiv_pdf_url(ident: str) -> str:
    """The PDF of the latest version of an arXiv paper."""
    return f"https://arxiv.org/pdf/{ident}"
