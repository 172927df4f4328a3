"""The one claim / lease / retry mechanism, as each of the three queues uses it."""

import pytest

NOW = "2026-08-21T10:00:00+00:00"
LATER = "2026-08-21T11:00:00+00:00"


def claim_one(store, queue):
    """Queue one row in `queue` and claim it; returns (queue, row id, claim tag)."""
    if queue == "alerts":
        store.alerts.enqueue(target="C1", paper_id="p", subscription_id=1, score=0.5, matches=[])
        [row] = store.alerts.claim(10, now=NOW, claim="tag")
        return store.alerts, row.id, "tag"
    if queue == "digests":
        store.alerts.enqueue(
            target="C1", paper_id="p", subscription_id=1, score=0.5, matches=[], status="digest"
        )
        store.digests.open("C1", "daily", "2026-08-21", [])
        [run] = store.digests.claim(NOW, "tag")
        return store.digests, run.id, "tag"
    notice_id = store.notices.queue("U1", "Your subscription was paused.")
    assert store.notices.claim(notice_id, NOW)
    tag = store.database.scalar("select claim from notices where id = :id", id=notice_id)
    return store.notices, notice_id, tag


def row_of(store, queue, row_id):
    table = {"alerts": "deliveries", "digests": "digests", "notices": "notices"}[queue]
    return store.database.row(f"select * from {table} where id = :id", id=row_id)


QUEUES = ["alerts", "digests", "notices"]


@pytest.mark.parametrize("queue", QUEUES)
def test_a_claimed_row_is_sending_and_counted(store, queue):
    _, row_id, _ = claim_one(store, queue)
    row = row_of(store, queue, row_id)
    assert (row["status"], row["attempts"]) == ("sending", 1)


@pytest.mark.parametrize("queue", QUEUES)
def test_a_post_that_started_in_a_dead_process_comes_back_uncertain(store, queue):
    posts, row_id, tag = claim_one(store, queue)
    posts.start_posting(row_id, tag, NOW)
    assert posts.requeue_stale(claimed_before="9999") == 1
    row = row_of(store, queue, row_id)
    assert (row["status"], row["uncertain"], row["attempts"], row["claim"]) == (
        "pending",
        1,
        1,
        None,
    )


@pytest.mark.parametrize("queue", ["alerts", "digests"])
def test_a_row_only_claimed_by_a_dead_process_comes_back_as_it_was(store, queue):
    posts, row_id, _ = claim_one(store, queue)
    assert posts.requeue_stale(claimed_before="9999") == 1
    row = row_of(store, queue, row_id)
    assert (row["status"], row["uncertain"], row["attempts"]) == ("pending", 0, 0)


@pytest.mark.parametrize("queue", QUEUES)
def test_a_live_claim_is_left_alone(store, queue):
    posts, row_id, _ = claim_one(store, queue)
    assert posts.requeue_stale(claimed_before="2000-01-01") == 0
    assert row_of(store, queue, row_id)["status"] == "sending"


@pytest.mark.parametrize("queue", ["alerts", "digests"])
def test_a_lost_claim_cannot_start_posting(store, queue):
    posts, row_id, tag = claim_one(store, queue)
    assert not posts.start_posting(row_id, "another", NOW)
    assert posts.start_posting(row_id, tag, NOW)


@pytest.mark.parametrize("queue", QUEUES)
def test_retry_later_waits_and_keeps_the_first_unanswered_post_time(store, queue):
    posts, row_id, tag = claim_one(store, queue)
    posts.start_posting(row_id, tag, NOW)
    posts.retry_later(row_id, "slack 503", LATER, uncertain=True)
    row = row_of(store, queue, row_id)
    assert (row["status"], row["last_error"], row["next_attempt_at"]) == (
        "pending",
        "slack 503",
        LATER,
    )
    assert (row["uncertain"], row["attempted_at"]) == (1, NOW)


@pytest.mark.parametrize("queue", ["alerts", "digests"])
def test_unclaimed_rows_go_back_without_counting_the_attempt(store, queue):
    posts, row_id, _ = claim_one(store, queue)
    posts.unclaim([row_id])
    row = row_of(store, queue, row_id)
    assert (row["status"], row["attempts"]) == ("pending", 0)


def test_concurrent_claimers_on_postgresql_never_take_the_same_row(postgresql_url):
    """Workers in threads, on two Stores (two connection pools, as two processes would
    have), claim until the queue is empty: every row is claimed exactly once."""
    import threading

    from bot.storage import Store

    stores = [Store(postgresql_url), Store(postgresql_url)]
    for n in range(120):
        stores[0].alerts.enqueue(
            target=f"C{n % 6}", paper_id=f"p{n}", subscription_id=1, score=0.5, matches=[]
        )
    claimed: list[list[int]] = [[] for _ in range(4)]

    def work(worker: int) -> None:
        store = stores[worker % 2]
        while store.database.scalar("select count(*) from deliveries where status = 'pending'"):
            rows = store.alerts.claim(7, now=NOW, claim=f"w{worker}")
            claimed[worker].extend(row.id for row in rows)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [row_id for ids in claimed for row_id in ids]
    assert len(every) == len(set(every)) == 120
    rows = stores[0].database.rows("select id, status, attempts, claim from deliveries")
    assert {(row["status"], row["attempts"]) for row in rows} == {("sending", 1)}
    assert {row["id"] for row in rows if row["claim"] == "w0"} == set(claimed[0])
    for store in stores:
        store.close()


def test_a_claim_on_postgresql_skips_rows_another_claim_holds(postgresql_url):
    """While one claim's transaction holds its rows, a second claimer neither waits for
    them nor takes them; once the first commits, the second takes the rest."""
    import threading

    from bot.storage import Store
    from bot.storage.outbox.alerts import DUE_ALERTS

    first, second = Store(postgresql_url), Store(postgresql_url)
    for n in range(4):
        first.alerts.enqueue(
            target="C1", paper_id=f"p{n}", subscription_id=1, score=0.5, matches=[]
        )
    results: dict[str, list[int]] = {}
    with first.database.writing() as conn:
        held = first.alerts._claim(conn, DUE_ALERTS, claim="first", now=NOW, limit=2)
        results["first"] = [row["id"] for row in held]
        # A claimer that waited for the held rows would never return while they are held.
        worker = threading.Thread(
            target=lambda: results.update(
                during=[row.id for row in second.alerts.claim(4, now=NOW, claim="second")]
            )
        )
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "the second claimer waited for the rows the first holds"
    assert not set(results["during"]) & set(results["first"])
    after = [row.id for row in second.alerts.claim(4, now=NOW, claim="second")]
    assert sorted(results["first"] + results["during"] + after) == [1, 2, 3, 4]
    claims = first.database.tuples("select claim, count(*) from deliveries group by claim")
    assert dict(claims) == {"first": 2, "second": 2}
    first.close()
    second.close()
