import pytest

from tests.storage.conftest import make_paper

# FTS5 and its bm25(): SQLite's alone so far.
pytestmark = pytest.mark.sqlite_only


def test_finds_by_title_abstract_and_author(store):
    store.papers.upsert([make_paper(title="Sparse attention", abstract="Long context.")])
    for query in ('"sparse"', '"context"', '"turing"'):
        assert [pid for pid, _ in store.fulltext.search(query, 5)] == ["2608.00001"]


def test_tokens_are_the_terms_the_index_matches_on(store):
    """Words read as the same terms find the same papers with the same BM25."""
    store.papers.upsert(
        [
            make_paper("2608.00001", abstract="Language models model language."),
            make_paper("2608.00002", abstract="A modeling study of x_ray images."),
        ]
    )
    tokens = store.fulltext.tokens(["models", "model", "modeling", "x_ray", "images"])
    assert tokens == [("model",), ("model",), ("model",), ("x", "rai"), ("imag",)]
    scores = [store.fulltext.rowid_scores(f'"{word}"') for word in ("models", "model", "modeling")]
    for rowids, values in scores[1:]:
        assert rowids.tolist() == scores[0][0].tolist() == [1, 2]
        assert values.tolist() == scores[0][1].tolist()


def test_counts_for_bm25(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", title="Speculative decoding", abstract="Faster."),
            make_paper("2608.00002", title="Decoding", abstract="Speculative sampling."),
            make_paper("2608.00003", title="Other", abstract="Nothing here."),
        ]
    )
    assert store.fulltext.row_count() == 3
    assert store.fulltext.match_count('"speculative"') == 2
    rowids, in_title = store.fulltext.term_hits("speculative")
    assert dict(zip(rowids.tolist(), in_title.tolist(), strict=True)) == {1: True, 2: False}
