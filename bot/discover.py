"""Finding stored papers for a person in Slack: a page of search results, more like this."""

from __future__ import annotations

from bot.commands import SearchQuery
from bot.papers import Paper
from bot.search import Search


def search_page(
    search: Search, query: SearchQuery, offset: int = 0, size: int = 5
) -> tuple[list[Paper], bool]:
    """Papers `offset` to `offset + size` for the query, and whether there are more."""
    hits = search.search(
        query.text,
        limit=offset + size + 1,
        since=query.since,
        categories=list(query.categories) or None,
        authors=list(query.authors) or None,
    )
    papers = [hit.paper for hit in hits]
    return papers[offset : offset + size], len(papers) > offset + size


def more_like_this(search: Search, paper_id: str, limit: int = 5) -> list[Paper]:
    """The stored papers most like `paper_id`, the paper itself left out."""
    return [hit.paper for hit in search.similar(paper_id, limit=limit)]
