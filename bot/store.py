"""The only module that speaks SQL: schema and queries on one SQLite file, via sqlite-utils.

Each thread gets its own connection (SQLite connections must not be shared across
threads); WAL mode and a busy timeout let the Slack listeners read while a cycle writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlite_utils

from bot.papers import Paper

BUSY_TIMEOUT_MS = 10_000
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "dropped")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


@dataclass
class Subscription:
    id: int
    owner: str
    target: str
    topic: str
    threshold: float | None
    cadence: str
    paused: bool
    paused_reason: str | None
    created: str
    team: str = ""
    embedding: np.ndarray | None = None


@dataclass
class Delivery:
    id: int
    target: str
    paper_id: str
    subscription_id: int
    score: float
    matches: list[dict]
    status: str
    attempts: int
    last_error: str | None
    slack_ts: str | None


@dataclass
class UpsertResult:
    new: list[str]
    updated: list[str]
    unchanged: int


class Store:
    """All reads and writes of paperbot's data."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._create_schema()

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db = sqlite_utils.Database(conn)
            db.enable_wal()
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def _create_schema(self) -> None:
        db = self.db
        with db.conn:
            db["papers"].create(
                {
                    "id": str,
                    "source": str,
                    "title": str,
                    "abstract": str,
                    "authors": str,
                    "categories": str,
                    "primary_category": str,
                    "url": str,
                    "pdf_url": str,
                    "doi": str,
                    "version": int,
                    "announce_type": str,
                    "published": str,
                    "updated": str,
                    "first_seen": str,
                    "upvotes": int,
                    "summary": str,
                    "embedding": bytes,
                    "embedding_model": str,
                    "matched_at": str,
                },
                pk="id",
                if_not_exists=True,
            )
            db["papers"].create_index(["matched_at"], if_not_exists=True)
            db["papers"].create_index(["first_seen"], if_not_exists=True)
            if not db["papers"].detect_fts():
                db["papers"].enable_fts(
                    ["title", "abstract", "authors"],
                    fts_version="FTS5",
                    create_triggers=True,
                    tokenize="porter",
                )
            db["feeds"].create(
                {
                    "url": str,
                    "kind": str,
                    "name": str,
                    "etag": str,
                    "last_modified": str,
                    "last_status": str,
                    "last_error": str,
                    "last_checked": str,
                    "last_ok": str,
                    "last_items": int,
                    "consecutive_errors": int,
                    "next_poll": str,
                },
                pk="url",
                if_not_exists=True,
            )
            db["subscriptions"].create(
                {
                    "id": int,
                    "team": str,
                    "owner": str,
                    "target": str,
                    "topic": str,
                    "embedding": bytes,
                    "threshold": float,
                    "cadence": str,
                    "timezone": str,
                    "paused": int,
                    "paused_reason": str,
                    "created": str,
                },
                pk="id",
                if_not_exists=True,
                not_null={"owner", "target", "topic"},
                defaults={"cadence": "instant", "paused": 0},
            )
            db["deliveries"].create(
                {
                    "id": int,
                    "target": str,
                    "paper_id": str,
                    "subscription_id": int,
                    "score": float,
                    "matches": str,
                    "status": str,
                    "attempts": int,
                    "last_error": str,
                    "slack_ts": str,
                    "slack_channel": str,
                    "created": str,
                    "updated": str,
                },
                pk="id",
                if_not_exists=True,
                defaults={"status": "pending", "attempts": 0},
            )
            db["deliveries"].create_index(["target", "paper_id"], unique=True, if_not_exists=True)
            db["deliveries"].create_index(["status"], if_not_exists=True)
            db["feedback"].create(
                {
                    "user": str,
                    "paper_id": str,
                    "subscription_id": int,
                    "value": int,
                    "created": str,
                },
                pk=("user", "paper_id", "subscription_id"),
                if_not_exists=True,
            )
            db["saved"].create(
                {"user": str, "paper_id": str, "created": str},
                pk=("user", "paper_id"),
                if_not_exists=True,
            )

    # Papers

    def upsert_papers(self, papers: list[Paper]) -> UpsertResult:
        """Store papers by canonical id; a known id is an update, never a new paper.

        An update changes the stored text only when the feed carries a newer version, so
        a cross-list or a second feed announcing the same paper changes nothing.
        """
        new, updated, unchanged = [], [], 0
        table = self.db["papers"]
        with self.db.conn:
            for paper in papers:
                row = self._paper_row(paper)
                existing = next(table.rows_where("id = ?", [paper.id], limit=1), None)
                if existing is None:
                    table.insert({**row, "first_seen": now_iso()})
                    new.append(paper.id)
                elif (paper.version or 0) > (existing["version"] or 0):
                    changes = {
                        k: row[k] for k in ("title", "abstract", "version", "updated") if row[k]
                    }
                    if changes.get("abstract", existing["abstract"]) != existing["abstract"]:
                        changes.update(embedding=None, embedding_model=None, summary=None)
                    table.update(paper.id, changes)
                    updated.append(paper.id)
                else:
                    unchanged += 1
        return UpsertResult(new=new, updated=updated, unchanged=unchanged)

    @staticmethod
    def _paper_row(paper: Paper) -> dict:
        return {
            "id": paper.id,
            "source": paper.source,
            "title": paper.title,
            "abstract": paper.abstract,
            "authors": json.dumps(paper.authors, ensure_ascii=False),
            "categories": json.dumps(paper.categories),
            "primary_category": paper.primary_category,
            "url": paper.url,
            "pdf_url": paper.pdf_url,
            "doi": paper.doi,
            "version": paper.version,
            "announce_type": paper.announce_type,
            "published": paper.published,
            "updated": paper.updated,
            "upvotes": paper.upvotes,
        }

    @staticmethod
    def _paper_from_row(row: dict) -> Paper:
        return Paper(
            id=row["id"],
            title=row["title"],
            abstract=row["abstract"] or "",
            url=row["url"] or "",
            authors=json.loads(row["authors"] or "[]"),
            categories=json.loads(row["categories"] or "[]"),
            primary_category=row["primary_category"],
            pdf_url=row["pdf_url"],
            doi=row["doi"],
            version=row["version"],
            announce_type=row["announce_type"],
            published=row["published"],
            updated=row["updated"],
            source=row["source"] or "",
            upvotes=row["upvotes"],
        )

    def get_paper(self, paper_id: str) -> Paper | None:
        row = next(self.db["papers"].rows_where("id = ?", [paper_id], limit=1), None)
        return self._paper_from_row(row) if row else None

    def get_papers(self, paper_ids: list[str]) -> dict[str, Paper]:
        if not paper_ids:
            return {}
        marks = ",".join("?" * len(paper_ids))
        rows = self.db["papers"].rows_where(f"id in ({marks})", paper_ids)
        return {row["id"]: self._paper_from_row(row) for row in rows}

    def count_papers(self) -> int:
        return self.db["papers"].count

    def papers_without_embedding(self, model: str) -> list[Paper]:
        rows = self.db["papers"].rows_where(
            "embedding is null or embedding_model is not ?", [model], order_by="rowid"
        )
        return [self._paper_from_row(row) for row in rows]

    def set_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self.db.conn:
            self.db.conn.executemany(
                "update papers set embedding = ?, embedding_model = ? where id = ?",
                [(to_blob(v), model, paper_id) for paper_id, v in vectors.items()],
            )

    def paper_embeddings(self, model: str) -> tuple[list[str], np.ndarray]:
        """Ids and the matrix of every stored paper embedding made by `model`."""
        rows = self.db.execute(
            "select id, embedding from papers where embedding is not null "
            "and embedding_model = ? order by rowid",
            [model],
        ).fetchall()
        ids = [row[0] for row in rows]
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.vstack([from_blob(row[1]) for row in rows])

    def paper_vectors(self, paper_ids: list[str], model: str) -> tuple[list[str], np.ndarray]:
        """The embeddings of these papers made by `model`, in the order of the ids found."""
        found = {}
        for start in range(0, len(paper_ids), 500):
            chunk = paper_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"select id, embedding from papers where id in ({marks}) "
                "and embedding is not null and embedding_model = ?",
                [*chunk, model],
            )
            found.update({row[0]: from_blob(row[1]) for row in rows})
        ids = [paper_id for paper_id in paper_ids if paper_id in found]
        if not ids:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.vstack([found[paper_id] for paper_id in ids])

    def unmatched_paper_ids(self) -> list[str]:
        """Papers stored but not yet matched against subscriptions, oldest first."""
        rows = self.db.execute(
            "select id from papers where matched_at is null and embedding is not null "
            "order by rowid"
        ).fetchall()
        return [row[0] for row in rows]

    def mark_matched(self, paper_ids: list[str]) -> None:
        stamp = now_iso()
        with self.db.conn:
            self.db.conn.executemany(
                "update papers set matched_at = ? where id = ?",
                [(stamp, paper_id) for paper_id in paper_ids],
            )

    def get_summary(self, paper_id: str) -> str | None:
        row = self.db.execute("select summary from papers where id = ?", [paper_id]).fetchone()
        return row[0] if row else None

    def set_summary(self, paper_id: str, summary: str) -> None:
        with self.db.conn:
            self.db.execute("update papers set summary = ? where id = ?", [summary, paper_id])

    def fts_search(self, fts_query: str, limit: int) -> list[tuple[str, float]]:
        """Paper ids and BM25 scores (higher is better) for an FTS5 query string."""
        rows = self.db.execute(
            "select papers.id, -bm25(papers_fts) as score from papers_fts "
            "join papers on papers.rowid = papers_fts.rowid "
            "where papers_fts match ? order by score desc limit ?",
            [fts_query, limit],
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    # Feeds

    def get_feed_state(self, url: str) -> dict | None:
        return next(self.db["feeds"].rows_where("url = ?", [url], limit=1), None)

    def save_feed_state(self, url: str, **fields) -> None:
        with self.db.conn:
            self.db["feeds"].upsert({"url": url, **fields}, pk="url")

    def feed_states(self) -> list[dict]:
        return list(self.db["feeds"].rows_where(order_by="url"))

    # Subscriptions

    def add_subscription(
        self,
        *,
        owner: str,
        target: str,
        topic: str,
        embedding: np.ndarray,
        threshold: float | None = None,
        cadence: str = "instant",
        team: str = "",
    ) -> Subscription:
        with self.db.conn:
            table = self.db["subscriptions"].insert(
                {
                    "team": team,
                    "owner": owner,
                    "target": target,
                    "topic": topic,
                    "embedding": to_blob(embedding),
                    "threshold": threshold,
                    "cadence": cadence,
                    "paused": 0,
                    "created": now_iso(),
                }
            )
        return self.get_subscription(table.last_pk)

    @staticmethod
    def _subscription_from_row(row: dict) -> Subscription:
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
        )

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        row = next(self.db["subscriptions"].rows_where("id = ?", [subscription_id], limit=1), None)
        return self._subscription_from_row(row) if row else None

    def list_subscriptions(self, *, active_only: bool = False) -> list[Subscription]:
        where = "paused = 0" if active_only else None
        rows = self.db["subscriptions"].rows_where(where, order_by="id")
        return [self._subscription_from_row(row) for row in rows]

    def remove_subscription(self, subscription_id: int) -> bool:
        with self.db.conn:
            cursor = self.db.execute("delete from subscriptions where id = ?", [subscription_id])
        return cursor.rowcount > 0

    def pause_subscriptions_for_target(self, target: str, reason: str) -> list[Subscription]:
        """Pause every active subscription delivering to `target`; return those paused."""
        with self.db.conn:
            rows = list(self.db["subscriptions"].rows_where("target = ? and paused = 0", [target]))
            self.db.execute(
                "update subscriptions set paused = 1, paused_reason = ? "
                "where target = ? and paused = 0",
                [reason, target],
            )
        return [self._subscription_from_row(row) for row in rows]

    # Deliveries (the outbox)

    def enqueue_delivery(
        self,
        *,
        target: str,
        paper_id: str,
        subscription_id: int,
        score: float,
        matches: list,
        dropped_reason: str | None = None,
    ) -> bool:
        """Write an outbox row; False when this target already has this paper.

        With `dropped_reason` the row is recorded as dropped, so what was not sent is
        visible with its reason instead of silently missing.
        """
        stamp = now_iso()
        status = "dropped" if dropped_reason else "pending"
        with self.db.conn:
            cursor = self.db.execute(
                "insert or ignore into deliveries (target, paper_id, subscription_id, score, "
                "matches, status, attempts, last_error, created, updated) "
                "values (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                [
                    target,
                    paper_id,
                    subscription_id,
                    score,
                    json.dumps(matches),
                    status,
                    dropped_reason,
                    stamp,
                    stamp,
                ],
            )
        return cursor.rowcount > 0

    @staticmethod
    def _delivery_from_row(row: dict) -> Delivery:
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
        )

    def claim_pending_deliveries(self, limit: int) -> list[Delivery]:
        """Mark up to `limit` pending rows as being sent, and return them.

        The claim is one transaction, so two workers never take the same row.
        """
        with self.db.conn:
            rows = list(
                self.db["deliveries"].rows_where("status = 'pending'", order_by="id", limit=limit)
            )
            self.db.conn.executemany(
                "update deliveries set status = 'sending', attempts = attempts + 1, "
                "updated = ? where id = ? and status = 'pending'",
                [(now_iso(), row["id"]) for row in rows],
            )
        return [self._delivery_from_row(row) for row in rows]

    def finish_delivery(
        self,
        delivery_id: int,
        status: str,
        *,
        error: str | None = None,
        slack_ts: str | None = None,
        channel: str | None = None,
    ) -> None:
        assert status in DELIVERY_STATUSES
        with self.db.conn:
            self.db["deliveries"].update(
                delivery_id,
                {
                    "status": status,
                    "last_error": error,
                    "slack_ts": slack_ts,
                    "slack_channel": channel,
                    "updated": now_iso(),
                },
            )

    def deliveries(self, status: str | None = None) -> list[Delivery]:
        where = "status = ?" if status else None
        rows = self.db["deliveries"].rows_where(where, [status] if status else [], order_by="id")
        return [self._delivery_from_row(row) for row in rows]

    def delivery_counts(self) -> dict[str, int]:
        rows = self.db.execute("select status, count(*) from deliveries group by status")
        return dict(rows.fetchall())

    # Slack app (issue 4): subscriptions by person and channel, saved papers, feedback

    def subscriptions_for(self, *, owner: str, channel: str | None = None) -> list[Subscription]:
        """Subscriptions `owner` made, and those delivering to `channel`, oldest first."""
        rows = self.db["subscriptions"].rows_where(
            "owner = ? or target = ?", [owner, channel or owner], order_by="id"
        )
        return [self._subscription_from_row(row) for row in rows]

    def update_subscription(self, subscription_id: int, **changes) -> Subscription | None:
        """Change a subscription's paused state, reason, threshold or cadence."""
        allowed = {"paused", "paused_reason", "threshold", "cadence"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)} of a subscription")
        with self.db.conn:
            self.db["subscriptions"].update(subscription_id, changes)
        return self.get_subscription(subscription_id)

    def save_paper(self, user: str, paper_id: str) -> bool:
        """Add a paper to a user's saved list; False when it was already there."""
        with self.db.conn:
            cursor = self.db.execute(
                "insert or ignore into saved (user, paper_id, created) values (?, ?, ?)",
                [user, paper_id, now_iso()],
            )
        return cursor.rowcount > 0

    def unsave_paper(self, user: str, paper_id: str) -> bool:
        with self.db.conn:
            cursor = self.db.execute(
                "delete from saved where user = ? and paper_id = ?", [user, paper_id]
            )
        return cursor.rowcount > 0

    def saved_papers(self, user: str, limit: int = 50) -> list[Paper]:
        """A user's saved papers, most recently saved first."""
        rows = self.db.execute(
            "select papers.* from saved join papers on papers.id = saved.paper_id "
            "where saved.user = ? order by saved.created desc, saved.rowid desc limit ?",
            [user, limit],
        )
        columns = [c[0] for c in rows.description]
        return [self._paper_from_row(dict(zip(columns, row, strict=True))) for row in rows]

    def set_feedback(self, user: str, paper_id: str, subscription_id: int, value: int) -> None:
        """Record +1 / -1 from `user` on a paper sent for a subscription; a new vote replaces."""
        with self.db.conn:
            self.db["feedback"].upsert(
                {
                    "user": user,
                    "paper_id": paper_id,
                    "subscription_id": subscription_id,
                    "value": value,
                    "created": now_iso(),
                },
                pk=("user", "paper_id", "subscription_id"),
            )

    def feedback_of(self, user: str) -> list[dict]:
        return list(self.db["feedback"].rows_where("user = ?", [user], order_by="created"))

    def recent_deliveries(self, target: str, limit: int = 10) -> list[Delivery]:
        """The latest alerts sent to `target`, newest first."""
        rows = self.db["deliveries"].rows_where(
            "target = ? and status = 'sent'", [target], order_by="id desc", limit=limit
        )
        return [self._delivery_from_row(row) for row in rows]
