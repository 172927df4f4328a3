"""The one claim / lease / retry mechanism of the outbox's three queues.

A row goes pending -> sending -> sent or failed, or back to pending to retry later:

- claim: one UPDATE marks due pending rows 'sending', counts the attempt and tags them with
  the claimer, so two workers, even in two processes, never take the same row (SQLite: the
  write lock; PostgreSQL: the rows are locked FOR UPDATE SKIP LOCKED first);
- start_posting: the post is about to be sent (posting = 1); refused when the claim was lost;
- finish / retry_later: the outcome, or back to the queue not before a time; `uncertain`
  says the post may have reached Slack, so the next attempt looks for it first;
- unclaim: claimed rows never tried go back, the attempt not counted;
- requeue_stale: rows a dead process left 'sending' (its lease ran out, or the instance
  lock says it is gone) go back, uncertain if their post had started.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from bot.storage.database import Database, sql_with_lists
from bot.storage.records import now_iso


class PostQueue:
    """The queue kept in `table` (deliveries, digests or notices)."""

    table: str

    def __init__(self, database: Database):
        self._db = database

    def _claim(
        self, conn: Connection, due_ids: str, *, claim: str | None, now: str, **params
    ) -> list[dict]:
        """Claim the pending rows whose ids the query `due_ids` selects; returns them."""
        assignments = (
            "status = 'sending', attempts = attempts + 1, posting = 0, claim = :claim, "
            "updated = :now"
        )
        rows = conn.execute(
            text(self._db.dialect.claim_sql(self.table, due_ids, assignments)),
            {"claim": claim, "now": now, **params},
        )
        return [dict(row) for row in rows.mappings()]

    def _start_posting(self, conn: Connection, row_id: int, claim: str | None, now: str) -> bool:
        # An uncertain row keeps the time of its first unanswered post: the history check
        # must look back that far.
        changed = conn.execute(
            text(
                f"update {self.table} set posting = 1, updated = :now, attempted_at = "
                "case when uncertain = 1 then coalesce(attempted_at, :now) else :now end "
                "where id = :id and status = 'sending' "
                "and coalesce(claim, '') = coalesce(:claim, '')"
            ),
            {"now": now, "id": row_id, "claim": claim},
        )
        return changed.rowcount == 1

    def _finish(self, conn: Connection, row_id: int, status: str, **columns) -> None:
        assignments = "".join(f", {name} = :{name}" for name in columns)
        conn.execute(
            text(
                f"update {self.table} set status = :status, posting = 0, updated = :now"
                f"{assignments} where id = :id"
            ),
            {"status": status, "now": now_iso(), "id": row_id, **columns},
        )

    def start_posting(self, row_id: int, claim: str | None, now: str) -> bool:
        """Record that this row's post is about to be sent; False if the claim was lost.

        A row still claimed but never posted by a process that died goes back to the queue
        as it was; only a row marked here can have reached Slack.
        """
        with self._db.writing() as conn:
            return self._start_posting(conn, row_id, claim, now)

    def retry_later(
        self, row_id: int, error: str, next_attempt_at: str, *, uncertain: bool
    ) -> None:
        """Put a row back in the queue, not to be tried before `next_attempt_at`.

        `uncertain` says the last post may have reached Slack: the next attempt must look
        for it in the channel's history before posting again.
        """
        self._db.write(
            f"update {self.table} set status = 'pending', last_error = :error, "
            "next_attempt_at = :next, uncertain = :uncertain, posting = 0, updated = :now "
            "where id = :id",
            error=error,
            next=next_attempt_at,
            uncertain=int(uncertain),
            now=now_iso(),
            id=row_id,
        )

    def unclaim(self, row_ids: list[int]) -> None:
        """Give claimed rows that were never tried back to the queue, attempt not counted."""
        if not row_ids:
            return
        self._db.write(
            sql_with_lists(
                f"update {self.table} set status = 'pending', "
                "attempts = case when attempts > 0 then attempts - 1 else 0 end, "
                "posting = 0, updated = :now where id in :ids and status = 'sending'",
                "ids",
            ),
            now=now_iso(),
            ids=list(row_ids),
        )

    def requeue_stale(self, claimed_before: str) -> int:
        """Rows left 'sending' by a process that died go back to the queue.

        A row whose post had started is marked uncertain (it may be in Slack); one that
        was only claimed is put back as it was. Only rows untouched since
        `claimed_before` are taken, so a row a live process is posting is left to it.
        """
        return self._db.write(
            f"update {self.table} set status = 'pending', next_attempt_at = null, "
            "uncertain = case when posting = 1 then 1 else coalesce(uncertain, 0) end, "
            "attempts = case when posting = 1 then attempts "
            "  when attempts > 0 then attempts - 1 else 0 end, "
            "posting = 0, claim = null, updated = :now "
            "where status = 'sending' and updated < :before",
            now=now_iso(),
            before=claimed_before,
        )
