import numpy as np

NOW = "2026-08-21T10:00:00+00:00"


def test_a_notice_is_claimed_once_and_sent(store):
    notice_id = store.notices.queue("U1", "Your subscription was paused.")
    [due] = store.notices.due(NOW)
    assert (due.id, due.user, due.text) == (notice_id, "U1", "Your subscription was paused.")
    assert store.notices.claim(notice_id, NOW) and not store.notices.claim(notice_id, NOW)
    assert store.notices.due(NOW) == []
    store.notices.finish(notice_id, "sent", slack_ts="1.0")
    [sent] = store.notices.all("sent")
    assert (sent.attempts, sent.attempted_at) == (1, NOW)


def subscribed(store, target: str) -> int:
    return store.subscriptions.add(
        owner="U1", target=target, topic="t", embedding=np.ones(4, np.float32)
    ).id


def sent(store, target: str, subscription_id: int, paper_id: str = "p1") -> None:
    store.alerts.enqueue(
        target=target, paper_id=paper_id, subscription_id=subscription_id, score=1, matches=[]
    )
    [claimed] = [d for d in store.alerts.claim(10, now=NOW) if d.target == target]
    store.alerts.finish(claimed.id, "sent", slack_ts=f"{target}.1", channel=target)


def test_a_new_version_is_told_once_in_each_sent_alert_thread(store):
    for target in ("C1", "C2"):
        store.alerts.enqueue(
            target=target,
            paper_id="p1",
            subscription_id=subscribed(store, target),
            score=1,
            matches=[],
        )
    first, _ = store.alerts.claim(10, now=NOW)
    store.alerts.finish(first.id, "sent", slack_ts="1.0", channel=first.target)
    assert store.notices.queue_update_notices("p1", 2) == 1
    assert store.notices.queue_update_notices("p1", 2) == 0
    [reply] = store.notices.pending_update_notices()
    assert (reply["thread_ts"], reply["slack_channel"], reply["version"]) == ("1.0", "C1", 2)
    store.notices.finish_update_notice(reply["id"], "sent")
    assert [n["status"] for n in store.notices.update_notices()] == ["sent"]


def test_no_new_version_is_told_under_an_alert_unsubscribed_or_judged_not_relevant(store):
    kept, removed, judged = (subscribed(store, target) for target in ("C1", "C2", "C3"))
    for target, subscription_id in (("C1", kept), ("C2", removed), ("C3", judged)):
        sent(store, target, subscription_id)
    store.subscriptions.remove(removed)
    store.subscriptions.set_feedback("U1", "p1", judged, -1)

    assert store.notices.queue_update_notices("p1", 2) == 1
    assert [n["slack_channel"] for n in store.notices.pending_update_notices()] == ["C1"]
