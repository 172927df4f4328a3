"""Adopting a database made before numbered migrations (SQLite, release 0.1 and older).

Release 0.1 grew its schema by helpers that created what was missing each time the file
was opened, so a file may lack any table, column, index or trigger added since it was
made. Here migration 0001 is applied to an empty in-memory database and everything the file
lacks of it is added; nothing is dropped, except a trigger whose definition is outdated
(papers_au once re-indexed the full text on every update), which is replaced. A full-text
index made here over existing papers is filled from them.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection


def adopt_legacy_schema(conn: Connection, dialect, initial_sql: str) -> None:
    reference = sqlite3.connect(":memory:")
    try:
        for statement in dialect.split_script(initial_sql):
            reference.execute(statement)
        wanted = reference.execute(
            "select type, name, sql from sqlite_master where sql is not null order by rowid"
        ).fetchall()
        filled_index = False
        for kind, name, sql in wanted:
            existing = _definitions(conn)
            if name not in existing:
                conn.exec_driver_sql(sql)
                filled_index |= sql.upper().startswith("CREATE VIRTUAL TABLE")
            elif kind == "table":
                _add_missing_columns(conn, reference, name)
            elif kind == "trigger" and _folded(existing[name]) != _folded(sql):
                conn.exec_driver_sql(f'drop trigger "{name}"')
                conn.exec_driver_sql(sql)
        if filled_index:
            conn.exec_driver_sql("insert into papers_fts (papers_fts) values ('rebuild')")
    finally:
        reference.close()


def _definitions(conn: Connection) -> dict[str, str]:
    rows = conn.exec_driver_sql("select name, sql from sqlite_master where sql is not null")
    return dict(rows.all())


def _add_missing_columns(conn: Connection, reference: sqlite3.Connection, table: str) -> None:
    have = {row[1] for row in conn.exec_driver_sql(f'pragma table_info("{table}")')}
    for _, column, kind, _, default, _ in reference.execute(f'pragma table_info("{table}")'):
        if column not in have:
            default_clause = f" default {default}" if default is not None else ""
            conn.exec_driver_sql(
                f'alter table "{table}" add column "{column}" {kind}{default_clause}'
            )


def _folded(sql: str) -> str:
    return " ".join(sql.split())
