import threading

import pytest

from bot.storage import Store, StoreError


@pytest.mark.sqlite_only
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


def test_processes_storing_the_same_new_papers_at_once_store_each_once(location):
    """Two feeds (or two replicas) announcing the same papers at the same moment: storing
    reads which ids are known, then inserts the others, and on PostgreSQL as on SQLite no
    second writer slips in between to insert them twice."""
    from tests.storage.conftest import make_paper

    papers = [make_paper(f"2608.{n:05d}") for n in range(300)]
    stores = [Store(location) for _ in range(4)]
    start = threading.Barrier(len(stores))
    errors = []

    def store_all(store):
        start.wait()
        try:
            store.papers.upsert(papers)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=store_all, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].papers.count() == 300
    assert stores[0].fulltext.paper_count() == 300
    for store in stores:
        store.close()


def test_a_second_store_on_the_database_sees_what_the_first_wrote(location):
    first, second = Store(location), Store(location)
    first.set_made_by("paperbot demo")
    assert second.database.scalar("select value from about") == "paperbot demo"
    first.close()
    second.close()


def test_a_postgresql_url_opens_postgresql_and_a_path_sqlite(tmp_path, postgresql_url):
    on_postgresql, on_sqlite = Store(postgresql_url), Store(tmp_path / "p.db")
    assert on_postgresql.database.dialect.name == "postgresql"
    assert on_sqlite.database.dialect.name == "sqlite"
    on_postgresql.close()
    on_sqlite.close()


def test_an_unreachable_postgresql_server_is_told_plainly(tmp_path):
    url = f"postgresql://paperbot@/paperbot?host={tmp_path}"
    with pytest.raises(StoreError) as raised:
        Store(url)
    assert str(raised.value).startswith(f"paperbot cannot use the database {url}: ")
    assert "Check that the server runs" in str(raised.value)
    assert "?." not in str(raised.value) and ".." not in str(raised.value)


def test_on_postgresql_the_instance_lock_is_held_by_one_process_at_a_time(postgresql_url):
    from bot.instance import instance_lock
    from bot.storage.postgresql import AdvisoryLock

    first, second = instance_lock(postgresql_url), instance_lock(postgresql_url)
    assert isinstance(first, AdvisoryLock)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_made_by_reads_a_postgresql_database(postgresql_url):
    from bot.storage import made_by

    store = Store(postgresql_url)
    assert made_by(postgresql_url) is None
    store.set_made_by("paperbot demo")
    assert made_by(postgresql_url) == "paperbot demo"
    store.close()


def test_a_postgresql_password_is_never_shown(tmp_path):
    url = f"postgresql://paperbot:s3cret@/paperbot?host={tmp_path}"
    with pytest.raises(StoreError) as raised:
        Store(url)
    assert "s3cret" not in str(raised.value)
    assert str(raised.value).startswith(
        f"paperbot cannot use the database postgresql://paperbot:***@/paperbot?host={tmp_path}: "
    )


def test_a_password_given_as_a_parameter_is_never_shown(tmp_path):
    url = f"postgresql://paperbot@/paperbot?host={tmp_path}&password=s3cret"
    with pytest.raises(StoreError) as raised:
        Store(url)
    assert "s3cret" not in str(raised.value)
    assert f"postgresql://paperbot@/paperbot?host={tmp_path}&password=***" in str(raised.value)


def test_a_postgresql_url_whose_port_is_not_a_number_is_one_sentence():
    with pytest.raises(StoreError, match="not a URL paperbot can read") as raised:
        Store("postgresql://paperbot:s3cret@localhost:notaport/paperbot")
    assert "s3cret" not in str(raised.value)


def test_the_scheme_in_capitals_is_postgresql_not_a_file_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"POSTGRESQL://paperbot:s3cret@/paperbot?host={tmp_path}"
    with pytest.raises(StoreError, match="Check that the server runs") as raised:
        Store(url)
    assert "s3cret" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_user_who_may_not_make_tables_is_told_what_to_grant(postgresql_url):
    import psycopg

    from bot.storage.postgresql import _driver_url

    with psycopg.connect(_driver_url(postgresql_url), autocommit=True) as conn:
        conn.execute("drop role if exists reader")
        conn.execute("create role reader login")
    # Since PostgreSQL 15 only the database's owner may create in its public schema.
    url = postgresql_url.replace("://postgres", "://reader", 1)
    with pytest.raises(StoreError) as raised:
        Store(url)
    message = str(raised.value)
    assert "permission denied for schema public" in message
    assert "GRANT CREATE ON SCHEMA public TO the user in the URL" in message
    assert "LINE 1" not in message and "create table" not in message
