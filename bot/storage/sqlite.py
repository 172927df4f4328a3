"""SQLite, the default database: one file, nothing to run.

Everything SQLite-specific about connections and transactions is here; the full-text
search (FTS5, bm25()) is in fulltext.py and the schema in migrations/sqlite/.

A web thread and the scheduler share the file: WAL lets readers read while a cycle
writes, the busy timeout makes a writer wait for another instead of failing, and every
write transaction is BEGIN IMMEDIATE. A deferred transaction that reads and then writes
fails at once ("database is locked"), whatever the busy timeout, when another connection
wrote in between.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy
from sqlalchemy import Connection, Engine, event

BUSY_TIMEOUT_MS = 10_000
# Distinguishes the connections of a process in change markers: id() of a closed
# connection can be reused by a new one.
_connection_serials = itertools.count(1)


class SQLite:
    name = "sqlite"

    def __init__(self, path: str):
        self.path = path

    def create_engine(self) -> Engine:
        """An Engine whose connections commit only what write_transaction() begins.

        The driver's own transaction handling is off (isolation_level None): reads run on
        their own, and write_transaction() issues BEGIN IMMEDIATE itself.
        """
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlalchemy.create_engine(
            f"sqlite:///{self.path}",
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
            # Threads never wait for a connection: one more is opened when all are in use.
            pool_size=5,
            max_overflow=-1,
            # The connection returned last is handed out next, so a thread's reads in a row
            # use one connection, with its page cache and its change marker.
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _set_up_connection)
        return engine

    @contextlib.contextmanager
    def write_transaction(self, engine: Engine, alone: bool) -> Iterator[Connection]:
        """A write transaction, always alone: BEGIN IMMEDIATE takes SQLite's one write lock."""
        with engine.connect() as conn:
            conn.exec_driver_sql("begin immediate")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @staticmethod
    def change_marker(conn: Connection) -> tuple[int, int, int]:
        """A value that is the same only if nothing was written since, as this connection
        sees it: `data_version` moves when another connection commits, `total_changes` when
        this one writes."""
        driver = conn.connection.driver_connection
        version = driver.execute("pragma data_version").fetchone()[0]
        return conn.connection.info["serial"], version, driver.total_changes

    @staticmethod
    def table_names(conn: Connection) -> set[str]:
        rows = conn.exec_driver_sql("select name from sqlite_master where type = 'table'")
        return {row[0] for row in rows}

    @staticmethod
    def claim_sql(table: str, due_ids: str, assignments: str) -> str:
        """One statement that claims the due pending rows of `table`. BEGIN IMMEDIATE already
        holds the write lock, so no other claimer runs between the select and the update."""
        return (
            f"update {table} set {assignments} "
            f"where id in ({due_ids}) and status = 'pending' returning *"
        )

    @staticmethod
    def json_values(column: str) -> str:
        """A FROM item whose `value` column holds the items of the JSON list `column`."""
        return f"json_each({column})"

    @staticmethod
    def insert_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: list) -> None:
        """Insert many rows (tuples in the order of `columns`) in the caller's transaction,
        through the driver's executemany: SQLAlchemy's own took 20 of the 24 seconds of
        indexing 10,000 papers' 1.3 million terms."""
        marks = ", ".join("?" for _ in columns)
        cursor = conn.connection.driver_connection.cursor()
        try:
            names = ", ".join(f'"{name}"' for name in columns)
            cursor.executemany(f'insert into "{table}" ({names}) values ({marks})', rows)
        finally:
            cursor.close()

    @staticmethod
    def split_script(script: str) -> list[str]:
        """The statements of an SQL script, trigger bodies kept whole."""
        statements, pending = [], ""
        for line in script.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                statements.append(pending.strip())
                pending = ""
        if pending.strip() and not pending.strip().startswith("--"):
            statements.append(pending.strip())
        return statements


def _set_up_connection(driver_connection: sqlite3.Connection, record) -> None:
    driver_connection.isolation_level = None
    driver_connection.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
    driver_connection.execute("pragma journal_mode = wal")
    record.info["serial"] = next(_connection_serials)


def _read_only(path: str | Path, sql: str) -> list[tuple] | None:
    """The rows of `sql` in the SQLite file at `path`, read without changing the file; None
    when it cannot be read so (no such file, not a database, no such table)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def holds_paperbot_tables(path: str | Path) -> bool:
    """Whether the SQLite file at `path` has paperbot's papers and subscriptions tables (as
    every release's has), read without changing the file."""
    rows = _read_only(path, "select name from sqlite_master") or []
    return {"papers", "subscriptions"} <= {row[0] for row in rows}


def made_by(path: str | Path) -> str | None:
    """What made the paperbot database file at `path` (see Store.set_made_by), read without
    changing the file; None for a file that says nothing, or is no paperbot database."""
    rows = _read_only(path, "select value from about where key = 'made_by'")
    return rows[0][0] if rows else None
