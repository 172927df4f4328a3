"""Hybrid search: SQLite FTS5 BM25 and embedding cosine, fused; filters by date, category, author.

Two fusions are offered. Reciprocal rank fusion (RRF) adds 1 / (60 + rank) from each
ranking. The calibrated fusion, the default, adds the cosine as a z-score against all
stored papers to `lexical_weight` times the paper's BM25 as a share of the best BM25:
a query whose exact terms pick out a few papers gives those papers a large lead, while a
query whose words are everywhere leaves the order to the embeddings. Matching uses the
same two features (bot/match.py), so search and alerts agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bot.embed import Embedder
from bot.papers import Paper
from bot.store import Store

# Reciprocal rank fusion constant; 60 is the value from the original RRF paper and the one
# the shared evaluation used.
RRF_K = 60
CANDIDATES = 100
# The default weight of the lexical share next to the cosine z-score; settings override it.
LEXICAL_WEIGHT = 2.0
# A typical topic-to-paper cosine distribution of the bundled MiniLM model (measured on
# the shared evaluation corpus), worth PRIOR_WEIGHT papers when calibrating a score.
PRIOR_MEAN = 0.3
PRIOR_STD = 0.08
PRIOR_WEIGHT = 3
# "More like this" queries BM25 with the liked paper's title and the start of its abstract.
SIMILAR_QUERY_CHARS = 600
METHODS = ("hybrid", "rrf", "bm25", "cosine")
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with via using".split()
)


@dataclass
class SearchHit:
    paper: Paper
    score: float
    bm25_rank: int | None
    vector_rank: int | None


@dataclass
class Corpus:
    """Every stored paper's embedding: what queries and subscriptions are calibrated against."""

    ids: list[str]
    matrix: np.ndarray

    @cached_property
    def index(self) -> dict[str, int]:
        return {paper_id: i for i, paper_id in enumerate(self.ids)}


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


def zscore(values: np.ndarray) -> np.ndarray:
    """Values as standard deviations above their mean, calibrated against the corpus.

    The mean and spread are those of `values`, shrunk towards a typical cosine
    distribution (PRIOR_MEAN, PRIOR_STD) as if PRIOR_WEIGHT more papers had it, so that a
    database of a handful of papers still gives sensible scores.
    """
    n = len(values)
    mean = (values.sum() + PRIOR_WEIGHT * PRIOR_MEAN) / (n + PRIOR_WEIGHT)
    variance = (((values - mean) ** 2).sum() + PRIOR_WEIGHT * PRIOR_STD**2) / (n + PRIOR_WEIGHT)
    return (values - mean) / np.sqrt(variance)


def lexical_scores(store: Store, text: str, corpus: Corpus) -> np.ndarray:
    """BM25 of `text` for each corpus paper, as a share of the best one (0 to 1)."""
    scores = np.zeros(len(corpus.ids))
    expression = fts_query(text)
    if expression is None or not corpus.ids:
        return scores
    index = corpus.index
    for paper_id, value in store.fts_search(expression, len(corpus.ids)):
        if paper_id in index:
            scores[index[paper_id]] = value
    best = scores.max()
    return scores / best if best > 0 else scores


class Search:
    """Ranks stored papers for a query the way `/papers search` and the CLI do."""

    def __init__(self, store: Store, embedder: Embedder, lexical_weight: float = LEXICAL_WEIGHT):
        self.store = store
        self.embedder = embedder
        self.lexical_weight = lexical_weight

    def corpus(self) -> Corpus:
        ids, matrix = self.store.paper_embeddings(self.embedder.name)
        return Corpus(ids=ids, matrix=matrix)

    def search(
        self,
        query: str,
        limit: int = 5,
        *,
        since: str | None = None,
        categories: list[str] | None = None,
        authors: list[str] | None = None,
        method: str = "hybrid",
    ) -> list[SearchHit]:
        """The best stored papers for `query`, best first.

        `since` (an ISO date) keeps papers published on or after it, `categories` those in
        any of them, `authors` those with an author whose name contains one of them.
        `method` is "hybrid" (calibrated fusion), "rrf", "bm25" or "cosine".
        """
        if not query.strip():
            return []
        allowed = self._allowed(since, categories, authors)
        return self._rank(
            query, self.embedder.encode_one(query), limit, allowed, method, exclude=None
        )

    def similar(self, paper_id: str, limit: int = 5, method: str = "hybrid") -> list[SearchHit]:
        """Stored papers most like the stored paper `paper_id` ("more like this")."""
        paper = self.store.get_paper(paper_id)
        corpus = self.corpus()
        if paper is None or paper_id not in corpus.index:
            return []
        text = f"{paper.title}. {paper.abstract}"[:SIMILAR_QUERY_CHARS]
        vector = corpus.matrix[corpus.index[paper_id]]
        return self._rank(text, vector, limit, None, method, exclude=paper_id, corpus=corpus)

    def _allowed(self, since, categories, authors) -> set[str] | None:
        if not (since or categories or authors):
            return None
        return self.store.filtered_paper_ids(since=since, categories=categories, authors=authors)

    def _rank(
        self,
        text: str,
        vector: np.ndarray,
        limit: int,
        allowed: set[str] | None,
        method: str,
        exclude: str | None,
        corpus: Corpus | None = None,
    ) -> list[SearchHit]:
        if method not in METHODS:
            raise ValueError(f"unknown search method {method!r}; use one of {METHODS}")
        corpus = corpus or self.corpus()
        if not corpus.ids:
            return []
        cosine = corpus.matrix @ vector
        lexical = lexical_scores(self.store, text, corpus)
        keep = np.array(
            [(allowed is None or p in allowed) and p != exclude for p in corpus.ids], dtype=bool
        )
        vector_order = [i for i in np.argsort(-cosine, kind="stable") if keep[i]]
        bm25_order = [i for i in np.argsort(-lexical, kind="stable") if keep[i] and lexical[i] > 0]
        scores = self._scores(method, cosine, lexical, vector_order, bm25_order)
        ranked = sorted((i for i in scores if keep[i]), key=lambda i: (-scores[i], corpus.ids[i]))[
            :limit
        ]
        papers = self.store.get_papers([corpus.ids[i] for i in ranked])
        bm25_rank = {i: rank for rank, i in enumerate(bm25_order, start=1)}
        vector_rank = {i: rank for rank, i in enumerate(vector_order, start=1)}
        return [
            SearchHit(
                paper=papers[corpus.ids[i]],
                score=round(float(scores[i]), 6),
                bm25_rank=bm25_rank.get(i),
                vector_rank=vector_rank.get(i),
            )
            for i in ranked
        ]

    def _scores(self, method, cosine, lexical, vector_order, bm25_order) -> dict[int, float]:
        """Corpus row -> score under `method`; rows absent from the dict do not match."""
        if method == "cosine":
            return {i: float(cosine[i]) for i in vector_order}
        if method == "bm25":
            return {i: float(lexical[i]) for i in bm25_order}
        if method == "rrf":
            return reciprocal_rank_fusion([bm25_order[:CANDIDATES], vector_order[:CANDIDATES]])
        fused = zscore(cosine) + self.lexical_weight * lexical
        return {i: float(fused[i]) for i in vector_order}
