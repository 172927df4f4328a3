import sqlite3

import numpy as np

from bot.papers import Paper
from bot.store import Store


def paper(pid="2608.00001", version=1, title="A paper", abstract="About things.", **kw):
    return Paper(
        id=pid,
        title=title,
        abstract=abstract,
        url=f"https://arxiv.org/abs/{pid}",
        version=version,
        authors=["Ada Lovelace", "Alan Turing"],
        categories=["cs.CL", "cs.AI"],
        **kw,
    )


def test_schema_is_wal_with_fts(tmp_path):
    store = Store(tmp_path / "p.db")
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    expected = {"papers", "papers_fts", "feeds", "subscriptions", "deliveries", "feedback"}
    assert expected <= set(store.db.table_names())


def test_same_paper_twice_is_one_row(tmp_path):
    store = Store(tmp_path / "p.db")
    first = store.upsert_papers([paper()])
    again = store.upsert_papers([paper(announce_type="cross")])
    assert first.new == ["2608.00001"]
    assert again.new == [] and again.updated == [] and again.unchanged == 1
    assert store.count_papers() == 1


def test_one_batch_with_a_paper_twice_stores_its_newest_version_once(tmp_path):
    store = Store(tmp_path / "p.db")
    result = store.upsert_papers(
        [paper(), paper(version=2, abstract="Revised."), paper("2608.00002"), paper()]
    )
    assert result.new == ["2608.00001", "2608.00002"]
    assert result.updated == ["2608.00001"] and result.unchanged == 1
    assert store.count_papers() == 2
    assert store.get_paper("2608.00001").abstract == "Revised."
    assert [pid for pid, _ in store.fts_search('"revised"', 5)] == ["2608.00001"]


def test_new_version_updates_text_and_forgets_embedding(tmp_path):
    store = Store(tmp_path / "p.db")
    store.upsert_papers([paper()])
    store.set_embeddings("m", {"2608.00001": np.ones(4, dtype=np.float32)})
    result = store.upsert_papers([paper(version=2, abstract="A better abstract.")])
    assert result.updated == ["2608.00001"]
    stored = store.get_paper("2608.00001")
    assert stored.version == 2 and stored.abstract == "A better abstract."
    assert [p.id for p in store.papers_without_embedding("m")] == ["2608.00001"]


def test_fts_finds_by_title_abstract_and_author(tmp_path):
    store = Store(tmp_path / "p.db")
    store.upsert_papers([paper(title="Sparse attention", abstract="Long context.")])
    for query in ('"sparse"', '"context"', '"turing"'):
        assert [pid for pid, _ in store.fts_search(query, 5)] == ["2608.00001"]


def test_fts_tokens_are_the_terms_the_index_matches_on(tmp_path):
    """Words read as the same terms find the same papers with the same BM25."""
    store = Store(tmp_path / "p.db")
    store.upsert_papers(
        [
            paper("2608.00001", abstract="Language models model language."),
            paper("2608.00002", abstract="A modeling study of x_ray images."),
        ]
    )
    tokens = store.fts_tokens(["models", "model", "modeling", "x_ray", "images"])
    assert tokens == [("model",), ("model",), ("model",), ("x", "rai"), ("imag",)]
    scores = [store.fts_rowid_scores(f'"{word}"') for word in ("models", "model", "modeling")]
    for rowids, values in scores[1:]:
        assert rowids.tolist() == scores[0][0].tolist() == [1, 2]
        assert values.tolist() == scores[0][1].tolist()


def test_outbox_is_unique_per_target_and_paper(tmp_path):
    store = Store(tmp_path / "p.db")
    store.upsert_papers([paper()])
    args = dict(target="C1", paper_id="2608.00001", subscription_id=1, score=0.5, matches=[])
    assert store.enqueue_delivery(**args) is True
    assert store.enqueue_delivery(**{**args, "subscription_id": 2}) is False
    assert store.enqueue_delivery(**{**args, "target": "U1"}) is True
    assert len(store.deliveries()) == 2


def test_claim_marks_rows_so_a_second_claim_gets_none(tmp_path):
    store = Store(tmp_path / "p.db")
    store.enqueue_delivery(target="C1", paper_id="x", subscription_id=1, score=0.5, matches=[])
    claimed = store.claim_pending_deliveries(10)
    assert [d.paper_id for d in claimed] == ["x"]
    assert store.claim_pending_deliveries(10) == []
    store.finish_delivery(claimed[0].id, "sent", slack_ts="1.0", channel="C1")
    assert store.deliveries("sent")[0].slack_ts == "1.0"


def test_each_thread_gets_its_own_connection(tmp_path):
    import threading

    store = Store(tmp_path / "p.db")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.db.conn))
    thread.start()
    thread.join()
    assert isinstance(seen[0], sqlite3.Connection) and seen[0] is not store.db.conn
