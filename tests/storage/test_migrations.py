"""Numbered migrations: a fresh database, and one written by release 0.1, end up alike."""

import shutil
import sqlite3
from pathlib import Path

from bot.deliver import Deliverer, make_slack_client
from bot.services import build_services
from bot.settings import load_settings
from bot.storage import Store
from bot.storage.migrations import migrations
from bot.summarize import ExtractiveSummarizer

FIXTURE = Path(__file__).parent.parent / "fixtures" / "storage" / "release-0.1.db"
# The rows of each table in the fixture (tests/fixtures/storage/make_release_0_1.py).
RELEASE_0_1_ROWS = {
    "about": 1,
    "cycles": 2,
    "deliveries": 6,
    "digests": 1,
    "feedback": 2,
    "feeds": 2,
    "more_offers": 1,
    "notices": 2,
    "papers": 12,
    "saved": 2,
    "subscriptions": 3,
    "update_notices": 1,
}


def release_0_1_copy(tmp_path) -> Path:
    """A copy of the fixture made by release 0.1 (see make_release_0_1.py next to it)."""
    path = tmp_path / "release-0.1.db"
    shutil.copy(FIXTURE, path)
    return path


def table_rows(path: Path) -> dict[str, list[dict]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    names = [
        row[0]
        for row in conn.execute(
            "select name from sqlite_master where type = 'table' and name not like 'papers_fts%'"
        )
    ]
    tables = {
        name: [dict(row) for row in conn.execute(f'select * from "{name}"')] for name in names
    }
    conn.close()
    return tables


def schema(path: Path) -> dict:
    """Tables with their columns, and indexes and triggers with their definitions."""
    conn = sqlite3.connect(path)
    described = {}
    objects = conn.execute("select type, name, sql from sqlite_master where sql is not null")
    for kind, name, sql in objects.fetchall():
        if kind == "table" and not sql.upper().startswith("CREATE VIRTUAL"):
            columns = conn.execute(f'pragma table_info("{name}")').fetchall()
            described[name] = sorted(column[1:] for column in columns)
        else:
            described[name] = " ".join(sql.split())
    conn.close()
    return described


def test_a_fresh_database_has_every_migration(tmp_path):
    store = Store(tmp_path / "new.db")
    versions = store.database.tuples("select version, name from schema_version order by version")
    assert versions == [(m.version, m.name) for m in migrations("sqlite")]


def test_release_0_1_database_upgrades_to_the_same_schema_as_a_fresh_one(tmp_path):
    Store(tmp_path / "new.db").close()
    Store(release_0_1_copy(tmp_path)).close()
    assert schema(tmp_path / "release-0.1.db") == schema(tmp_path / "new.db")


def test_release_0_1_database_keeps_every_row(tmp_path):
    path = release_0_1_copy(tmp_path)
    before = table_rows(path)
    Store(path).close()
    after = table_rows(path)
    # The full-text index is its own table now: every paper's terms are in it, and the
    # acronyms the papers define.
    added = {"schema_version", "paper_terms", "acronyms", "sqlite_sequence"}
    assert set(after) == set(before) | added
    with sqlite3.connect(path) as conn:
        rowids = {row[0] for row in conn.execute("select rowid from papers")}
    assert {row["paper"] for row in after["paper_terms"]} == rowids
    defined = {(row["acronym"], row["long_form"]) for row in after["acronyms"]}
    assert ("rl", "reinforcement learning") in defined
    assert {row["paper"] for row in after["acronyms"]} <= rowids
    # The one column dropped since (0004): a per-subscription model feedback no longer fits.
    for row in before["subscriptions"]:
        assert row.pop("model") is None
    for table, rows in before.items():
        kept = [{column: row[column] for column in rows[0]} for row in after[table]] if rows else []
        assert kept == rows, table
    assert {table: len(rows) for table, rows in before.items() if rows} == RELEASE_0_1_ROWS


def test_judgments_of_removed_subscriptions_are_forgotten(tmp_path):
    path = release_0_1_copy(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("insert into feedback values ('U9', '2608.00002', 99, 1, '2026-08-21')")
    Store(path).close()
    judged = [(row["subscription_id"], row["paper_id"]) for row in table_rows(path)["feedback"]]
    assert judged == [(1, "2608.00001"), (1, "2608.00005")]


def test_opening_it_again_changes_nothing(tmp_path):
    path = release_0_1_copy(tmp_path)
    Store(path).close()
    once = table_rows(path)
    Store(path).close()
    assert table_rows(path) == once


def test_the_bot_works_on_an_upgraded_release_0_1_database(tmp_path, embedder, slack):
    path = release_0_1_copy(tmp_path)
    services = build_services(load_settings(db_path=str(path), env={}), embedder=embedder)
    store = services.store

    hits = services.search.search("multimodal masked modeling", limit=3)
    assert hits[0].paper.title == "4M: Massively Multimodal Masked Modeling"
    assert [p.id for p in store.saved.papers("U1")] == ["2608.00001"]
    assert store.subscriptions.feedback(1) == {"2608.00001": 1, "2608.00005": -1}
    assert store.subscriptions.get(3).paused_reason == "channel_not_found"
    assert store.papers.unmatched_ids() == ["2608.00012"]

    client = make_slack_client("xoxb-test", slack.base_url)
    report = Deliverer(
        store, client, ExtractiveSummarizer(), services.settings.delivery
    ).deliver_pending()
    assert report.sent == 2  # the pending alert and the open digest
    # The pending alert went out, and the digest opened by 0.1 with the row it carries; the
    # paused channel's alert waits.
    sent = ["2608.00001", "2608.00002", "2608.00006"]
    assert [d.paper_id for d in store.alerts.all("sent")] == sent
    assert [d.paper_id for d in store.alerts.all("pending")] == ["2608.00008"]
    assert [run.status for run in store.digests.all()] == ["sent"]
    assert [n.status for n in store.notices.all()] == ["sent", "sent"]


def test_a_file_older_than_release_0_1_gains_the_tables_and_columns_it_lacks(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table feeds (url text primary key, etag text)")
        conn.execute("insert into feeds (url, etag) values ('https://x/rss', 'e')")
    store = Store(path)
    assert store.feeds.get("https://x/rss")["etag"] == "e"
    assert store.feeds.get("https://x/rss")["content_hash"] is None
    assert store.papers.count() == 0 and store.fulltext.paper_count() == 0


def test_a_fresh_postgresql_database_has_the_schema_of_a_fresh_sqlite_one(tmp_path, postgresql_url):
    """The same migrations, tables, columns and indexes; PostgreSQL keeps the insertion
    order SQLite's rowid gives in a column named rowid."""
    on_sqlite, on_postgresql = Store(tmp_path / "new.db"), Store(postgresql_url)
    versions = "select version, name from schema_version order by version"
    assert on_postgresql.database.tuples(versions) == on_sqlite.database.tuples(versions)
    assert [(m.version, m.name) for m in migrations("postgresql")] == [
        (m.version, m.name) for m in migrations("sqlite")
    ]
    sqlite_schema = schema(tmp_path / "new.db")
    sqlite_tables = {
        name: [column[0] for column in columns]
        for name, columns in sqlite_schema.items()
        # sqlite_sequence is SQLite's own, where AUTOINCREMENT keeps the largest id used.
        if isinstance(columns, list) and name != "sqlite_sequence"
    }
    rows = on_postgresql.database.tuples(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = current_schema() and column_name != 'rowid'"
    )
    postgresql_tables: dict[str, list[str]] = {}
    for table, column in rows:
        postgresql_tables.setdefault(table, []).append(column)
    assert {t: sorted(c) for t, c in postgresql_tables.items()} == {
        t: sorted(c) for t, c in sqlite_tables.items()
    }
    rowid_tables = on_postgresql.database.tuples(
        "select table_name from information_schema.columns "
        "where table_schema = current_schema() and column_name = 'rowid' order by table_name"
    )
    assert rowid_tables == [("feedback",), ("papers",), ("saved",)]
    sqlite_indexes = {
        name
        for name, sql in sqlite_schema.items()
        if isinstance(sql, str) and sql.upper().startswith("CREATE") and " INDEX " in sql.upper()
    }
    postgresql_indexes = {
        row[0]
        for row in on_postgresql.database.tuples(
            "select indexname from pg_indexes where schemaname = current_schema() "
            "and indexname like 'idx_%'"
        )
    }
    assert postgresql_indexes == sqlite_indexes
    on_sqlite.close()
    on_postgresql.close()


def test_a_postgresql_database_with_other_tables_gets_the_schema_beside_them(postgresql_url):
    import psycopg

    from bot.storage.postgresql import _driver_url

    with psycopg.connect(_driver_url(postgresql_url)) as conn:
        conn.execute("create table other_app (id integer primary key)")
        conn.execute("insert into other_app values (7)")
    store = Store(postgresql_url)
    versions = store.database.tuples("select version, name from schema_version order by version")
    assert versions == [(m.version, m.name) for m in migrations("postgresql")]
    assert store.database.tuples("select id from other_app") == [(7,)]
    store.close()
