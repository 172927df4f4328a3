"""Feeds: conditional-GET state and health of every feed polled, and feeds added at run time."""

from __future__ import annotations

from bot.storage.database import Database
from bot.storage.records import now_iso


class Feeds:
    def __init__(self, database: Database):
        self._db = database

    def get(self, url: str) -> dict | None:
        return self._db.row("select * from feeds where url = :url", url=url)

    def save(self, url: str, **fields) -> None:
        """Write these columns of the feed's row, making the row if it is new."""
        columns = ["url", *fields]
        updates = ", ".join(f"{name} = excluded.{name}" for name in fields)
        on_conflict = f"do update set {updates}" if fields else "do nothing"
        self._db.write(
            f"insert into feeds ({', '.join(columns)}) "
            f"values ({', '.join(':' + name for name in columns)}) "
            f"on conflict (url) {on_conflict}",
            url=url,
            **fields,
        )

    def all(self) -> list[dict]:
        return self._db.rows("select * from feeds order by url")

    def add_runtime(self, url: str, name: str, kind: str, include_cross_lists: bool) -> None:
        """Record a feed added at run time (or bring back a removed one)."""
        self.save(
            url,
            name=name,
            kind=kind,
            include_cross_lists=int(include_cross_lists),
            added_at=now_iso(),
            removed_at=None,
        )

    def remove(self, url: str) -> None:
        """Stop polling a feed; its row and history stay, marked removed."""
        self.save(url, removed_at=now_iso(), added_at=None)

    def runtime(self) -> list[dict]:
        """Feeds added at run time and not removed since, oldest first."""
        return self._db.rows(
            "select * from feeds where added_at is not null and removed_at is null "
            "order by added_at, url"
        )

    def removed_urls(self) -> set[str]:
        return {
            row[0] for row in self._db.tuples("select url from feeds where removed_at is not null")
        }
