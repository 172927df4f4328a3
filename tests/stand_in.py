"""Papers with stand-in embeddings, for tests of the word features that need no model."""

import numpy as np

from bot.search import load_corpus
from tests.storage.conftest import make_paper

DIMENSION = 8


def store_papers(store, abstracts):
    """Papers 2608.00001... with these abstracts, titled "Paper N"; their ids."""
    papers = [
        make_paper(f"2608.{n:05d}", title=f"Paper {n}", abstract=abstract)
        for n, abstract in enumerate(abstracts, start=1)
    ]
    store.papers.upsert(papers)
    return [p.id for p in papers]


def stand_in_corpus(store, ids, vectors=None):
    """The papers as a corpus with stand-in embeddings: `vectors` (one row of DIMENSION per
    paper), else the first DIMENSION unit vectors and zeros after them."""
    if vectors is None:
        vectors = np.eye(len(ids), DIMENSION, dtype=np.float32)
    store.papers.set_embeddings("stand-in", dict(zip(ids, vectors, strict=True)), {})
    return load_corpus(store, "stand-in")


def no_closeness(topics: int) -> np.ndarray:
    """Stand-in topic embeddings as close to every paper: words weigh by rarity alone."""
    return np.zeros((topics, DIMENSION), dtype=np.float32)
