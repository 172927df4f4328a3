"""The connection layer every store module runs its SQL through.

One SQLAlchemy Engine per store, `text()` SQL with named parameters, and two kinds of
transaction: `reading()` for statements that only read and `writing()` for a transaction
that writes. What differs between database systems (how a connection is set up, how a
write transaction begins, how rows are claimed) is the dialect's: bot/storage/sqlite.py, or
(bot/storage/postgresql.py) is chosen for a postgresql:// location.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection, TextClause, bindparam, text
from sqlalchemy.exc import DBAPIError

from bot.storage.postgresql import PostgreSQL, is_postgresql
from bot.storage.sqlite import SQLite

SQL = str | TextClause


def sql_with_lists(sql: str, *names: str) -> TextClause:
    """`sql` whose parameters `names` are lists, written as `x in :names`."""
    return text(sql).bindparams(*(bindparam(name, expanding=True) for name in names))


def _clause(sql: SQL) -> TextClause:
    return sql if isinstance(sql, TextClause) else text(sql)


class StoreError(Exception):
    """The database cannot be opened or written; the message says what to do."""


class Database:
    """An Engine on one database and the transactions store modules run in."""

    def __init__(self, location: str):
        # A postgresql:// URL is a PostgreSQL database; anything else is a SQLite file path.
        self.dialect = PostgreSQL(location) if is_postgresql(location) else SQLite(location)
        self.engine = self.dialect.create_engine()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads; each statement sees what was committed when it ran."""
        with self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction that holds the write lock from its start, committed at the end of
        the block and rolled back if it raises."""
        with self.dialect.write_transaction(self.engine, alone=True) as conn:
            yield conn

    @contextlib.contextmanager
    def claiming(self) -> Iterator[Connection]:
        """A write transaction for a claim, which locks the rows it takes and skips those
        another claim holds: on PostgreSQL it runs beside other writers instead of after
        them, so delivery workers never wait for each other; on SQLite it is writing()."""
        with self.dialect.write_transaction(self.engine, alone=False) as conn:
            yield conn

    def rows(self, sql: SQL, **params) -> list[dict]:
        with self.reading() as conn:
            return [dict(row) for row in conn.execute(_clause(sql), params).mappings()]

    def row(self, sql: SQL, **params) -> dict | None:
        with self.reading() as conn:
            row = conn.execute(_clause(sql), params).mappings().first()
        return dict(row) if row else None

    def tuples(self, sql: SQL, **params) -> list[tuple]:
        with self.reading() as conn:
            return [tuple(row) for row in conn.execute(_clause(sql), params)]

    def bulk_rows(self, sql: SQL, **params) -> list[tuple]:
        """Rows as plain tuples straight from the driver, for reads of many rows (the
        embedding matrix, full-text hits): building SQLAlchemy rows for 100,000 of them
        cost a quarter of the read. The statement is still compiled by the dialect, with
        each list parameter (sql_with_lists) written out as one parameter per value."""
        compiled = (
            _clause(sql)
            .params(params)
            .compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        )
        values = compiled.construct_params()
        if compiled.positional:
            values = tuple(values[name] for name in compiled.positiontup)
        with self.reading() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(compiled.string, values)
                return cursor.fetchall()
            finally:
                cursor.close()

    def scalar(self, sql: SQL, **params):
        with self.reading() as conn:
            return conn.execute(_clause(sql), params).scalar()

    def write(self, sql: SQL, **params) -> int:
        """Run one statement in its own write transaction; how many rows it changed."""
        with self.writing() as conn:
            return conn.execute(_clause(sql), params).rowcount

    def write_many(self, sql: SQL, rows: list[dict]) -> None:
        """Run one statement for each parameter set, in bulk (executemany), in one transaction."""
        if rows:
            with self.writing() as conn:
                conn.execute(_clause(sql), rows)

    def close(self) -> None:
        self.engine.dispose()


def driver_error(error: DBAPIError) -> Exception:
    """The database driver's own exception behind SQLAlchemy's wrapper."""
    return error.orig if isinstance(error.orig, Exception) else error
