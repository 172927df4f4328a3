"""Numbered migrations: the schema made from nothing, and older databases brought up to it.

`migrations/<dialect>/NNNN_name.sql` run in order, all in the one write transaction that
opens the store, each recorded in schema_version. 0001 is the whole schema of release 0.1,
the one place it is described; later files change it.

A database made before numbered migrations (release 0.1 and older: tables but no
schema_version) is adopted first: whatever it lacks of 0001 is added (legacy.py), and
0001 is recorded as applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from bot.storage.database import Database
from bot.storage.migrations.legacy import adopt_legacy_schema
from bot.storage.records import now_iso

FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(dialect: str) -> list[Migration]:
    """The migrations of a dialect, oldest first."""
    found = []
    for path in sorted((FOLDER / dialect).glob("[0-9][0-9][0-9][0-9]_*.sql")):
        number, name = path.stem.split("_", 1)
        found.append(Migration(int(number), name, path.read_text()))
    return found


def migrate(database: Database) -> list[int]:
    """Bring the database to the newest schema; returns the versions applied now."""
    dialect = database.dialect
    pending = migrations(dialect.name)
    applied_now = []
    with database.writing() as conn:
        conn.execute(
            text(
                "create table if not exists schema_version (version integer primary key, "
                "name text not null, applied text not null)"
            )
        )
        applied = {row[0] for row in conn.execute(text("select version from schema_version"))}
        # Only SQLite files predate numbered migrations; a PostgreSQL database may hold
        # other applications' tables, which are left alone.
        legacy = dialect.name == "sqlite" and dialect.table_names(conn) - {"schema_version"}
        if not applied and legacy:
            adopt_legacy_schema(conn, dialect, pending[0].sql)
            _record(conn, pending[0])
            applied.add(pending[0].version)
        for migration in pending:
            if migration.version in applied:
                continue
            for statement in dialect.split_script(migration.sql):
                conn.exec_driver_sql(statement)
            _record(conn, migration)
            applied_now.append(migration.version)
    return applied_now


def _record(conn: Connection, migration: Migration) -> None:
    conn.execute(
        text("insert into schema_version (version, name, applied) values (:v, :name, :now)"),
        {"v": migration.version, "name": migration.name, "now": now_iso()},
    )
