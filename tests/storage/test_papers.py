import numpy as np
import pytest

from tests.storage.conftest import make_paper


def test_same_paper_twice_is_one_row(store):
    first = store.papers.upsert([make_paper()])
    again = store.papers.upsert([make_paper(announce_type="cross")])
    assert first.new == ["2608.00001"]
    assert again.new == [] and again.updated == [] and again.unchanged == 1
    assert store.papers.count() == 1


def test_one_batch_with_a_paper_twice_stores_its_newest_version_once(store):
    result = store.papers.upsert(
        [
            make_paper(),
            make_paper(version=2, abstract="Revised."),
            make_paper("2608.00002"),
            make_paper(),
        ]
    )
    assert result.new == ["2608.00001", "2608.00002"]
    assert result.updated == ["2608.00001"] and result.unchanged == 1
    assert store.papers.count() == 2
    assert store.papers.get("2608.00001").abstract == "Revised."


def test_the_full_text_index_holds_the_newest_version(store):
    store.papers.upsert([make_paper(), make_paper(version=2, abstract="Revised.")])
    assert [pid for pid, _ in store.fulltext.search(["revised"], 5)] == ["2608.00001"]
    assert store.fulltext.search(["things"], 5) == []


def test_new_version_updates_text_and_forgets_embedding_and_summary(store):
    store.papers.upsert([make_paper()])
    store.papers.set_embeddings("m", {"2608.00001": np.ones(4, dtype=np.float32)})
    store.papers.set_summary("2608.00001", "Old summary.")
    result = store.papers.upsert([make_paper(version=2, abstract="A better abstract.")])
    assert result.updated == ["2608.00001"]
    stored = store.papers.get("2608.00001")
    assert stored.version == 2 and stored.abstract == "A better abstract."
    assert [p.id for p in store.papers.without_embedding("m")] == ["2608.00001"]
    assert store.papers.summary("2608.00001") is None


def test_sentence_embeddings_are_kept_with_the_paper_embedding_and_forgotten_with_it(store):
    store.papers.upsert([make_paper(), make_paper("2608.00002")])
    sentences = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]], np.float32)
    store.papers.set_embeddings(
        "m",
        {"2608.00001": np.ones(2, np.float32), "2608.00002": np.ones(2, np.float32)},
        {"2608.00001": sentences},
    )
    found = store.papers.sentence_embeddings(["2608.00001", "2608.00002", "2608.00003"], "m")
    assert list(found) == ["2608.00001"]
    assert found["2608.00001"] == pytest.approx(sentences, abs=1e-3)
    assert store.papers.sentence_embeddings(["2608.00001"], "other") == {}
    store.papers.upsert([make_paper(version=2, abstract="A better abstract.")])
    assert store.papers.sentence_embeddings(["2608.00001"], "m") == {}


def test_another_feed_never_changes_an_arxiv_paper(store):
    store.papers.upsert([make_paper()])
    result = store.papers.upsert([make_paper(version=3, title="Other")], arxiv_source=False)
    assert result.unchanged == 1 and store.papers.get("2608.00001").title == "A paper"


def test_embeddings_are_read_back_by_model_in_insertion_order(store):
    store.papers.upsert([make_paper("2608.00002"), make_paper("2608.00001")])
    vectors = {
        "2608.00001": np.array([1, 0], np.float32),
        "2608.00002": np.array([0, 1], np.float32),
    }
    store.papers.set_embeddings("m", vectors)
    ids, matrix = store.papers.embeddings("m")
    assert ids == ["2608.00002", "2608.00001"] and matrix.tolist() == [[0, 1], [1, 0]]
    rowids, ids, matrix = store.papers.embedding_rows("m")
    assert rowids.tolist() == [1, 2] and matrix.shape == (2, 2)
    assert store.papers.embedding_state("m") == (2, 2)
    assert store.papers.embeddings("other")[0] == []


def test_matching_takes_each_embedded_paper_once(store):
    store.papers.upsert([make_paper("2608.00001"), make_paper("2608.00002")])
    store.papers.set_embeddings("m", {"2608.00001": np.ones(2, np.float32)})
    assert store.papers.unmatched_ids() == ["2608.00001"]
    store.papers.mark_matched(["2608.00001"])
    assert store.papers.unmatched_ids() == []


def test_papers_fetched_on_demand_are_stored_as_matched(store):
    store.papers.upsert([make_paper()], matched=True)
    store.papers.set_embeddings("m", {"2608.00001": np.ones(2, np.float32)})
    assert store.papers.unmatched_ids() == []


def test_filters_by_date_category_and_author(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", published="2026-08-01", categories=["cs.CL"]),
            make_paper("2608.00002", published="2026-08-20", categories=["cs.LG"]),
            make_paper("2608.00003", published="2026-08-21", authors=["Grace Hopper"]),
        ]
    )
    assert store.papers.filtered_ids(since="2026-08-10") == {"2608.00002", "2608.00003"}
    assert store.papers.filtered_ids(categories=["cs.LG", "cs.AI"]) == {"2608.00002", "2608.00003"}
    assert store.papers.filtered_ids(authors=["hopper"]) == {"2608.00003"}


def test_bulk_insert_with_embeddings(store):
    papers = [make_paper(f"2608.{n:05d}") for n in range(3)]
    store.papers.insert_embedded(papers, "m", np.eye(3, dtype=np.float32))
    assert store.papers.count() == 3 and store.papers.without_embedding("m") == []
    ids, matrix = store.papers.embeddings("m")
    assert ids == [p.id for p in papers] and matrix.tolist() == np.eye(3).tolist()


def test_papers_inserted_with_embeddings_are_in_the_full_text_index(store):
    papers = [make_paper(f"2608.{n:05d}") for n in range(3)]
    store.papers.insert_embedded(papers, "m", np.eye(3, dtype=np.float32))
    assert [pid for pid, _ in store.fulltext.search(["things"], 5)] == [p.id for p in papers]


def test_the_change_marker_moves_when_another_connection_writes(store, location):
    from bot.storage import Store

    before = store.papers.change_marker()
    assert store.papers.change_marker() == before
    other = Store(location)
    other.papers.upsert([make_paper()])
    other.close()
    assert store.papers.change_marker() != before


def test_the_latest_day_is_the_papers_first_stored_within_a_day_of_the_newest(store, monkeypatch):
    import bot.storage.papers

    assert store.papers.latest_day_ids() == set()
    for paper_id, stamp in [
        ("2608.00001", "2026-08-10T09:00:00+00:00"),
        ("2608.00002", "2026-08-20T07:58:00+00:00"),
        ("2608.00003", "2026-08-20T08:00:00+00:00"),
        ("2608.00004", "2026-08-21T08:00:00+00:00"),
    ]:
        monkeypatch.setattr(bot.storage.papers, "now_iso", lambda stamp=stamp: stamp)
        store.papers.upsert([make_paper(paper_id)])
    assert store.papers.latest_day_ids() == {"2608.00003", "2608.00004"}
