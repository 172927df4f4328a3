"""Digests: a daily or weekly message per target carrying the alerts held for it."""

from __future__ import annotations

import json

from sqlalchemy import text

from bot.storage.outbox.alerts import HELD_FOR_DIGEST, delivery_from_row
from bot.storage.outbox.queue import PostQueue
from bot.storage.records import Delivery, DigestRun, now_iso

DUE_DIGESTS = (
    "select id from digests where status = 'pending' "
    "and (next_attempt_at is null or next_attempt_at <= :now)"
)


class Digests(PostQueue):
    table = "digests"

    def open(self, target: str, cadence: str, day: str, warnings: list[str]) -> int | None:
        """Start a digest of the rows held for `target`'s `cadence` digest; returns its id.

        The rows get the digest's id in the same transaction, so a later digest never takes
        them again. None when nothing is held and there is no warning to tell.
        """
        stamp = now_iso()
        with self._db.writing() as conn:
            held = conn.execute(text(HELD_FOR_DIGEST), {"target": target, "cadence": cadence})
            ids = [row[0] for row in held]
            if not ids and not warnings:
                return None
            digest_id = conn.execute(
                text(
                    "insert into digests (target, cadence, day, warnings, status, attempts, "
                    "parts_posted, created, updated) values (:target, :cadence, :day, "
                    ":warnings, 'pending', 0, 0, :now, :now) returning id"
                ),
                {
                    "target": target,
                    "cadence": cadence,
                    "day": day,
                    "warnings": json.dumps(warnings),
                    "now": stamp,
                },
            ).scalar_one()
            if ids:
                conn.execute(
                    text(
                        "update deliveries set digest_id = :digest, updated = :now where id = :id"
                    ),
                    [{"digest": digest_id, "now": stamp, "id": delivery_id} for delivery_id in ids],
                )
        return digest_id

    def rows(self, digest_id: int) -> list[Delivery]:
        """The outbox rows a digest carries, oldest first."""
        rows = self._db.rows(
            "select * from deliveries where digest_id = :id order by id", id=digest_id
        )
        return [delivery_from_row(row) for row in rows]

    def all(self) -> list[DigestRun]:
        return [digest_from_row(row) for row in self._db.rows("select * from digests order by id")]

    def claim(self, now: str, claim: str) -> list[DigestRun]:
        """Mark every pending digest that is due as being sent, and return them."""
        with self._db.claiming() as conn:
            rows = self._claim(conn, DUE_DIGESTS, claim=claim, now=now)
        return sorted((digest_from_row(row) for row in rows), key=lambda d: d.id)

    def part_posted(self, digest_id: int, parts_posted: int, channel: str, ts: str) -> None:
        """`parts_posted` messages of the digest are in Slack; the first is at `ts`."""
        self._db.write(
            "update digests set parts_posted = :parts, slack_channel = :channel, slack_ts = :ts, "
            "uncertain = 0, updated = :now where id = :id",
            parts=parts_posted,
            channel=channel,
            ts=ts,
            now=now_iso(),
            id=digest_id,
        )

    def finish(self, digest_id: int, status: str, error: str | None = None) -> None:
        """Mark a digest, and every row it carries, sent (with its ts) or failed."""
        assert status in ("sent", "failed")
        with self._db.writing() as conn:
            self._finish(conn, digest_id, status, last_error=error)
            conn.execute(
                text(
                    "update deliveries set status = :status, last_error = :error, updated = :now, "
                    "slack_ts = (select slack_ts from digests where id = :id), "
                    "slack_channel = (select slack_channel from digests where id = :id) "
                    "where digest_id = :id"
                ),
                {"status": status, "error": error, "now": now_iso(), "id": digest_id},
            )


def digest_from_row(row: dict) -> DigestRun:
    return DigestRun(
        id=row["id"],
        target=row["target"],
        cadence=row["cadence"],
        day=row["day"],
        warnings=json.loads(row["warnings"] or "[]"),
        status=row["status"],
        attempts=row["attempts"],
        parts_posted=row["parts_posted"] or 0,
        slack_channel=row["slack_channel"],
        slack_ts=row["slack_ts"],
        uncertain=bool(row["uncertain"]),
        attempted_at=row["attempted_at"],
        created=row["created"],
        claim=row["claim"],
    )
