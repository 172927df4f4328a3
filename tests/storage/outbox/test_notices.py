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


def test_a_new_version_is_told_once_in_each_sent_alert_thread(store):
    for target in ("C1", "C2"):
        store.alerts.enqueue(target=target, paper_id="p1", subscription_id=1, score=1, matches=[])
    first, _ = store.alerts.claim(10, now=NOW)
    store.alerts.finish(first.id, "sent", slack_ts="1.0", channel=first.target)
    assert store.notices.queue_update_notices("p1", 2) == 1
    assert store.notices.queue_update_notices("p1", 2) == 0
    [reply] = store.notices.pending_update_notices()
    assert (reply["thread_ts"], reply["slack_channel"], reply["version"]) == ("1.0", "C1", 2)
    store.notices.finish_update_notice(reply["id"], "sent")
    assert [n["status"] for n in store.notices.update_notices()] == ["sent"]
