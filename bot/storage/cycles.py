"""The cycles log: one row per fetch-match-deliver cycle, with its counts and stage times."""

from __future__ import annotations

from bot.storage.database import Database


class Cycles:
    def __init__(self, database: Database):
        self._db = database

    def record(self, cycle: dict) -> None:
        columns = list(cycle)
        self._db.write(
            f"insert into cycles ({', '.join(columns)}) "
            f"values ({', '.join(':' + name for name in columns)})",
            **cycle,
        )

    def last(self) -> dict | None:
        return self._db.row("select * from cycles order by id desc limit 1")
