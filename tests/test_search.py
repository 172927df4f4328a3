import json
from pathlib import Path

import pytest

from bot.papers import Paper
from bot.search import fts_query

SEED = Path(__file__).parent / "fixtures" / "eval_papers.json"


def test_fts_query_quotes_every_word():
    assert fts_query('NEAR(a b) "x* -y OR z') == '"near" OR "b" OR "x" OR "y" OR "z"'
    assert fts_query("the and") == '"the" OR "and"'
    assert fts_query("  *** ") is None


@pytest.fixture
def corpus(services):
    papers = json.loads(SEED.read_text())
    services.store.upsert_papers(
        [
            Paper(id=f"eval.{i:03d}", title=p["title"], abstract=p["abstract"], url="")
            for i, p in enumerate(papers)
        ]
    )
    services.pipeline.embed_missing()
    return {f"eval.{i:03d}": p["title"] for i, p in enumerate(papers)}


def test_hybrid_search_ranks_on_topic_paper_first(services, corpus):
    hits = services.search.search("3D point cloud understanding", limit=5)
    assert corpus[hits[0].paper.id].startswith("ULIP-2")
    assert hits[0].bm25_rank is not None and hits[0].vector_rank is not None


@pytest.mark.parametrize("query", ['"', "*", "NEAR(", "-", "OR", "(", "🙂 <!channel>", "x" * 5000])
def test_hostile_queries_do_not_break_search(services, corpus, query):
    hits = services.search.search(query, limit=5)
    assert len(hits) <= 5


def test_empty_query_finds_nothing(services, corpus):
    assert services.search.search("   ") == []
