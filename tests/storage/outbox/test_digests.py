import numpy as np

NOW = "2026-08-21T10:00:00+00:00"


def hold(store, target, paper_id, subscription_id):
    store.alerts.enqueue(
        target=target,
        paper_id=paper_id,
        subscription_id=subscription_id,
        score=0.5,
        matches=[],
        status="digest",
    )


def test_a_digest_carries_the_rows_held_for_its_cadence_once(store):
    daily = store.subscriptions.add(
        owner="U1", target="C1", topic="a", embedding=np.ones(2), cadence="daily"
    )
    weekly = store.subscriptions.add(
        owner="U1", target="C1", topic="b", embedding=np.ones(2), cadence="weekly"
    )
    hold(store, "C1", "p1", daily.id)
    hold(store, "C1", "p2", weekly.id)
    assert [d.paper_id for d in store.alerts.held_for_digest("C1")] == ["p1", "p2"]
    assert len(store.alerts.held_digest_ids("C1", "daily")) == 1
    digest_id = store.digests.open("C1", "daily", "2026-08-21", [])
    assert [d.paper_id for d in store.digests.rows(digest_id)] == ["p1"]
    assert store.alerts.held_digest_ids("C1", "daily") == []
    assert store.digests.open("C1", "daily", "2026-08-22", []) is None
    warned = store.digests.open("C1", "daily", "2026-08-22", ["cs.CL is failing"])
    assert store.digests.all()[-1].warnings == ["cs.CL is failing"] and warned > digest_id


def test_finishing_a_digest_marks_its_rows_with_its_message(store):
    hold(store, "C1", "p1", 1)
    digest_id = store.digests.open("C1", "daily", "2026-08-21", [])
    [run] = store.digests.claim(NOW, "w1")
    assert run.id == digest_id and store.digests.claim(NOW, "w2") == []
    assert store.digests.start_posting(run.id, "w1", NOW)
    store.digests.part_posted(run.id, 1, "C1", "1.5")
    store.digests.finish(run.id, "sent")
    [row] = store.digests.rows(digest_id)
    assert (row.status, row.slack_ts) == ("sent", "1.5")
    assert store.digests.all()[0].parts_posted == 1
