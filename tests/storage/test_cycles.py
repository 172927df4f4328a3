def test_the_last_cycle_is_the_newest_row(store):
    assert store.cycles.last() is None
    store.cycles.record({"started": "2026-08-21T04:00:00+00:00", "papers_new": 3})
    store.cycles.record({"started": "2026-08-21T05:00:00+00:00", "fetch_seconds": 1.5})
    last = store.cycles.last()
    assert (last["id"], last["fetch_seconds"], last["papers_new"]) == (2, 1.5, None)
