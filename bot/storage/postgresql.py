"""PostgreSQL, the scale-out backend: chosen by a postgresql:// location (PAPERBOT_DB or
[database] path), with the schema of migrations/postgresql/.

Everything PostgreSQL-specific about connections, transactions, claims and the instance
lock is here. SQLite's rowid has an explicit identity column of that name in the tables
whose insertion order the store reads (papers, saved, feedback), so the store's SQL is the
same on both. Full-text search (fulltext.py) is SQLite's FTS5 and not available here yet.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import sqlalchemy
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgresql(location: str) -> bool:
    """Whether `location` is a PostgreSQL URL (the scheme in any case, as URLs have it)."""
    return str(location).lower().startswith(SCHEMES)


def _sqlalchemy_url(location: str) -> sqlalchemy.URL:
    try:
        url = make_url(location)
    except ValueError as error:  # a port that is not a number, say
        raise ValueError(
            f"it is not a URL paperbot can read ({error}): write it as "
            "postgresql://user:password@host:5432/database"
        ) from None
    return url.set(drivername="postgresql+psycopg")


def _driver_url(location: str) -> str:
    """The location as libpq reads it (without SQLAlchemy's +driver)."""
    return (
        _sqlalchemy_url(location).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def shown(location: str) -> str:
    """A location as messages show it: a PostgreSQL URL without its password."""
    location = str(location)
    if not is_postgresql(location):
        return location
    parts = urlsplit(location)
    if parts.password is not None:
        credentials, _, host = parts.netloc.rpartition("@")
        user = credentials.split(":", 1)[0]
        parts = parts._replace(netloc=f"{user}:***@{host}")
    # libpq also takes the password as a parameter: ?password=...
    parameters = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in parameters):
        masked = [(name, "***" if name == "password" else v) for name, v in parameters]
        parts = parts._replace(query=urlencode(masked, safe="/*"))
    return urlunsplit(parts)


class PostgreSQL:
    name = "postgresql"

    def __init__(self, location: str):
        self.location = location

    def create_engine(self) -> Engine:
        """An Engine whose connections run each read in a transaction of its own (read
        committed) and whose write transactions are engine.begin()'s."""
        return sqlalchemy.create_engine(
            _sqlalchemy_url(self.location),
            pool_size=5,
            max_overflow=-1,
            pool_use_lifo=True,
            pool_pre_ping=True,
        )

    @contextlib.contextmanager
    def write_transaction(self, engine: Engine, alone: bool) -> Iterator[Connection]:
        """A transaction that writes; `alone`, one at a time per database, as SQLite's BEGIN
        IMMEDIATE has it. The store's writes read before they write (storing papers reads
        which ids are known, then inserts the rest), and two at once inserted the same paper
        twice. Claims lock their rows instead and need not wait (Database.claiming)."""
        with engine.begin() as conn:
            if alone:
                conn.exec_driver_sql("select pg_advisory_xact_lock(%s)", (lock_key(b"writes"),))
            yield conn

    @staticmethod
    def change_marker(conn: Connection) -> tuple:
        """A value that is the same only if nothing was committed since: the current
        snapshot (the next transaction id and those in progress) moves with every
        transaction that writes."""
        snapshot = conn.exec_driver_sql("select pg_current_snapshot()::text").scalar()
        conn.rollback()
        return ("postgresql", snapshot)

    @staticmethod
    def table_names(conn: Connection) -> set[str]:
        rows = conn.exec_driver_sql(
            "select tablename from pg_tables where schemaname = current_schema()"
        )
        return {row[0] for row in rows}

    @staticmethod
    def insert_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: list) -> None:
        """Insert many rows (tuples in the order of `columns`) in the caller's transaction,
        with COPY: many times faster than an INSERT per row for a paper's hundred terms."""
        cursor = conn.connection.driver_connection.cursor()
        try:
            names = ", ".join(f'"{name}"' for name in columns)
            with cursor.copy(f'copy "{table}" ({names}) from stdin') as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()

    @staticmethod
    def split_script(script: str) -> list[str]:
        """The statements of an SQL script: each ends with ';' at the end of a line (the
        PostgreSQL migrations have no function bodies)."""
        statements, pending = [], ""
        for line in script.splitlines(keepends=True):
            if line.strip().startswith("--"):
                continue
            pending += line
            if line.rstrip().endswith(";"):
                statements.append(pending.strip())
                pending = ""
        if pending.strip():
            statements.append(pending.strip())
        return statements

    @staticmethod
    def claim_sql(table: str, due_ids: str, assignments: str) -> str:
        """One statement that claims the due pending rows of `table`: the rows are locked
        FOR UPDATE SKIP LOCKED first, so concurrent claimers take different rows and never
        wait for each other. (FOR UPDATE is not allowed beside the window function that
        orders due alerts, so the due ids are chosen first and locked by a plain select.)"""
        return (
            f"with due as (select id from {table} where id in ({due_ids}) "
            f"and status = 'pending' for update skip locked) "
            f"update {table} set {assignments} "
            f"where id in (select id from due) and status = 'pending' returning *"
        )

    @staticmethod
    def json_values(column: str) -> str:
        """A FROM item whose `value` column holds the items of the JSON list `column`."""
        return f"jsonb_array_elements_text({column}::jsonb) as items(value)"


def made_by(location: str) -> str | None:
    """What made the paperbot database at `location` (see Store.set_made_by); None for a
    database that says nothing, cannot be reached, or is no paperbot database."""
    try:
        with psycopg.connect(_driver_url(location), connect_timeout=10) as conn:
            row = conn.execute("select value from about where key = 'made_by'").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def lock_key(name: bytes) -> int:
    """The key of one of paperbot's advisory locks. One lock per database and name: the key
    is derived from the name, not the location, so every process on the database asks for
    the same lock."""
    digest = hashlib.sha256(b"paperbot " + name + b" lock").digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """The instance lock on PostgreSQL: a session advisory lock held by a connection of its
    own, released by release() or when the process (and so its connection) ends."""

    def __init__(self, location: str):
        self.location = location
        self._conn: psycopg.Connection | None = None
        self.key = lock_key(b"instance")

    def acquire(self) -> bool:
        """True if this process now holds the lock; False if another process does."""
        conn = psycopg.connect(_driver_url(self.location), autocommit=True)
        held = conn.execute("select pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]
        if not held:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def advice(error: Exception) -> str:
    """Why a PostgreSQL database cannot be used, in the error's own words, and what to do."""
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        # Its first line: the rest quotes the statement that was refused.
        reason = str(error).splitlines()[0].strip()
        return (
            f"{reason}. paperbot makes its tables there: as the database's owner, run "
            "GRANT CREATE ON SCHEMA public TO the user in the URL, or use a database that "
            "user owns."
        )
    # The driver's lines, each a sentence: some end one already ("... accepting connections?").
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = " ".join(line if line.endswith((".", "?", "!")) else line + "." for line in lines)
    reason = reason or type(error).__name__ + "."
    return (
        # The URL may be --db's or copy-to's target: naming the one to change would be wrong
        # for the other.
        f"{reason} Check that the server runs and the URL (user, password, host, database) "
        "is right."
    )
