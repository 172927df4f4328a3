"""Subscriptions: what each person and channel follows, and the feedback that teaches them."""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import text

from bot.storage.database import Database
from bot.storage.records import Subscription, from_blob, json_list, now_iso, to_blob

# What update() may change; the rest of a subscription is set when it is made.
CHANGEABLE = {"paused", "paused_reason", "threshold", "cadence"}


class Subscriptions:
    def __init__(self, database: Database):
        self._db = database

    def add(
        self,
        *,
        owner: str,
        target: str,
        topic: str,
        embedding: np.ndarray,
        embedded_as: str | None = None,
        threshold: float | None = None,
        cadence: str = "instant",
        team: str = "",
        seed_papers: list[str] = (),
        required: list[str] = (),
        excluded: list[str] = (),
        authors: list[str] = (),
        categories: list[str] = (),
        strictness: str = "normal",
    ) -> Subscription:
        row = {
            "team": team,
            "owner": owner,
            "target": target,
            "topic": topic,
            "embedding": to_blob(embedding),
            "embedded_as": embedded_as,
            "threshold": threshold,
            "cadence": cadence,
            "paused": 0,
            "created": now_iso(),
            "seed_papers": json.dumps(list(seed_papers)),
            "required": json.dumps(list(required)),
            "excluded": json.dumps(list(excluded)),
            "authors": json.dumps(list(authors), ensure_ascii=False),
            "categories": json.dumps(list(categories)),
            "strictness": strictness,
        }
        columns = list(row)
        with self._db.writing() as conn:
            subscription_id = conn.execute(
                text(
                    f"insert into subscriptions ({', '.join(columns)}) "
                    f"values ({', '.join(':' + name for name in columns)}) returning id"
                ),
                row,
            ).scalar_one()
        return self.get(subscription_id)

    def get(self, subscription_id: int) -> Subscription | None:
        row = self._db.row("select * from subscriptions where id = :id", id=subscription_id)
        return subscription_from_row(row) if row else None

    def all(self, *, active_only: bool = False) -> list[Subscription]:
        where = "where paused = 0 " if active_only else ""
        rows = self._db.rows(f"select * from subscriptions {where}order by id")
        return [subscription_from_row(row) for row in rows]

    def for_owner(self, *, owner: str, channel: str | None = None) -> list[Subscription]:
        """Subscriptions `owner` made, and those delivering to `channel`, oldest first."""
        rows = self._db.rows(
            "select * from subscriptions where owner = :owner or target = :target order by id",
            owner=owner,
            target=channel or owner,
        )
        return [subscription_from_row(row) for row in rows]

    def remove(self, subscription_id: int) -> bool:
        """Delete a subscription and the judgments made for it (its id is never given to
        another: migration 0008 on SQLite)."""
        with self._db.writing() as conn:
            conn.execute(
                text("delete from feedback where subscription_id = :id"), {"id": subscription_id}
            )
            deleted = conn.execute(
                text("delete from subscriptions where id = :id"), {"id": subscription_id}
            )
            return deleted.rowcount > 0

    def update(self, subscription_id: int, **changes) -> Subscription | None:
        """Change a subscription's paused state, reason, threshold or cadence."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)} of a subscription")
        if changes:
            assignments = ", ".join(f"{name} = :{name}" for name in changes)
            self._db.write(
                f"update subscriptions set {assignments} where id = :id",
                id=subscription_id,
                **changes,
            )
        return self.get(subscription_id)

    def set_embedding(self, subscription_id: int, embedding: np.ndarray, embedded_as: str) -> None:
        """Store the topic's embedding again, made from the text `embedded_as`."""
        self._db.write(
            "update subscriptions set embedding = :embedding, embedded_as = :embedded_as "
            "where id = :id",
            id=subscription_id,
            embedding=to_blob(embedding),
            embedded_as=embedded_as,
        )

    def pause_target(self, target: str, reason: str) -> list[Subscription]:
        """Pause every active subscription delivering to `target`; return those paused."""
        return self._pause("target = :target and paused = 0", reason, target=target)

    def pause_all(self, reason: str) -> list[Subscription]:
        """Pause every active subscription (the bot token itself stopped working)."""
        return self._pause("paused = 0", reason)

    def _pause(self, where: str, reason: str, **params) -> list[Subscription]:
        """Pause the subscriptions `where` selects; returns them as they were before."""
        with self._db.writing() as conn:
            rows = conn.execute(text(f"select * from subscriptions where {where}"), params)
            paused = [subscription_from_row(dict(row)) for row in rows.mappings()]
            conn.execute(
                text(f"update subscriptions set paused = 1, paused_reason = :reason where {where}"),
                {"reason": reason, **params},
            )
        return paused

    def set_learning(
        self,
        subscription_id: int,
        profile: np.ndarray | None,
        threshold_shift: float = 0.0,
    ) -> None:
        """Store what feedback taught a subscription: its profile and threshold shift."""
        self._db.write(
            "update subscriptions set profile = :profile, threshold_shift = :shift where id = :id",
            profile=to_blob(profile) if profile is not None else None,
            shift=threshold_shift,
            id=subscription_id,
        )

    def target_timezone(self, target: str) -> str | None:
        """The timezone stored for a target's subscriptions, if any."""
        return self._db.scalar(
            "select timezone from subscriptions where target = :target "
            "and timezone is not null and timezone != '' limit 1",
            target=target,
        )

    def set_target_timezone(self, target: str, timezone: str) -> None:
        self._db.write(
            "update subscriptions set timezone = :timezone where target = :target",
            timezone=timezone,
            target=target,
        )

    def digest_targets(self) -> list[tuple[str, str]]:
        """(target, cadence) of every active daily or weekly subscription, deduplicated."""
        return self._db.tuples(
            "select distinct target, cadence from subscriptions "
            "where paused = 0 and cadence in ('daily', 'weekly') order by target, cadence"
        )

    # Feedback: the Relevant / Not relevant votes

    def set_feedback(self, user: str, paper_id: str, subscription_id: int, value: int) -> None:
        """Record +1 / -1 from `user` on a paper sent for a subscription; a new vote replaces."""
        self._db.write(
            'insert into feedback ("user", paper_id, subscription_id, value, created) '
            "values (:user, :paper_id, :subscription_id, :value, :now) "
            '  on conflict ("user", paper_id, subscription_id) '
            "do update set value = excluded.value, created = excluded.created",
            user=user,
            paper_id=paper_id,
            subscription_id=subscription_id,
            value=value,
            now=now_iso(),
        )

    def feedback_of(self, user: str) -> list[dict]:
        return self._db.rows(
            'select * from feedback where "user" = :user order by created', user=user
        )

    def judged_papers(self) -> dict[str, set[str]]:
        """Target (a DM or a channel) -> the papers someone has judged for one of its
        subscriptions."""
        judged: dict[str, set[str]] = {}
        for target, paper_id in self._db.tuples(
            "select distinct subscriptions.target, feedback.paper_id from feedback "
            "join subscriptions on subscriptions.id = feedback.subscription_id"
        ):
            judged.setdefault(target, set()).add(paper_id)
        return judged

    def verdicts(self) -> dict[int, dict[str, int]]:
        """Subscription id -> feedback() of that subscription, for every subscription with a
        verdict on some paper."""
        votes: dict[int, dict[str, int]] = {}
        for subscription_id, paper_id, total in self._db.tuples(
            "select subscription_id, paper_id, sum(value) from feedback "
            "group by subscription_id, paper_id"
        ):
            votes.setdefault(subscription_id, {})[paper_id] = total
        return {
            subscription_id: found
            for subscription_id, summed in votes.items()
            if (found := verdicts_of(summed))
        }

    def feedback(self, subscription_id: int) -> dict[str, int]:
        """Each judged paper of a subscription and its verdict (+1 / -1; votes are summed)."""
        return verdicts_of(self.votes(subscription_id))

    def votes(self, subscription_id: int) -> dict[str, int]:
        """Every paper ever judged for a subscription and the sum of its votes, 0 where they
        tie (feedback() leaves those out), in the order first judged."""
        return dict(
            self._db.tuples(
                "select paper_id, sum(value) from feedback where subscription_id = :id "
                "group by paper_id order by min(rowid)",
                id=subscription_id,
            )
        )


def verdicts_of(votes: dict[str, int]) -> dict[str, int]:
    """The verdict (+1 relevant, -1 not) of each paper whose summed votes do not tie."""
    return {paper_id: (1 if total > 0 else -1) for paper_id, total in votes.items() if total}


def subscription_from_row(row: dict) -> Subscription:
    return Subscription(
        id=row["id"],
        team=row["team"] or "",
        owner=row["owner"],
        target=row["target"],
        topic=row["topic"],
        threshold=row["threshold"],
        cadence=row["cadence"],
        paused=bool(row["paused"]),
        paused_reason=row["paused_reason"],
        created=row["created"],
        embedding=from_blob(row["embedding"]) if row["embedding"] else None,
        embedded_as=row.get("embedded_as"),
        seed_papers=json_list(row.get("seed_papers")),
        required=json_list(row.get("required")),
        excluded=json_list(row.get("excluded")),
        authors=json_list(row.get("authors")),
        categories=json_list(row.get("categories")),
        strictness=row.get("strictness") or "normal",
        profile=from_blob(row["profile"]) if row.get("profile") else None,
        threshold_shift=row.get("threshold_shift") or 0.0,
    )
