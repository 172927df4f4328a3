import numpy as np

NOW = "2026-08-21T10:00:00+00:00"


def enqueue(store, target, paper_id, subscription_id=1, **kw):
    return store.alerts.enqueue(
        target=target,
        paper_id=paper_id,
        subscription_id=subscription_id,
        score=kw.pop("score", 0.5),
        matches=[],
        **kw,
    )


def test_one_row_per_target_and_paper(store):
    assert enqueue(store, "C1", "p1") and not enqueue(store, "C1", "p1", subscription_id=2)
    assert enqueue(store, "U1", "p1")
    assert [(d.target, d.paper_id) for d in store.alerts.all()] == [("C1", "p1"), ("U1", "p1")]


def test_a_claim_takes_each_row_once_and_targets_take_turns(store):
    for paper in ("p1", "p2", "p3"):
        enqueue(store, "C1", paper)
    enqueue(store, "C2", "p1")
    claimed = store.alerts.claim(10, now=NOW, claim="w1")
    assert [(d.target, d.paper_id) for d in claimed] == [
        ("C1", "p1"),
        ("C2", "p1"),
        ("C1", "p2"),
        ("C1", "p3"),
    ]
    assert {d.claim for d in claimed} == {"w1"} and store.alerts.claim(10, now=NOW) == []
    store.alerts.finish(claimed[0].id, "sent", slack_ts="1.0", channel="C1")
    [sent] = store.alerts.all("sent")
    assert (sent.slack_ts, sent.paper_id) == ("1.0", "p1")
    assert store.alerts.counts() == {"sending": 3, "sent": 1}
    assert [d.paper_id for d in store.alerts.recent("C1")] == ["p1"]


def test_rows_of_a_paused_subscription_or_not_yet_due_wait(store):
    paused = store.subscriptions.add(owner="U1", target="C1", topic="t", embedding=np.ones(2))
    store.subscriptions.update(paused.id, paused=1)
    enqueue(store, "C1", "p1", subscription_id=paused.id)
    enqueue(store, "C2", "p2", subscription_id=paused.id + 1)
    [later] = store.alerts.claim(10, now=NOW)
    store.alerts.retry_later(later.id, "503", "2026-08-21T11:00:00+00:00", uncertain=False)
    assert store.alerts.claim(10, now=NOW) == []
    assert [d.paper_id for d in store.alerts.claim(10, now="2026-08-21T11:00:00+00:00")] == ["p2"]


def test_the_daily_cap_holds_rows_back_and_show_more_releases_them(store):
    enqueue(store, "C1", "p1")
    enqueue(store, "C1", "p2", dropped_reason="cap", score=0.4)
    enqueue(store, "C1", "p3", dropped_reason="cap", score=0.9)
    assert store.alerts.count_since("C1", "2000-01-01") == 1
    held = store.alerts.over_cap("C1", "2000-01-01", "9999-01-01", "cap")
    assert [d.paper_id for d in held] == ["p3", "p2"]
    assert store.alerts.over_cap("C1", "2000-01-01", "2000-01-02", "cap") == []
    assert store.alerts.over_cap_counts("2000-01-01", "cap") == {"C1": 2}
    assert store.alerts.claim_more_offer("C1", "2026-08-21")
    assert not store.alerts.claim_more_offer("C1", "2026-08-21")
    store.alerts.release_more_offer("C1", "2026-08-21")
    assert store.alerts.claim_more_offer("C1", "2026-08-21")
    assert store.alerts.more_offers("2026-08-21") == {
        "C1": {"slack_channel": None, "slack_ts": None, "held": None}
    }
    store.alerts.record_more_offer("C1", "2026-08-21", "C1", "1700.01", 2)
    assert store.alerts.more_offers("2026-08-21") == {
        "C1": {"slack_channel": "C1", "slack_ts": "1700.01", "held": 2}
    }
    assert store.alerts.more_offers("2026-08-22") == {}
    store.alerts.release([held[0].id])
    assert [d.paper_id for d in store.alerts.all("pending")] == ["p1", "p3"]


def test_failed_and_pending_rows_listed_with_their_titles(store):
    enqueue(store, "C1", "p1")
    [row] = store.alerts.claim(1, now=NOW)
    store.alerts.finish(row.id, "failed", error="channel_not_found")
    [failed] = store.alerts.by_status("failed", 5)
    assert (failed["paper_id"], failed["last_error"], failed["title"]) == (
        "p1",
        "channel_not_found",
        None,
    )


def test_withdraw_takes_one_match_out_and_drops_a_row_left_with_none(store):
    both = [{"subscription_id": 1}, {"subscription_id": 2}]
    for paper in ("p1", "p2"):
        store.alerts.enqueue(
            target="U1", paper_id=paper, subscription_id=1, score=0.5, matches=both
        )
    enqueue(store, "U1", "p3", status="sent")

    assert store.alerts.withdraw("U1", 1, "judged", paper_id="p1") == 0
    assert store.alerts.withdraw("U1", 2, "judged", paper_id="p1") == 1
    assert store.alerts.withdraw("U1", 1, "removed") == 0

    rows = {d.paper_id: d for d in store.alerts.all()}
    assert (rows["p1"].status, rows["p1"].last_error, rows["p1"].matches) == (
        "dropped",
        "judged",
        [{"subscription_id": 2}],
    )
    assert (rows["p2"].status, rows["p2"].matches) == ("pending", [{"subscription_id": 2}])
    assert rows["p3"].status == "sent"
