"""How likely a stored paper is to be one a subscriber would pick: one small logistic model.

Alerts, subscription previews and search all rank and decide with it, so they agree.
Four features, each computed against the papers stored so far:

    cosine    the embedding cosine of the paper and the topic (or the subscription's profile)
    z         that cosine as standard deviations above its mean over every stored paper
    coverage  the share of the topic's words found in the paper's title or abstract, each word
              weighted by its rarity among the stored papers (BM25's IDF); 0 to 1
    title     the same share, counting only the words found in the title

    probability = logistic(BIAS + COSINE * cosine + Z * z + COVERAGE * coverage + TITLE * title)

Why these: a raw cosine says how close, but a broad topic is close to everything; the
z-score says how unusual the closeness is for this topic, but taken alone it makes every
topic alert the same share of papers; coverage asks for evidence of the rare words that
make a narrow topic narrow ("speculative", "SQL") while a word in half the papers weighs
nothing; the title is where a paper says what it is about. The coefficients are a logistic
regression fitted once on judged topic-paper pairs of a real arXiv day (2,196 pairs, 30
topics from broad to narrow; bench/dev_day.py measures it). Held out one topic at a time,
the model at the default threshold kept its precision and recall within 0.02 of the fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from bot.storage import Store

if TYPE_CHECKING:
    from bot.search import Corpus

BIAS = -4.479
COSINE = 1.356
Z = 0.664
COVERAGE = 3.327
TITLE = 1.069
# A word found in more than this share of the stored papers is generic ("model", "learning",
# "based" in a machine-learning corpus): an alert's explanation never cites it.
GENERIC_SHARE = 0.1


def log_odds(cosine, z, coverage, title):
    """The model's log-odds of relevance; arrays broadcast."""
    return BIAS + COSINE * cosine + Z * z + COVERAGE * coverage + TITLE * title


def idf(papers_with_word: np.ndarray, papers: int) -> np.ndarray:
    """BM25's inverse document frequency, floored at 0: a word in half the papers or more
    carries no weight."""
    counts = np.asarray(papers_with_word, dtype=np.float64)
    return np.maximum(0.0, np.log((papers - counts + 0.5) / (counts + 0.5)))


class Coverage:
    """The coverage and title features of many topics for chosen corpus rows.

    Each distinct word of all the topics is looked up in the full-text index once (words
    the index reads as the same terms, like "model" and "models", once between them), so
    a thousand subscriptions sharing words cost a few hundred lookups.
    """

    def __init__(self, store: Store, words_of: list[list[str]], corpus: Corpus, rows: np.ndarray):
        words = list(dict.fromkeys(w for ws in words_of for w in ws))
        tokens = dict(zip(words, store.fulltext.tokens(words), strict=True))
        first_word: dict[tuple, str] = {}
        for word, token in tokens.items():
            first_word.setdefault(token, word)
        hits = {token: store.fulltext.term_hits(word) for token, word in first_word.items()}
        papers = store.fulltext.row_count()
        anywhere = np.zeros((len(words), len(rows)), dtype=np.float32)
        in_title = np.zeros_like(anywhere)
        counts = np.zeros(len(words))
        position = np.full(len(corpus.ids), -1)
        position[rows] = np.arange(len(rows))
        for j, word in enumerate(words):
            rowids, title_mask = hits[tokens[word]]
            counts[j] = len(rowids)
            corpus_rows, found = corpus.rows_of(rowids)
            at = position[corpus_rows]
            wanted = found & (at >= 0)
            anywhere[j, at[wanted]] = 1
            in_title[j, at[wanted & title_mask]] = 1
        self.words_of = words_of
        self.column = {w: j for j, w in enumerate(words)}
        self.weight = idf(counts, papers)
        self.generic = counts > GENERIC_SHARE * max(papers, 1)
        # Each topic's words weighted by rarity, the weights of a topic summing to 1. A topic
        # made only of words in half the papers or more weighs them alike, as BM25 search
        # keeps them all then (search.weighted_terms): they still say what it is about.
        topic_word = np.zeros((len(words_of), len(words)), dtype=np.float32)
        for i, ws in enumerate(words_of):
            columns = [self.column[w] for w in ws]
            weights = self.weight[columns]
            if weights.sum() == 0:
                weights = np.ones(len(columns))
            if len(columns):
                topic_word[i, columns] = weights / weights.sum()
        self.topic_word = sparse.csr_matrix(topic_word)
        self.anywhere, self.in_title = anywhere, in_title

    def coverage(self, block: slice = slice(None)) -> np.ndarray:
        """Topics (of `block`) x rows: the weighted share of each topic's words in the paper."""
        return self.topic_word[block] @ self.anywhere

    def title(self, block: slice = slice(None)) -> np.ndarray:
        """Topics (of `block`) x rows: the same share, counting words in the title only."""
        return self.topic_word[block] @ self.in_title

    def distinctive_words(self, topic: int, row: int) -> list[str]:
        """The topic's words found in the paper at position `row` that are not generic,
        rarest first: the words that carried the match."""
        found = [
            w
            for w in self.words_of[topic]
            if self.anywhere[self.column[w], row] and not self.generic[self.column[w]]
        ]
        return sorted(found, key=lambda w: -self.weight[self.column[w]])
