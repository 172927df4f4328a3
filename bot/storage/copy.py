"""Copying a SQLite paperbot database into an empty PostgreSQL one (`paperbot copy-to`).

Both databases are opened as Stores first, so both have the newest schema (an old SQLite
file is upgraded in place). The copy names no table: it copies every table the two
schemas share, as the PostgreSQL schema describes it, so tables added by later migrations
are copied too. SQLite's implicit rowid is copied into PostgreSQL's column of that name,
since other rows refer to papers by it, and every identity sequence is moved past the
copied ids. Rows go over in batches, so a large database never has to fit in memory, and
all of them in one PostgreSQL transaction: a copy that fails leaves the target as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import Connection, MetaData, inspect
from sqlalchemy.exc import DBAPIError

from bot.storage.database import Database, StoreError, driver_error
from bot.storage.postgresql import PostgreSQL, is_postgresql, shown
from bot.storage.sqlite import holds_paperbot_tables
from bot.storage.store import Store

BATCH_ROWS = 1_000

# Called with (table, rows copied so far, rows the table has) as a table starts and after
# each of its batches.
OnProgress = Callable[[str, int, int], None]


@dataclass
class Copied:
    """What a copy did: rows copied per table (in the order copied), and what it left out."""

    rows: dict[str, int] = field(default_factory=dict)
    # PostgreSQL tables the SQLite file does not have (another application's, or one SQLite
    # lacks), left as they were.
    not_in_source: list[str] = field(default_factory=list)
    # "table.column" of SQLite columns PostgreSQL has no place for.
    columns_left_out: list[str] = field(default_factory=list)
    # Papers copied before they were embedded (stored by an ingest still running, say).
    not_embedded: int = 0


@dataclass(frozen=True)
class _Table:
    name: str
    columns: list[str]
    # Whether the SQLite table's implicit rowid goes into the target's column `rowid`.
    implicit_rowid: bool


def copy_to_postgresql(
    source: str | Path, target: str, on_progress: OnProgress | None = None
) -> Copied:
    """Copy every row of the SQLite paperbot database `source` into the empty PostgreSQL
    paperbot database `target` (a postgresql:// URL). Raises StoreError, saying why, if
    the source is no SQLite file, the target no PostgreSQL database, or the target already
    holds rows; or if the copy fails, and then nothing was copied."""
    source, target = str(source), str(target)
    if is_postgresql(source):
        raise StoreError(
            f"The database to copy from, {shown(source)}, is PostgreSQL already: copy-to "
            "copies a SQLite file (choose it with --db PATH or PAPERBOT_DB)."
        )
    if not is_postgresql(target):
        raise StoreError(
            f"{target} is not a PostgreSQL URL: give one like "
            "postgresql://USER:PASSWORD@HOST/DATABASE."
        )
    if not Path(source).is_file():
        raise StoreError(
            f"There is no SQLite file {source} to copy: choose it with --db PATH (or PAPERBOT_DB)."
        )
    if not holds_paperbot_tables(source):
        raise StoreError(
            f"{source} is not a paperbot database (it has no papers and subscriptions tables): "
            "choose paperbot's file with --db PATH (or PAPERBOT_DB). Nothing was copied or "
            "changed."
        )
    from_store = Store(source)
    try:
        to_store = Store(target)
        try:
            return _copy(from_store.database, to_store.database, shown(target), on_progress)
        finally:
            to_store.close()
    finally:
        from_store.close()


def _copy(source: Database, target: Database, where: str, on_progress: OnProgress | None) -> Copied:
    copied = Copied()
    with source.reading() as reading, target.writing() as writing:
        # One read transaction, so the copy is one moment of the file even if it changes.
        reading.exec_driver_sql("begin")
        which = ""
        try:
            tables = _plan(reading, writing, copied)
            _refuse_rows(writing, tables, where)
            for table in tables:
                which = f" of the table {table.name}"
                copied.rows[table.name] = _copy_table(reading, writing, table, on_progress)
            which = ""
            _move_sequences(writing, [table.name for table in tables], _ids_used(reading))
            if "papers" in copied.rows:
                copied.not_embedded = writing.exec_driver_sql(
                    "select count(*) from papers where embedding is null"
                ).scalar()
        except (DBAPIError, psycopg.Error) as error:
            cause = driver_error(error) if isinstance(error, DBAPIError) else error
            raise StoreError(
                f"The copy{which} into {where} failed, so nothing was copied: {cause}"
            ) from None
        finally:
            reading.rollback()
    return copied


def _plan(reading: Connection, writing: Connection, copied: Copied) -> list[_Table]:
    """The tables to copy, in an order where a table comes after those it refers to, each
    with the columns both databases have; notes in `copied` what is left out."""
    metadata = MetaData()
    metadata.reflect(bind=writing)
    source_schema = inspect(reading)
    source_tables = set(source_schema.get_table_names())
    tables = []
    for table in metadata.sorted_tables:
        if table.name == "schema_version":  # the target's own migrations wrote it
            continue
        if table.name not in source_tables:
            # A PostgreSQL database may hold other applications' tables, and a paperbot
            # table that SQLite lacks has nothing to copy.
            copied.not_in_source.append(table.name)
            continue
        source_columns = {column["name"] for column in source_schema.get_columns(table.name)}
        implicit_rowid = "rowid" in table.columns and "rowid" not in source_columns
        columns = [
            column.name
            for column in table.columns
            # A generated column is computed by PostgreSQL and cannot be written.
            if column.computed is None
            and (column.name in source_columns or (column.name == "rowid" and implicit_rowid))
        ]
        copied.columns_left_out += [
            f"{table.name}.{name}" for name in sorted(source_columns - set(table.columns.keys()))
        ]
        tables.append(_Table(table.name, columns, implicit_rowid))
    return tables


def _refuse_rows(writing: Connection, tables: list[_Table], where: str) -> None:
    """Raise StoreError if any table to copy into holds rows: a copy goes into an empty
    database, never merges two."""
    held = []
    for table in tables:
        count = writing.exec_driver_sql(f'select count(*) from "{table.name}"').scalar()
        if count:
            held.append(f"{count:,} row{'s' if count > 1 else ''} in {table.name}")
    if held:
        raise StoreError(
            f"{where} already holds paperbot data ({', '.join(held)}): copy into an empty "
            "database, such as one made with `createdb`. Nothing was copied."
        )


def _copy_table(
    reading: Connection, writing: Connection, table: _Table, on_progress: OnProgress | None
) -> int:
    """Copy the rows of one table in batches; how many there were."""
    total = reading.exec_driver_sql(f'select count(*) from "{table.name}"').scalar()
    selected = ", ".join(
        'rowid as "rowid"' if name == "rowid" and table.implicit_rowid else f'"{name}"'
        for name in table.columns
    )
    done = 0
    if on_progress:
        on_progress(table.name, done, total)
    result = reading.exec_driver_sql(f'select {selected} from "{table.name}"')
    while batch := result.fetchmany(BATCH_ROWS):
        # COPY writes identity columns (ids, rowid) with the values SQLite gave, as INSERT's
        # OVERRIDING SYSTEM VALUE would, and many times faster for the full-text index.
        PostgreSQL.insert_rows(writing, table.name, tuple(table.columns), batch)
        done += len(batch)
        if on_progress:
            on_progress(table.name, done, total)
    return done


def _ids_used(reading: Connection) -> dict[str, int]:
    """The largest id SQLite ever gave in each AUTOINCREMENT table (sqlite_sequence), which
    may be a removed row's, above every id copied."""
    names = {row[0] for row in reading.exec_driver_sql("select name from sqlite_master")}
    if "sqlite_sequence" not in names:
        return {}
    return dict(reading.exec_driver_sql("select name, seq from sqlite_sequence").all())


def _move_sequences(writing: Connection, tables: list[str], ids_used: dict[str, int]) -> None:
    """Make each identity (and serial) column of `tables` continue after its largest copied
    value, so the next row inserted gets a new id instead of one already copied, and after
    every id SQLite gave (`ids_used`): a removed subscription's id stays unused."""
    sequences = writing.exec_driver_sql(
        "select table_name, column_name, "
        "pg_get_serial_sequence(quote_ident(table_name), column_name) "
        "from information_schema.columns "
        "where table_schema = current_schema() and table_name = any(%s)",
        (tables,),
    ).all()
    for table, column, sequence in sequences:
        if sequence is not None:
            used = ids_used.get(table, 0) if column == "id" else 0
            writing.exec_driver_sql(
                f'select setval(%s, greatest(coalesce((select max("{column}") from "{table}"), '
                "0), %s) + 1, false)",
                (sequence, used),
            )
