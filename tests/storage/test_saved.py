from tests.storage.conftest import make_paper


def test_saved_papers_newest_first_and_counted(store):
    store.papers.upsert([make_paper("2608.00001"), make_paper("2608.00002")])
    assert store.saved.add("U1", "2608.00001") and store.saved.add("U1", "2608.00002")
    assert not store.saved.add("U1", "2608.00001")
    assert [p.id for p in store.saved.papers("U1")] == ["2608.00002", "2608.00001"]
    assert [p.id for p in store.saved.papers("U1", limit=1, offset=1)] == ["2608.00001"]
    assert store.saved.count("U1") == 2 and store.saved.count("U2") == 0
    assert store.saved.remove("U1", "2608.00002") and not store.saved.remove("U1", "2608.00002")
    assert store.saved.count("U1") == 1
