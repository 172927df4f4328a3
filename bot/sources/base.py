"""What every feed adapter shares: the result record, document checks, dates and small text
helpers."""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.papers import Paper

NOT_A_FEED_HTML = "not a feed (an HTML page)"


@dataclass
class FeedResult:
    """What one feed document held, and whether it could be read.

    status is "ok" (read), "empty" (a sound feed with no items: a quiet day) or
    "parse_error" (not a feed, or nothing in it readable as a paper; `error` says why).
    A damaged document is "ok" with the damage in `error`, even when none of its items
    could be kept, so a broken feed is told apart from a quiet day without losing the
    papers it still gives.
    """

    kind: str
    papers: list[Paper] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None
    title: str | None = None


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


def finish(
    kind: str,
    papers: list[Paper],
    title: str | None,
    damage: list[str] | None = None,
    skipped: int = 0,
) -> FeedResult:
    """The FeedResult for what an adapter read, including from a damaged document.

    A damaged document is "ok" with the damage in `error`: every item it still gave is
    kept, and none at all is still not a quiet day. Items that were present but could not
    be turned into papers make an otherwise empty result a parse_error.
    """
    if damage:
        note = f"malformed XML, kept {len(papers)} complete items: {'; '.join(damage)}"
        return FeedResult(kind, papers, "ok", note, title)
    if papers:
        return FeedResult(kind, papers, "ok", None, title)
    if skipped:
        return parse_error(kind, f"{skipped} items, none of them readable as a paper", title)
    return FeedResult(kind, [], "empty", None, title)


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
