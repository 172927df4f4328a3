"""Copying a SQLite database into PostgreSQL: everything arrives, and the bot carries on there."""

import sqlite3
from dataclasses import asdict

import numpy as np
import pytest

from bot.storage import Store, StoreError
from bot.storage.copy import copy_to_postgresql
from tests.storage.conftest import make_paper
from tests.storage.test_migrations import RELEASE_0_1_ROWS, release_0_1_copy

ROWID_TABLES = ("feedback", "papers", "saved")  # PostgreSQL keeps SQLite's rowid in a column


def every_row(store: Store, table: str) -> list[dict]:
    """A table's rows, SQLite's implicit rowid included, in one order on both databases."""
    rowid = (
        "rowid as rowid, "
        if table in ROWID_TABLES and store.database.dialect.name == "sqlite"
        else ""
    )
    rows = store.database.rows(f'select {rowid}* from "{table}"')
    return sorted(rows, key=lambda row: repr(sorted(row.items())))


def subscription_fields(store: Store) -> list[dict]:
    """Every subscription as plain values (its vectors as bytes)."""
    subs = []
    for sub in store.subscriptions.all():
        fields = asdict(sub)
        for name in ("embedding", "profile"):
            fields[name] = None if fields[name] is None else fields[name].tobytes()
        subs.append(fields)
    return subs


@pytest.fixture
def copied_release_0_1(tmp_path, postgresql_url):
    """The release-0.1 fixture copied into PostgreSQL: the copy's result, then the SQLite
    and the PostgreSQL store."""
    path = release_0_1_copy(tmp_path)
    copied = copy_to_postgresql(path, postgresql_url)
    source, target = Store(path), Store(postgresql_url)
    yield copied, source, target
    source.close()
    target.close()


def test_every_table_of_a_release_0_1_database_arrives_row_for_row(copied_release_0_1):
    copied, source, target = copied_release_0_1
    # The index of the papers' terms, and of the acronyms they define, are tables like the others.
    assert copied.rows == {**RELEASE_0_1_ROWS, "paper_terms": 1780, "acronyms": 19}
    assert copied.not_in_source == [] and copied.columns_left_out == []
    for table in copied.rows:
        assert every_row(target, table) == every_row(source, table), table


def test_papers_subscriptions_and_feedback_read_back_the_same(copied_release_0_1):
    _, source, target = copied_release_0_1
    ids = [f"2608.{n:05d}" for n in range(1, 13)]
    assert target.papers.get_many(ids) == source.papers.get_many(ids)
    model = "all-MiniLM-L6-v2"
    source_ids, source_vectors = source.papers.embeddings(model)
    target_ids, target_vectors = target.papers.embeddings(model)
    assert len(target_ids) == 12
    assert target_ids == source_ids and target_vectors.tobytes() == source_vectors.tobytes()
    assert subscription_fields(target) == subscription_fields(source)
    assert target.subscriptions.feedback(1) == {"2608.00001": 1, "2608.00005": -1}
    assert [p.id for p in target.saved.papers("U1")] == ["2608.00001"]
    assert target.papers.unmatched_ids() == ["2608.00012"]


def test_pending_alerts_are_claimed_on_postgresql_as_they_were_on_sqlite(copied_release_0_1):
    _, source, target = copied_release_0_1
    claimed = [d.paper_id for d in target.alerts.claim(10)]
    assert claimed and claimed == [d.paper_id for d in source.alerts.claim(10)]
    assert target.alerts.claim(10) == []


def test_rows_written_after_the_copy_get_new_ids(copied_release_0_1):
    _, _, target = copied_release_0_1
    target.papers.upsert([make_paper("2609.00001")])
    rowid = "select rowid from papers where id = :id"
    assert target.database.scalar(rowid, id="2609.00001") == 13
    assert target.saved.add("U9", "2608.00003")
    sub = target.subscriptions.add(
        owner="U9", target="U9", topic="a new topic", embedding=np.ones(4, np.float32)
    )
    assert sub.id == 4


def test_many_papers_with_embeddings_go_over_in_batches_with_progress(tmp_path, postgresql_url):
    source = Store(tmp_path / "p.db")
    papers = [make_paper(f"2608.{n:05d}", title=f"Paper {n}") for n in range(2_345)]
    source.papers.upsert(papers)
    vectors = np.random.default_rng(7).standard_normal((len(papers), 384)).astype(np.float32)
    source.papers.set_embeddings("m", {p.id: v for p, v in zip(papers, vectors, strict=True)})
    calls = []
    copied = copy_to_postgresql(tmp_path / "p.db", postgresql_url, lambda *call: calls.append(call))
    assert copied.rows["papers"] == 2_345
    assert [call for call in calls if call[0] == "papers"] == [
        ("papers", done, 2_345) for done in (0, 1_000, 2_000, 2_345)
    ]
    target = Store(postgresql_url)
    ids, matrix = target.papers.embeddings("m")
    assert ids == [p.id for p in papers] and matrix.tobytes() == vectors.tobytes()
    source.close()
    target.close()


def test_a_target_with_papers_or_subscriptions_is_refused_and_left_alone(tmp_path, postgresql_url):
    source = Store(tmp_path / "p.db")
    source.papers.upsert([make_paper("2608.00001"), make_paper("2608.00002")])
    source.close()
    target = Store(postgresql_url)
    target.papers.upsert([make_paper("2601.00009", title="Already here")])
    target.subscriptions.add(owner="U1", target="U1", topic="t", embedding=np.ones(4, np.float32))
    with pytest.raises(StoreError) as refused:
        copy_to_postgresql(tmp_path / "p.db", postgresql_url)
    message = str(refused.value)
    assert "already holds paperbot data (" in message
    assert "1 row in papers" in message and "1 row in subscriptions" in message
    assert "Nothing was copied." in str(refused.value)
    assert list(target.papers.get_many(["2608.00001", "2601.00009"])) == ["2601.00009"]
    assert target.papers.count() == 1
    target.close()


def test_a_copy_that_fails_midway_leaves_the_target_empty(tmp_path, postgresql_url):
    source = Store(tmp_path / "p.db")
    source.papers.upsert([make_paper()])
    source.close()
    # SQLite keeps text in an INTEGER column; PostgreSQL refuses it.
    with sqlite3.connect(tmp_path / "p.db") as conn:
        conn.execute("insert into about (key, value) values ('made_by', 'a test')")
        conn.execute("update papers set version = 'two'")
    with pytest.raises(StoreError) as failed:
        copy_to_postgresql(tmp_path / "p.db", postgresql_url)
    message = str(failed.value)
    assert message.startswith("The copy of the table papers into postgresql://")
    assert "failed, so nothing was copied" in message
    target = Store(postgresql_url)
    assert target.papers.count() == 0
    assert target.database.scalar("select count(*) from about") == 0
    target.close()


def test_it_copies_from_a_sqlite_file_into_postgresql_only(tmp_path, postgresql_url):
    Store(tmp_path / "p.db").close()
    with pytest.raises(StoreError, match="is PostgreSQL already: copy-to copies a SQLite file"):
        copy_to_postgresql(postgresql_url, postgresql_url)
    with pytest.raises(StoreError, match="is not a PostgreSQL URL"):
        copy_to_postgresql(tmp_path / "p.db", str(tmp_path / "other.db"))
    with pytest.raises(StoreError, match="There is no SQLite file .*missing.db to copy"):
        copy_to_postgresql(tmp_path / "missing.db", postgresql_url)
    assert not (tmp_path / "missing.db").exists()


def test_a_sqlite_file_that_is_not_paperbots_is_refused_and_left_as_it_was(
    tmp_path, postgresql_url
):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table x (y)")
    before = other.read_bytes()
    with pytest.raises(StoreError, match="is not a paperbot database .*Nothing was copied"):
        copy_to_postgresql(other, postgresql_url)
    assert other.read_bytes() == before


def test_other_applications_tables_in_the_target_are_left_alone(tmp_path, postgresql_url):
    import psycopg

    from bot.storage.postgresql import _driver_url

    Store(tmp_path / "p.db").close()
    with psycopg.connect(_driver_url(postgresql_url)) as conn:
        conn.execute("create table other_app (id integer primary key)")
        conn.execute("insert into other_app values (7)")
    copied = copy_to_postgresql(tmp_path / "p.db", postgresql_url)
    assert copied.not_in_source == ["other_app"]
    target = Store(postgresql_url)
    assert target.database.tuples("select id from other_app") == [(7,)]
    target.close()


def test_a_table_a_later_migration_adds_is_copied_too(tmp_path, postgresql_url):
    """The copy names no table: one it has never heard of, with an identity id, a blob and a
    reference to papers by rowid, goes over like the rest."""
    source = Store(tmp_path / "p.db")
    source.papers.upsert([make_paper("2608.00001"), make_paper("2608.00002")])
    source.database.write(
        "create table terms (id integer primary key, paper_rowid integer, term text, weights blob)"
    )
    for n, paper_id in enumerate(["2608.00002", "2608.00001"], start=1):
        source.database.write(
            "insert into terms (paper_rowid, term, weights) "
            "select rowid, :term, :weights from papers where id = :id",
            term=f"term{n}",
            weights=bytes([0, n, 255]),
            id=paper_id,
        )
    source.close()
    target = Store(postgresql_url)
    target.database.write(
        "create table terms (id bigint generated by default as identity primary key, "
        "paper_rowid bigint, term text, weights bytea)"
    )
    copied = copy_to_postgresql(tmp_path / "p.db", postgresql_url)
    assert copied.rows["terms"] == 2
    by_paper = (
        "select p.id, t.term, t.weights from terms t join papers p on p.rowid = t.paper_rowid "
        "order by t.id"
    )
    assert target.database.tuples(by_paper) == [
        ("2608.00002", "term1", bytes([0, 1, 255])),
        ("2608.00001", "term2", bytes([0, 2, 255])),
    ]
    target.database.write("insert into terms (term) values ('new')")
    assert target.database.scalar("select id from terms where term = 'new'") == 3
    target.close()


def test_the_copy_searches_as_the_file_did(copied_release_0_1):
    _, source, target = copied_release_0_1
    for words in (["multimodal", "masked", "modeling"], ["retrieval"], ["language", "agents"]):
        on_sqlite, on_postgresql = (
            source.fulltext.search(words, 5),
            target.fulltext.search(words, 5),
        )
        assert on_sqlite, words
        assert [pid for pid, _ in on_postgresql] == [pid for pid, _ in on_sqlite]
        assert [s for _, s in on_postgresql] == pytest.approx([s for _, s in on_sqlite])


def test_a_subscription_id_removed_before_the_copy_stays_unused_after_it(tmp_path, postgresql_url):
    path = tmp_path / "p.db"
    source = Store(path)
    made = [
        source.subscriptions.add(
            owner="U1", target="U1", topic=topic, embedding=np.ones(4, np.float32)
        )
        for topic in ("kept", "removed")
    ]
    source.subscriptions.remove(made[1].id)
    source.close()

    copy_to_postgresql(path, postgresql_url)
    target = Store(postgresql_url)
    sub = target.subscriptions.add(
        owner="U1", target="U1", topic="new", embedding=np.ones(4, np.float32)
    )
    target.close()

    assert sub.id == made[1].id + 1
