"""Notices: DMs that must reach a user once (such as "your subscription was paused"), and
replies in a sent alert's thread when a new version of its paper is out."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from bot.storage.outbox.queue import PostQueue
from bot.storage.records import Notice, now_iso


class Notices(PostQueue):
    table = "notices"

    def queue(self, user: str, message: str) -> int:
        """A DM to `user`, pending until the outbox worker posts it."""
        stamp = now_iso()
        with self._db.writing() as conn:
            return conn.execute(
                text(
                    'insert into notices ("user", text, status, attempts, uncertain, created, '
                    "updated) values (:user, :text, 'pending', 0, 0, :now, :now) returning id"
                ),
                {"user": user, "text": message, "now": stamp},
            ).scalar_one()

    def due(self, now: str) -> list[Notice]:
        """Pending notices whose next try is due, oldest first."""
        rows = self._db.rows(
            "select * from notices where status = 'pending' "
            "and (next_attempt_at is null or next_attempt_at <= :now) order by id",
            now=now,
        )
        return [notice_from_row(row) for row in rows]

    def all(self, status: str | None = None) -> list[Notice]:
        where = "where status = :status " if status else ""
        rows = self._db.rows(f"select * from notices {where}order by id", status=status)
        return [notice_from_row(row) for row in rows]

    def claim(self, notice_id: int, now: str) -> bool:
        """Take a pending notice to post it now; False if another process took it.

        A notice is claimed just before its post, so it is marked posting at once: one a
        dead process left behind may be in Slack.
        """
        tag = uuid.uuid4().hex
        with self._db.claiming() as conn:
            claimed = self._claim(conn, ":notice_id", claim=tag, now=now, notice_id=notice_id)
            return bool(claimed) and self._start_posting(conn, notice_id, tag, now)

    def finish(
        self, notice_id: int, status: str, *, error: str | None = None, slack_ts: str | None = None
    ) -> None:
        assert status in ("sent", "failed")
        with self._db.writing() as conn:
            self._finish(conn, notice_id, status, last_error=error, slack_ts=slack_ts)

    # Replies about new versions, in the threads of sent alerts

    def queue_update_notices(self, paper_id: str, version: int) -> int:
        """One pending reply per sent alert of this paper; a version is told once. Not under
        an alert whose subscription was removed, nor one judged not relevant for it: whoever
        did that wants no more of it."""
        stamp = now_iso()
        return self._db.write(
            "insert into update_notices (delivery_id, paper_id, version, slack_channel, "
            "thread_ts, status, attempts, created, updated) "
            "select d.id, d.paper_id, :version, d.slack_channel, d.slack_ts, 'pending', 0, "
            ":now, :now from deliveries d where d.paper_id = :paper_id and d.status = 'sent' "
            "and d.slack_ts is not null and d.slack_channel is not null "
            "and exists (select 1 from subscriptions s where s.id = d.subscription_id) "
            "and not exists (select 1 from feedback f where f.paper_id = d.paper_id "
            "and f.subscription_id = d.subscription_id and f.value < 0) "
            "on conflict (delivery_id, version) do nothing",
            version=version,
            now=stamp,
            paper_id=paper_id,
        )

    def pending_update_notices(self, limit: int = 100) -> list[dict]:
        return self._db.rows(
            "select * from update_notices where status = 'pending' order by id limit :limit",
            limit=limit,
        )

    def update_notices(self) -> list[dict]:
        return self._db.rows("select * from update_notices order by id")

    def finish_update_notice(self, notice_id: int, status: str, error: str | None = None) -> None:
        self._db.write(
            "update update_notices set status = :status, last_error = :error, "
            "attempts = attempts + 1, updated = :now where id = :id",
            status=status,
            error=error,
            now=now_iso(),
            id=notice_id,
        )


def notice_from_row(row: dict) -> Notice:
    return Notice(
        id=row["id"],
        user=row["user"],
        text=row["text"],
        status=row["status"],
        attempts=row["attempts"] or 0,
        last_error=row["last_error"],
        uncertain=bool(row["uncertain"]),
        attempted_at=row["attempted_at"],
        created=row["created"],
    )
