"""Hybrid search: SQLite FTS5 BM25 and embedding cosine, fused by reciprocal rank."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.embed import Embedder
from bot.papers import Paper
from bot.store import Store

# Reciprocal rank fusion constant; 60 is the value from the original RRF paper and the one
# the shared evaluation used.
RRF_K = 60
CANDIDATES = 100
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with via using".split()
)


@dataclass
class SearchHit:
    paper: Paper
    score: float
    bm25_rank: int | None
    vector_rank: int | None


def fts_query(text: str) -> str | None:
    """Turn user text into an FTS5 query that cannot be read as FTS5 syntax.

    Every word is quoted on its own, so `"`, `*`, `NEAR(`, `-` and `OR` typed by a user
    are plain text; words are OR-ed so BM25 ranks partial matches too.
    """
    words = re.findall(r"\w+", text.lower())
    terms = [w for w in words if w not in STOPWORDS] or words
    if not terms:
        return None
    return " OR ".join(f'"{term}"' for term in dict.fromkeys(terms))


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, paper_id in enumerate(ranking, start=1):
            scores[paper_id] = scores.get(paper_id, 0.0) + 1.0 / (k + rank)
    return scores


class Search:
    """Ranks stored papers for a query the way `/papers search` and the CLI do."""

    def __init__(self, store: Store, embedder: Embedder):
        self.store = store
        self.embedder = embedder

    def bm25_ranking(self, query: str, limit: int = CANDIDATES) -> list[str]:
        expression = fts_query(query)
        if expression is None:
            return []
        return [paper_id for paper_id, _ in self.store.fts_search(expression, limit)]

    def vector_ranking(self, vector: np.ndarray, limit: int = CANDIDATES) -> list[str]:
        ids, matrix = self.store.paper_embeddings(self.embedder.name)
        if not ids:
            return []
        similarities = matrix @ vector
        order = np.argsort(-similarities)[:limit]
        return [ids[i] for i in order]

    def search(self, query: str, limit: int = 5) -> list[SearchHit]:
        """The best stored papers for `query`, best first."""
        if not query.strip():
            return []
        bm25 = self.bm25_ranking(query)
        vector = self.vector_ranking(self.embedder.encode_one(query))
        fused = reciprocal_rank_fusion([bm25, vector])
        best = sorted(fused, key=lambda paper_id: -fused[paper_id])[:limit]
        papers = self.store.get_papers(best)
        bm25_rank = {paper_id: rank for rank, paper_id in enumerate(bm25, start=1)}
        vector_rank = {paper_id: rank for rank, paper_id in enumerate(vector, start=1)}
        return [
            SearchHit(
                paper=papers[paper_id],
                score=round(fused[paper_id], 6),
                bm25_rank=bm25_rank.get(paper_id),
                vector_rank=vector_rank.get(paper_id),
            )
            for paper_id in best
        ]
