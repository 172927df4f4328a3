"""Hugging Face daily papers (huggingface.co/api/daily_papers): a bare JSON array.

Each element wraps a "paper" whose id is the arXiv id; its summary is the arXiv abstract
as plain text, and upvotes count the community's votes that day.
"""

from __future__ import annotations

import json
from typing import Any

from bot.papers import Paper, arxiv_id, canonical_id, clean_abstract
from bot.sources.base import (
    NOT_A_FEED_HTML,
    FeedResult,
    arxiv_abs_url,
    arxiv_pdf_url,
    finish,
    is_blank,
    is_html,
    iso_date,
    parse_error,
    squash,
)

KIND = "hf_daily"


def parse(content: bytes, url: str = "") -> FeedResult:
    """Read a daily-papers JSON response into Papers."""
    if is_blank(content):
        return parse_error(KIND, "empty document")
    if is_html(content):
        return parse_error(KIND, NOT_A_FEED_HTML)
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        return parse_error(KIND, f"malformed JSON: {exc}")
    if isinstance(data, dict) and "error" in data:
        return parse_error(KIND, f"Hugging Face API error: {data['error']}")
    if not isinstance(data, list):
        return parse_error(KIND, f"not a daily-papers list: got a JSON {type(data).__name__}")
    papers, skipped = [], 0
    for item in data:
        paper = _paper(item, url)
        if paper:
            papers.append(paper)
        else:
            skipped += 1
    return finish(KIND, papers, None, None, skipped)


def _paper(item: Any, url: str) -> Paper | None:
    """A Paper for one element; None when it has no paper id or title."""
    paper = item.get("paper") if isinstance(item, dict) else None
    if not isinstance(paper, dict) or not paper.get("id"):
        return None
    title = squash(paper.get("title") or item.get("title"))
    if not title:
        return None
    found = arxiv_id(str(paper["id"]))
    if found:
        ident, abs_url, pdf_url = found[0], arxiv_abs_url(found[0]), arxiv_pdf_url(found[0])
    else:
        # Not an arXiv paper: the Hugging Face page is all we can point to.
        abs_url = f"https://huggingface.co/papers/{paper['id']}"
        ident, pdf_url = canonical_id(url=abs_url), None
    authors = [
        squash(a["name"])
        for a in paper.get("authors") or []
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
    ]
    upvotes = paper.get("upvotes")
    return Paper(
        id=ident,
        title=title,
        # JSON text carries no entities to decode: it is the abstract as written.
        abstract=clean_abstract(paper.get("summary") or item.get("summary"), unescape=False),
        url=abs_url,
        authors=authors,
        pdf_url=pdf_url,
        published=iso_date(paper.get("publishedAt")),
        source=url,
        upvotes=upvotes if isinstance(upvotes, int) else None,
    )
