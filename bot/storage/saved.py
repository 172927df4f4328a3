"""Each user's saved papers."""

from __future__ import annotations

from bot.papers import Paper
from bot.storage.database import Database
from bot.storage.papers import paper_from_row
from bot.storage.records import now_iso


class SavedPapers:
    def __init__(self, database: Database):
        self._db = database

    def add(self, user: str, paper_id: str) -> bool:
        """Add a paper to a user's saved list; False when it was already there."""
        return (
            self._db.write(
                'insert into saved ("user", paper_id, created) values (:user, :paper_id, :now) '
                'on conflict ("user", paper_id) do nothing',
                user=user,
                paper_id=paper_id,
                now=now_iso(),
            )
            > 0
        )

    def remove(self, user: str, paper_id: str) -> bool:
        return (
            self._db.write(
                'delete from saved where "user" = :user and paper_id = :paper_id',
                user=user,
                paper_id=paper_id,
            )
            > 0
        )

    def papers(self, user: str, limit: int = 50, offset: int = 0) -> list[Paper]:
        """A user's saved papers, most recently saved first; `offset` skips the first ones."""
        rows = self._db.rows(
            "select papers.* from saved join papers on papers.id = saved.paper_id "
            'where saved."user" = :user order by saved.created desc, saved.rowid desc '
            "limit :limit offset :offset",
            user=user,
            limit=limit,
            offset=offset,
        )
        return [paper_from_row(row) for row in rows]

    def count(self, user: str) -> int:
        """How many stored papers `user` has saved."""
        return self._db.scalar(
            "select count(*) from saved join papers on papers.id = saved.paper_id "
            'where saved."user" = :user',
            user=user,
        )
