import threading

import pytest

from bot.storage import Store


def test_the_file_is_in_wal_mode_with_a_busy_timeout(store):
    assert store.database.scalar("pragma journal_mode") == "wal"
    assert store.database.scalar("pragma busy_timeout") == 10_000


def test_a_write_that_fails_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError), store.database.writing() as conn:
        conn.exec_driver_sql("insert into about (key, value) values ('x', 'y')")
        raise RuntimeError("the rest of the transaction failed")
    assert store.database.rows("select * from about") == []


def test_threads_writing_at_once_all_land(store):
    """Each write transaction takes the lock at its start: none fails as 'locked'."""

    def add(user):
        for n in range(20):
            store.saved.add(user, f"2608.{n:05d}")

    threads = [threading.Thread(target=add, args=(f"U{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.database.scalar("select count(*) from saved") == 80


def test_a_second_store_on_the_file_sees_what_the_first_wrote(tmp_path):
    first, second = Store(tmp_path / "p.db"), Store(tmp_path / "p.db")
    first.set_made_by("paperbot demo")
    assert second.database.scalar("select value from about") == "paperbot demo"
