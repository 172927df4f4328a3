"""Alerts: one outbox row per paper and target (the deliveries table), the daily cap's
held-back rows and its "N more matched today" offers, and rows held for digests."""

from __future__ import annotations

import json

from sqlalchemy import text

from bot.storage.database import sql_with_lists
from bot.storage.outbox.queue import PostQueue
from bot.storage.records import Delivery, now_iso

# "digest": held for a daily or weekly digest; the deliverer posts only "pending" rows.
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "dropped", "digest")

# Pending rows that are due, whose subscription is not paused, each target's oldest first
# and the targets taking turns.
DUE_ALERTS = (
    "select d.id from deliveries d where d.status = 'pending'"
    " and (d.next_attempt_at is null or d.next_attempt_at <= :now)"
    " and not exists (select 1 from subscriptions s"
    "   where s.id = d.subscription_id and s.paused = 1)"
    " order by row_number() over (partition by d.target order by d.id),"
    # Within a turn, targets posted to least recently (by Slack's message timestamp)
    # first: otherwise every claim restarts with the same targets and the others wait
    # behind their pacing.
    " (select max(s.slack_ts) from deliveries s"
    # (Targets never posted to first, on PostgreSQL as on SQLite, where NULL sorts first.)
    "   where s.target = d.target and s.status = 'sent') nulls first, d.id"
    " limit :limit"
)


class Alerts(PostQueue):
    table = "deliveries"

    def enqueue(
        self,
        *,
        target: str,
        paper_id: str,
        subscription_id: int,
        score: float,
        matches: list,
        dropped_reason: str | None = None,
        status: str = "pending",
    ) -> bool:
        """Write an outbox row; False when this target already has this paper.

        With `dropped_reason` the row is recorded as dropped, so what was not sent is
        visible with its reason instead of silently missing. `status="digest"` holds the
        row for a digest instead of posting it now.
        """
        stamp = now_iso()
        return (
            self._db.write(
                "insert into deliveries (target, paper_id, subscription_id, score, matches, "
                "status, attempts, last_error, created, updated) values (:target, :paper_id, "
                ":subscription_id, :score, :matches, :status, 0, :error, :now, :now) "
                "on conflict (target, paper_id) do nothing",
                target=target,
                paper_id=paper_id,
                subscription_id=subscription_id,
                score=score,
                matches=json.dumps(matches),
                status="dropped" if dropped_reason else status,
                error=dropped_reason,
                now=stamp,
            )
            > 0
        )

    def withdraw(
        self, target: str, subscription_id: int, reason: str, paper_id: str | None = None
    ) -> int:
        """Take `subscription_id`'s match out of the rows for `target` not posted yet
        (pending, held for a digest, or held back over the cap), of `paper_id` alone if
        given; a row left with no match is dropped with `reason`. How many were dropped."""
        paper_only = "and paper_id = :paper_id " if paper_id is not None else ""
        dropped = 0
        with self._db.writing() as conn:
            rows = conn.execute(
                text(
                    "select id, matches from deliveries where target = :target "
                    f"{paper_only}and status in ('pending', 'digest', 'dropped')"
                ),
                {"target": target, "paper_id": paper_id},
            ).mappings()
            for row in list(rows):
                matches = json.loads(row["matches"] or "[]")
                left = [m for m in matches if m.get("subscription_id") != subscription_id]
                if len(left) == len(matches):
                    continue
                if not left:
                    self._finish(conn, row["id"], "dropped", last_error=reason)
                    dropped += 1
                    continue
                conn.execute(
                    text(
                        "update deliveries set matches = :matches, subscription_id = :first, "
                        "updated = :now where id = :id"
                    ),
                    {
                        "matches": json.dumps(left),
                        "first": left[0].get("subscription_id"),
                        "now": now_iso(),
                        "id": row["id"],
                    },
                )
        return dropped

    def claim(self, limit: int, now: str | None = None, claim: str | None = None) -> list[Delivery]:
        """Mark up to `limit` pending rows that are due as being sent, and return them,
        taking turns across targets; `claim` tags the rows taken."""
        now = now or now_iso()
        with self._db.claiming() as conn:
            rows = self._claim(conn, DUE_ALERTS, claim=claim, now=now, limit=limit)
        return [delivery_from_row(row) for row in round_robin(rows)]

    def finish(
        self,
        delivery_id: int,
        status: str,
        *,
        error: str | None = None,
        slack_ts: str | None = None,
        channel: str | None = None,
    ) -> None:
        assert status in DELIVERY_STATUSES
        with self._db.writing() as conn:
            self._finish(
                conn,
                delivery_id,
                status,
                last_error=error,
                slack_ts=slack_ts,
                slack_channel=channel,
            )

    def all(self, status: str | None = None) -> list[Delivery]:
        where = "where status = :status " if status else ""
        rows = self._db.rows(f"select * from deliveries {where}order by id", status=status)
        return [delivery_from_row(row) for row in rows]

    def counts(self) -> dict[str, int]:
        return dict(self._db.tuples("select status, count(*) from deliveries group by status"))

    def recent(self, target: str, limit: int = 10) -> list[Delivery]:
        """The latest alerts sent to `target`, newest first."""
        rows = self._db.rows(
            "select * from deliveries where target = :target and status = 'sent' "
            "order by id desc limit :limit",
            target=target,
            limit=limit,
        )
        return [delivery_from_row(row) for row in rows]

    def by_status(self, status: str, limit: int) -> list[dict]:
        """The newest rows of one status, with their paper title and reason."""
        return self._db.rows(
            "select d.id, d.target, d.paper_id, p.title, d.attempts, d.last_error, "
            "d.next_attempt_at, d.updated from deliveries d "
            "left join papers p on p.id = d.paper_id where d.status = :status "
            "order by d.id desc limit :limit",
            status=status,
            limit=limit,
        )

    # The daily cap

    def count_since(self, target: str, since: str) -> int:
        """Alerts queued or sent to `target` since `since` (dropped and held ones excluded)."""
        return self._db.scalar(
            "select count(*) from deliveries where target = :target and created >= :since "
            "and status in ('pending', 'sending', 'sent', 'failed')",
            target=target,
            since=since,
        )

    def over_cap(self, target: str, since: str, until: str, reason: str) -> list[Delivery]:
        """Rows held back from `target` from `since` to before `until` for `reason`, best
        score first."""
        rows = self._db.rows(
            "select * from deliveries where target = :target and created >= :since "
            "and created < :until and status = 'dropped' and last_error = :reason "
            "order by score desc, id",
            target=target,
            since=since,
            until=until,
            reason=reason,
        )
        return [delivery_from_row(row) for row in rows]

    def over_cap_counts(self, since: str, reason: str) -> dict[str, int]:
        """Targets with alerts held back since `since` for `reason`, with how many."""
        rows = self._db.tuples(
            "select target, count(*) from deliveries where created >= :since "
            "and status = 'dropped' and last_error = :reason group by target order by target",
            since=since,
            reason=reason,
        )
        return {target: count for target, count in rows}

    def release(self, delivery_ids: list[int]) -> None:
        """Queue held or dropped rows for posting after all (the "show more" button)."""
        if delivery_ids:
            self._db.write(
                sql_with_lists(
                    "update deliveries set status = 'pending', last_error = null, updated = :now "
                    "where id in :ids and status in ('dropped', 'digest')",
                    "ids",
                ),
                now=now_iso(),
                ids=list(delivery_ids),
            )

    def claim_more_offer(self, target: str, day: str) -> bool:
        """Take the one "more matched today" offer of `target` for `day`; False if made."""
        return (
            self._db.write(
                "insert into more_offers (target, day, created) values (:target, :day, :now) "
                "on conflict (target, day) do nothing",
                target=target,
                day=day,
                now=now_iso(),
            )
            > 0
        )

    def record_more_offer(self, target: str, day: str, channel: str, ts: str, held: int) -> None:
        """Where `target`'s offer for `day` was posted, and how many held papers it shows."""
        self._db.write(
            "update more_offers set slack_channel = :channel, slack_ts = :ts, held = :held "
            "where target = :target and day = :day",
            channel=channel,
            ts=ts,
            held=held,
            target=target,
            day=day,
        )

    def more_offers(self, day: str) -> dict[str, dict]:
        """The offers made for `day`, by target: each its slack_channel, slack_ts and held."""
        rows = self._db.rows(
            "select target, slack_channel, slack_ts, held from more_offers where day = :day",
            day=day,
        )
        return {row.pop("target"): row for row in rows}

    def release_more_offer(self, target: str, day: str) -> None:
        """The offer could not be posted: let a later cycle make it."""
        self._db.write(
            "delete from more_offers where target = :target and day = :day", target=target, day=day
        )

    # Rows held for digests

    def held_for_digest(self, target: str) -> list[Delivery]:
        """Rows held for `target`'s next digest, oldest first."""
        rows = self._db.rows(
            "select * from deliveries where target = :target and status = 'digest' "
            "and digest_id is null order by id",
            target=target,
        )
        return [delivery_from_row(row) for row in rows]

    def held_digest_ids(self, target: str, cadence: str) -> list[int]:
        """Rows held for `target`'s digest whose subscription has this cadence."""
        rows = self._db.tuples(HELD_FOR_DIGEST + " order by d.id", target=target, cadence=cadence)
        return [row[0] for row in rows]


# Ids of the rows held for a target's digest of one cadence; a row whose subscription is
# gone goes with whichever digest comes first.
HELD_FOR_DIGEST = (
    "select d.id from deliveries d left join subscriptions s on s.id = d.subscription_id "
    "where d.target = :target and d.status = 'digest' and d.digest_id is null "
    "and coalesce(s.cadence, :cadence) = :cadence"
)


def round_robin(rows: list[dict]) -> list[dict]:
    """Outbox rows taking turns across targets, each target's oldest first.

    Posts to one channel are paced a second apart; taking turns lets the deliverer
    post to other channels in that second instead of sleeping.
    """
    turns: dict[str, int] = {}
    keyed = []
    for row in sorted(rows, key=lambda row: row["id"]):
        turn = turns.get(row["target"], 0)
        turns[row["target"]] = turn + 1
        keyed.append((turn, row["id"], row))
    return [row for _, _, row in sorted(keyed, key=lambda item: item[:2])]


def delivery_from_row(row: dict) -> Delivery:
    return Delivery(
        id=row["id"],
        target=row["target"],
        paper_id=row["paper_id"],
        subscription_id=row["subscription_id"],
        score=row["score"],
        matches=json.loads(row["matches"] or "[]"),
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        slack_ts=row["slack_ts"],
        uncertain=bool(row.get("uncertain")),
        attempted_at=row.get("attempted_at"),
        created=row.get("created"),
        claim=row.get("claim"),
    )
