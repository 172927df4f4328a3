"""The Store: all of paperbot's data, one part per concern, over one database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from bot.storage.cycles import Cycles
from bot.storage.database import Database, StoreError, driver_error
from bot.storage.feeds import Feeds
from bot.storage.fulltext import FullText
from bot.storage.migrations import migrate
from bot.storage.outbox.alerts import Alerts
from bot.storage.outbox.digests import Digests
from bot.storage.outbox.notices import Notices
from bot.storage.papers import Papers
from bot.storage.postgresql import advice as postgresql_advice
from bot.storage.postgresql import is_postgresql, shown
from bot.storage.postgresql import made_by as postgresql_made_by
from bot.storage.saved import SavedPapers
from bot.storage.sqlite import made_by as sqlite_made_by
from bot.storage.subscriptions import Subscriptions


class Store:
    """paperbot's data. The rest of the bot reaches it through the parts:

    papers, fulltext (the papers' search index), feeds, subscriptions (with their
    feedback), saved, the outbox's alerts, digests and notices, and cycles.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        if not is_postgresql(self.path) and Path(self.path).is_dir():
            raise StoreError(
                f"{self.path} is a folder: give --db (or PAPERBOT_DB) a file in it, such as "
                f"{Path(self.path) / 'paperbot.db'}."
            )
        try:
            self.database = Database(self.path)
            # Writes at once (the schema, in a write transaction), so a file that cannot be
            # written is reported here rather than by the first command that changes something.
            migrate(self.database)
            self.fulltext = FullText(self.database)
            # A database from before the term index has its papers indexed once, here.
            self.fulltext.catch_up()
        except ValueError as error:  # a PostgreSQL URL that cannot be read
            raise StoreError(
                f"paperbot cannot use the database {shown(self.path)}: {error}."
            ) from None
        except (OSError, DBAPIError) as error:
            cause = driver_error(error) if isinstance(error, DBAPIError) else error
            advice = postgresql_advice if is_postgresql(self.path) else _advice
            raise StoreError(
                f"paperbot cannot use the database {shown(self.path)}: {advice(cause)}"
            ) from None
        database = self.database
        self.papers = Papers(database)
        self.feeds = Feeds(database)
        self.subscriptions = Subscriptions(database)
        self.saved = SavedPapers(database)
        self.alerts = Alerts(database)
        self.digests = Digests(database)
        self.notices = Notices(database)
        self.cycles = Cycles(database)

    def set_made_by(self, maker: str) -> None:
        """Record what made this database, such as `paperbot demo` (read by made_by())."""
        self.database.write(
            "insert into about (key, value) values ('made_by', :maker) "
            "on conflict (key) do update set value = excluded.value",
            maker=maker,
        )

    def close(self) -> None:
        self.database.close()


def require_existing(location: str) -> None:
    """Raise StoreError when there is no SQLite file at `location` (Store() would make one)."""
    if not is_postgresql(location) and not Path(location).exists():
        raise StoreError(
            f"There is no database at {location}: give --db (or PAPERBOT_DB) the file you "
            "meant; paperbot makes a new one when it first stores something (`paperbot ingest`, "
            "`subscribe` or `run`)."
        )


def made_by(location: str | Path) -> str | None:
    """What made the paperbot database at `location` (see Store.set_made_by), read without
    changing it; None for a database that says nothing, or is no paperbot database."""
    if is_postgresql(str(location)):
        return postgresql_made_by(str(location))
    return sqlite_made_by(location)


def _advice(error: Exception) -> str:
    """Why a database file cannot be used, in the error's own words, and what to do."""
    elsewhere = "choose another file with --db PATH (or PAPERBOT_DB)."
    if isinstance(error, FileExistsError):
        return f"{error.filename} is a file, not a folder; {elsewhere}"
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        return f"{error}; {elsewhere}"
    reason = getattr(error, "strerror", None) or str(error)
    return f"{reason}. Make the file and its folder writable, or {elsewhere}"
