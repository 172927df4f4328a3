"""The only module that speaks SQL: schema and queries on one SQLite file, via sqlite-utils.

Each thread gets its own connection (SQLite connections must not be shared across
threads); WAL mode and a busy timeout let the Slack listeners read while a cycle writes.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlite_utils

from bot.papers import Paper, is_arxiv_id

BUSY_TIMEOUT_MS = 10_000
# "digest": held for a daily or weekly digest; the deliverer posts only "pending" rows.
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "dropped", "digest")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def json_list(text: str | None) -> list:
    """A stored JSON list.

    The common empty list skips the JSON parser: matching loads every active subscription
    each cycle, five lists apiece.
    """
    return json.loads(text) if text and text != "[]" else []


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
    # What the subscription means beyond its topic (issue 5); lists are empty when unused.
    seed_papers: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    strictness: str = "normal"
    # Learned from feedback: the Rocchio profile vector and the linear model's weights.
    profile: np.ndarray | None = None
    model: dict | None = None
    # Learned from feedback: log-odds added to the strictness threshold (0 = unchanged).
    threshold_shift: float = 0.0


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
    # Set when a post may have reached Slack without us hearing back (issue 6).
    uncertain: bool = False
    attempted_at: str | None = None
    created: str | None = None
    claim: str | None = None


@dataclass
class UpsertResult:
    new: list[str]
    updated: list[str]
    unchanged: int


@dataclass
class DigestRun:
    """One digest being posted: the rows it carries have its id (deliveries.digest_id).

    `parts_posted` messages of it are in Slack already, the first at `slack_ts`; the rest
    are replies in its thread.
    """

    id: int
    target: str
    cadence: str
    day: str
    warnings: list[str]
    status: str
    attempts: int
    parts_posted: int
    slack_channel: str | None
    slack_ts: str | None
    uncertain: bool
    attempted_at: str | None
    created: str
    claim: str | None


@dataclass
class Notice:
    """A DM to a user that must reach them once, such as "your subscription was paused"."""

    id: int
    user: str
    text: str
    status: str
    attempts: int
    last_error: str | None
    uncertain: bool
    attempted_at: str | None
    created: str


def _advice(error: OSError | sqlite3.DatabaseError) -> str:
    """Why a database file cannot be used, in the error's own words, and what to do."""
    elsewhere = "choose another file with --db PATH (or PAPERBOT_DB)."
    if isinstance(error, FileExistsError):
        return f"{error.filename} is a file, not a folder; {elsewhere}"
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        return f"{error}; {elsewhere}"
    reason = getattr(error, "strerror", None) or str(error)
    return f"{reason}. Make the file and its folder writable, or {elsewhere}"


def made_by(path: str | Path) -> str | None:
    """What made the paperbot database at `path` (see Store.set_made_by), read without
    changing the file; None for a file that says nothing, or is no paperbot database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("select value from about where key = 'made_by'").fetchone()
        return row[0] if row else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()


class StoreError(Exception):
    """The database file cannot be opened or written; the message says what to do."""


class Store:
    """All reads and writes of paperbot's data."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Writes (WAL mode, the schema) at once, so a file that cannot be written is
            # reported here rather than by the first command that changes something.
            self._create_schema()
        except (OSError, sqlite3.DatabaseError) as error:
            raise StoreError(
                f"paperbot cannot use the database {self.path}: {_advice(error)}"
            ) from None

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

    @contextlib.contextmanager
    def _writing(self):
        """A transaction holding the write lock from its start. One that reads and then
        writes fails at once ("database is locked"), whatever the busy timeout, when
        another connection wrote in between."""
        db = self.db
        db.execute("begin immediate")
        try:
            yield
        except BaseException:
            db.conn.rollback()
            raise
        db.conn.commit()

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
            # Lets search check cheaply whether its cached embedding matrix is current.
            db["papers"].create_index(["embedding_model"], if_not_exists=True)
            if not db["papers"].detect_fts():
                db["papers"].enable_fts(
                    ["title", "abstract", "authors"],
                    fts_version="FTS5",
                    create_triggers=True,
                    tokenize="porter",
                )
            self._restrict_fts_update_trigger()
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
            self._add_feed_health_schema()
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
            self._add_matching_columns()
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
            self._create_reliability_schema()
            self._create_digest_schema()
            self._create_notice_schema()
            self._add_cycle_stage_columns()
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

    def _add_missing_columns(self, table: str, columns: dict[str, type]) -> None:
        """Add the columns a database made by an older paperbot lacks, so it upgrades in place."""
        existing = self.db[table].columns_dict
        for name, kind in columns.items():
            if name not in existing:
                self.db[table].add_column(name, kind)

    # Papers

    def upsert_papers(
        self, papers: list[Paper], *, arxiv_source: bool = True, matched: bool = False
    ) -> UpsertResult:
        """Store papers by canonical id; a known id is an update, never a new paper.

        An update changes the stored text only when the feed carries a newer version, so
        a cross-list or a second feed announcing the same paper changes nothing. Only an
        arXiv source (`arxiv_source`) speaks for an arXiv id: another feed's paper with an
        arXiv id is stored if unknown, without a version, so that arXiv's own record
        replaces its text, and otherwise changes nothing. `matched` papers (fetched on
        demand, not announced) are stored as matched already: they never alert as new.

        All in one transaction, the known rows read and the new papers inserted in bulk:
        a transaction per paper made storing a 2,000-item feed take a second.
        """
        new, updated, unchanged = [], [], 0
        table = self.db["papers"]
        stamp = now_iso()
        with self._writing():
            known = self._paper_rows([paper.id for paper in papers])
            pending: dict[str, dict] = {}
            for paper in papers:
                row = self._paper_row(paper)
                foreign = not arxiv_source and is_arxiv_id(paper.id)
                if foreign:
                    row["version"] = None
                existing = pending.get(paper.id) or known.get(paper.id)
                if existing is None:
                    matched_at = stamp if matched else None
                    pending[paper.id] = {**row, "first_seen": stamp, "matched_at": matched_at}
                    new.append(paper.id)
                elif not foreign and (paper.version or 0) > (existing["version"] or 0):
                    changes = {
                        k: row[k] for k in ("title", "abstract", "version", "updated") if row[k]
                    }
                    if changes.get("abstract", existing["abstract"]) != existing["abstract"]:
                        changes.update(embedding=None, embedding_model=None, summary=None)
                    if paper.id in pending:
                        pending[paper.id].update(changes)
                    else:
                        table.update(paper.id, changes)
                    updated.append(paper.id)
                else:
                    unchanged += 1
            table.insert_all(pending.values())
        return UpsertResult(new=new, updated=updated, unchanged=unchanged)

    def _paper_rows(self, paper_ids: list[str]) -> dict[str, dict]:
        """The stored rows of these ids, read a few hundred ids per query."""
        rows = {}
        for start in range(0, len(paper_ids), 500):
            chunk = paper_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows.update(
                (r["id"], r) for r in self.db["papers"].rows_where(f"id in ({marks})", chunk)
            )
        return rows

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
        seed_papers: list[str] = (),
        required: list[str] = (),
        excluded: list[str] = (),
        authors: list[str] = (),
        categories: list[str] = (),
        strictness: str = "normal",
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
                    "seed_papers": json.dumps(list(seed_papers)),
                    "required": json.dumps(list(required)),
                    "excluded": json.dumps(list(excluded)),
                    "authors": json.dumps(list(authors), ensure_ascii=False),
                    "categories": json.dumps(list(categories)),
                    "strictness": strictness,
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
            seed_papers=json_list(row.get("seed_papers")),
            required=json_list(row.get("required")),
            excluded=json_list(row.get("excluded")),
            authors=json_list(row.get("authors")),
            categories=json_list(row.get("categories")),
            strictness=row.get("strictness") or "normal",
            profile=from_blob(row["profile"]) if row.get("profile") else None,
            model=json.loads(row["model"]) if row.get("model") else None,
            threshold_shift=row.get("threshold_shift") or 0.0,
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
        status: str = "pending",
    ) -> bool:
        """Write an outbox row; False when this target already has this paper.

        With `dropped_reason` the row is recorded as dropped, so what was not sent is
        visible with its reason instead of silently missing. `status="digest"` holds the
        row for a digest instead of posting it now.
        """
        stamp = now_iso()
        status = "dropped" if dropped_reason else status
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
            uncertain=bool(row.get("uncertain")),
            attempted_at=row.get("attempted_at"),
            created=row.get("created"),
            claim=row.get("claim"),
        )

    def claim_pending_deliveries(
        self, limit: int, now: str | None = None, claim: str | None = None
    ) -> list[Delivery]:
        """Mark up to `limit` pending rows that are due as being sent, and return them.

        A row waiting for a retry (next_attempt_at after `now`) or whose subscription is
        paused is left alone. The claim is one UPDATE statement, so two workers, even in
        two processes, never take the same row; `claim` tags the rows taken.
        """
        now = now or now_iso()
        with self.db.conn:
            cursor = self.db.execute(
                "update deliveries set status = 'sending', attempts = attempts + 1, "
                "posting = 0, claim = ?, updated = ? where id in ("
                "  select d.id from deliveries d where d.status = 'pending'"
                "  and (d.next_attempt_at is null or d.next_attempt_at <= ?)"
                "  and not exists (select 1 from subscriptions s"
                "    where s.id = d.subscription_id and s.paused = 1)"
                "  order by row_number() over (partition by d.target order by d.id),"
                # Within a turn, targets posted to least recently (by Slack's message
                # timestamp) first: otherwise every claim restarts with the same targets
                # and the others wait behind their pacing.
                "  (select max(s.slack_ts) from deliveries s"
                "    where s.target = d.target and s.status = 'sent'), d.id"
                "  limit ?) "
                "and status = 'pending' returning *",
                [claim, now, now, limit],
            )
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return [self._delivery_from_row(row) for row in self._round_robin(rows)]

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
                    "posting": 0,
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

    def saved_papers(self, user: str, limit: int = 50, offset: int = 0) -> list[Paper]:
        """A user's saved papers, most recently saved first; `offset` skips the first ones."""
        rows = self.db.execute(
            "select papers.* from saved join papers on papers.id = saved.paper_id "
            "where saved.user = ? order by saved.created desc, saved.rowid desc "
            "limit ? offset ?",
            [user, limit, offset],
        )
        columns = [c[0] for c in rows.description]
        return [self._paper_from_row(dict(zip(columns, row, strict=True))) for row in rows]

    def set_made_by(self, maker: str) -> None:
        """Record what made this database, such as `paperbot demo` (read by made_by())."""
        with self.db.conn:
            self.db["about"].upsert({"key": "made_by", "value": maker}, pk="key")

    def count_saved(self, user: str) -> int:
        """How many stored papers `user` has saved."""
        return self.db.execute(
            "select count(*) from saved join papers on papers.id = saved.paper_id "
            "where saved.user = ?",
            [user],
        ).fetchone()[0]

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

    # Matching (issue 5): subscription meaning and learning, filters, daily caps, digests

    def _add_matching_columns(self) -> None:
        """Add the subscription columns matching needs to a database made before them."""
        self._add_missing_columns(
            "subscriptions",
            {
                "seed_papers": str,
                "required": str,
                "excluded": str,
                "authors": str,
                "categories": str,
                "strictness": str,
                "profile": bytes,
                "model": str,
                "threshold_shift": float,
            },
        )

    def set_subscription_learning(
        self,
        subscription_id: int,
        profile: np.ndarray | None,
        model: dict | None,
        threshold_shift: float = 0.0,
    ) -> None:
        """Store what feedback taught a subscription: profile, linear model, threshold shift."""
        with self.db.conn:
            self.db["subscriptions"].update(
                subscription_id,
                {
                    "profile": to_blob(profile) if profile is not None else None,
                    "model": json.dumps(model) if model is not None else None,
                    "threshold_shift": threshold_shift,
                },
            )

    def subscription_feedback(self, subscription_id: int) -> dict[str, int]:
        """Each judged paper of a subscription and its verdict (+1 / -1; votes are summed)."""
        rows = self.db.execute(
            "select paper_id, sum(value) from feedback where subscription_id = ? "
            "group by paper_id order by min(rowid)",
            [subscription_id],
        ).fetchall()
        return {paper_id: (1 if total > 0 else -1) for paper_id, total in rows if total}

    def filtered_paper_ids(
        self,
        *,
        since: str | None = None,
        categories: list[str] | None = None,
        authors: list[str] | None = None,
    ) -> set[str]:
        """Ids of papers published (or first seen) on or after `since`, in any of
        `categories`, by any of `authors` (case-insensitive part of a name)."""
        clauses, params = [], []
        if since:
            clauses.append("coalesce(nullif(published, ''), first_seen) >= ?")
            params.append(since)
        if categories:
            marks = ",".join("?" * len(categories))
            clauses.append(
                f"(exists (select 1 from json_each(papers.categories) where value in ({marks}))"
                f" or primary_category in ({marks}))"
            )
            params += [*categories, *categories]
        if authors:
            likes = " or ".join("lower(value) like ?" for _ in authors)
            clauses.append(f"exists (select 1 from json_each(papers.authors) where {likes})")
            params += [f"%{name.lower()}%" for name in authors]
        where = " and ".join(clauses) or "1"
        rows = self.db.execute(f"select id from papers where {where}", params).fetchall()
        return {row[0] for row in rows}

    def count_alerts_since(self, target: str, since: str) -> int:
        """Alerts queued or sent to `target` since `since` (dropped and held ones excluded)."""
        row = self.db.execute(
            "select count(*) from deliveries where target = ? and created >= ? "
            "and status in ('pending', 'sending', 'sent', 'failed')",
            [target, since],
        ).fetchone()
        return row[0]

    def over_cap_deliveries(self, target: str, since: str, reason: str) -> list[Delivery]:
        """Rows held back from `target` since `since` for `reason`, best score first."""
        rows = self.db["deliveries"].rows_where(
            "target = ? and created >= ? and status = 'dropped' and last_error = ?",
            [target, since, reason],
            order_by="score desc, id",
        )
        return [self._delivery_from_row(row) for row in rows]

    def release_deliveries(self, delivery_ids: list[int]) -> None:
        """Queue held or dropped rows for posting after all (the "show more" button)."""
        with self.db.conn:
            self.db.conn.executemany(
                "update deliveries set status = 'pending', last_error = null, updated = ? "
                "where id = ? and status in ('dropped', 'digest')",
                [(now_iso(), delivery_id) for delivery_id in delivery_ids],
            )

    def digest_deliveries(self, target: str) -> list[Delivery]:
        """Rows held for `target`'s next digest, oldest first."""
        rows = self.db["deliveries"].rows_where(
            "target = ? and status = 'digest' and digest_id is null", [target], order_by="id"
        )
        return [self._delivery_from_row(row) for row in rows]

    # Delivery reliability, scheduling and status (issue 6)

    def _create_reliability_schema(self) -> None:
        """Outbox retry columns, the feeds' re-poll bookkeeping and the cycles log.

        Added with checks so a database made by an older paperbot is upgraded in place.
        """
        self._add_missing_columns(
            "deliveries",
            {
                "next_attempt_at": str,
                "uncertain": int,
                "attempted_at": str,
                "posting": int,
                "claim": str,
            },
        )
        # When a poll last found papers not seen before: arXiv re-polling stops on it.
        self._add_missing_columns("feeds", {"new_batch_at": str})
        self.db["cycles"].create(
            {
                "id": int,
                "started": str,
                "finished": str,
                "feeds": int,
                "feeds_ok": int,
                "papers_new": int,
                "matches": int,
                "queued": int,
                "sent": int,
                "failed": int,
                "retrying": int,
                "seconds": float,
                "durations": str,
                "errors": str,
            },
            pk="id",
            if_not_exists=True,
        )

    def retry_delivery_later(
        self, delivery_id: int, error: str, next_attempt_at: str, *, uncertain: bool
    ) -> None:
        """Put a row back in the queue, not to be tried before `next_attempt_at`.

        `uncertain` says the last post may have reached Slack: the next attempt must look
        for it in the channel's history before posting again.
        """
        with self.db.conn:
            self.db.execute(
                "update deliveries set status = 'pending', last_error = ?, next_attempt_at = ?, "
                "uncertain = ?, posting = 0, updated = ? where id = ?",
                [error, next_attempt_at, int(uncertain), now_iso(), delivery_id],
            )

    def start_posting(self, delivery_id: int, claim: str | None, now: str) -> bool:
        """Record that this row's post is about to be sent; False if the claim was lost.

        A row still claimed but never posted by a process that died goes back to the queue
        as it was; only a row marked here can have reached Slack. An uncertain row keeps
        the time of its first unanswered post: the history check must look back that far.
        """
        with self.db.conn:
            cursor = self.db.execute(
                "update deliveries set posting = 1, updated = ?, attempted_at = "
                "case when uncertain = 1 then coalesce(attempted_at, ?) else ? end "
                "where id = ? and status = 'sending' and claim is ?",
                [now, now, now, delivery_id, claim],
            )
        return cursor.rowcount == 1

    def unclaim_deliveries(self, delivery_ids: list[int]) -> None:
        """Give claimed rows that were never tried back to the queue, attempt not counted."""
        with self.db.conn:
            self.db.conn.executemany(
                "update deliveries set status = 'pending', attempts = max(attempts - 1, 0), "
                "posting = 0, updated = ? where id = ? and status = 'sending'",
                [(now_iso(), delivery_id) for delivery_id in delivery_ids],
            )

    def requeue_stale_sending(self, claimed_before: str) -> int:
        """Rows left 'sending' by a process that died go back to the queue.

        A row whose post had started is marked uncertain (it may be in Slack); one that
        was only claimed is put back as it was. Only rows untouched since
        `claimed_before` are taken, so a row a live process is posting is left to it.
        """
        with self.db.conn:
            cursor = self.db.execute(
                "update deliveries set status = 'pending', next_attempt_at = null, "
                "uncertain = max(coalesce(uncertain, 0), coalesce(posting, 0)), "
                "attempts = case when posting = 1 then attempts else max(attempts - 1, 0) end, "
                "posting = 0, claim = null, updated = ? where status = 'sending' and updated < ?",
                [now_iso(), claimed_before],
            )
        return cursor.rowcount

    def pause_all_subscriptions(self, reason: str) -> list[Subscription]:
        """Pause every active subscription (the bot token itself stopped working)."""
        with self.db.conn:
            rows = list(self.db["subscriptions"].rows_where("paused = 0"))
            self.db.execute(
                "update subscriptions set paused = 1, paused_reason = ? where paused = 0",
                [reason],
            )
        return [self._subscription_from_row(row) for row in rows]

    def target_timezone(self, target: str) -> str | None:
        """The timezone stored for a target's subscriptions, if any."""
        row = self.db.execute(
            "select timezone from subscriptions where target = ? and timezone is not null "
            "and timezone != '' limit 1",
            [target],
        ).fetchone()
        return row[0] if row else None

    def set_target_timezone(self, target: str, timezone: str) -> None:
        with self.db.conn:
            self.db.execute(
                "update subscriptions set timezone = ? where target = ?", [timezone, target]
            )

    def digest_schedule_targets(self) -> list[tuple[str, str]]:
        """(target, cadence) of every active daily or weekly subscription, deduplicated."""
        rows = self.db.execute(
            "select distinct target, cadence from subscriptions "
            "where paused = 0 and cadence in ('daily', 'weekly') order by target, cadence"
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def held_digest_ids(self, target: str, cadence: str) -> list[int]:
        """Rows held for `target`'s digest whose subscription has this cadence."""
        rows = self.db.execute(
            "select d.id from deliveries d left join subscriptions s on s.id = d.subscription_id "
            "where d.target = ? and d.status = 'digest' and d.digest_id is null "
            "and coalesce(s.cadence, ?) = ? "
            "order by d.id",
            [target, cadence, cadence],
        ).fetchall()
        return [row[0] for row in rows]

    def record_cycle(self, cycle: dict) -> None:
        with self.db.conn:
            self.db["cycles"].insert(cycle)

    def last_cycle(self) -> dict | None:
        return next(self.db["cycles"].rows_where(order_by="id desc", limit=1), None)

    def deliveries_by_status(self, status: str, limit: int) -> list[dict]:
        """The newest rows of one status, with their paper title and reason."""
        rows = self.db.execute(
            "select d.id, d.target, d.paper_id, p.title, d.attempts, d.last_error, "
            "d.next_attempt_at, d.updated from deliveries d "
            "left join papers p on p.id = d.paper_id where d.status = ? "
            "order by d.id desc limit ?",
            [status, limit],
        )
        columns = [c[0] for c in rows.description]
        return [dict(zip(columns, row, strict=True)) for row in rows.fetchall()]

    # Digest posting and "more matched today" offers (issue 8: wiring)

    def _create_digest_schema(self) -> None:
        """The digests being posted, the rows each carries, and the offers made per day."""
        deliveries = self.db["deliveries"]
        if "digest_id" not in deliveries.columns_dict:
            deliveries.add_column("digest_id", int)
        self.db["digests"].create(
            {
                "id": int,
                "target": str,
                "cadence": str,
                "day": str,
                "warnings": str,
                "status": str,
                "attempts": int,
                "parts_posted": int,
                "last_error": str,
                "next_attempt_at": str,
                "uncertain": int,
                "posting": int,
                "attempted_at": str,
                "claim": str,
                "slack_channel": str,
                "slack_ts": str,
                "created": str,
                "updated": str,
            },
            pk="id",
            if_not_exists=True,
            defaults={"status": "pending", "attempts": 0, "parts_posted": 0},
        )
        self.db["more_offers"].create(
            {"target": str, "day": str, "created": str}, pk=("target", "day"), if_not_exists=True
        )

    @staticmethod
    def _digest_from_row(row: dict) -> DigestRun:
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

    def open_digest(self, target: str, cadence: str, day: str, warnings: list[str]) -> int | None:
        """Start a digest of the rows held for `target`'s `cadence` digest; returns its id.

        The rows get the digest's id in the same transaction, so a later digest never takes
        them again. None when nothing is held and there is no warning to tell.
        """
        stamp = now_iso()
        with self.db.conn:
            ids = [
                row[0]
                for row in self.db.execute(
                    "select d.id from deliveries d "
                    "left join subscriptions s on s.id = d.subscription_id "
                    "where d.target = ? and d.status = 'digest' and d.digest_id is null "
                    "and coalesce(s.cadence, ?) = ?",
                    [target, cadence, cadence],
                ).fetchall()
            ]
            if not ids and not warnings:
                return None
            cursor = self.db.execute(
                "insert into digests (target, cadence, day, warnings, status, attempts, "
                "parts_posted, created, updated) values (?, ?, ?, ?, 'pending', 0, 0, ?, ?)",
                [target, cadence, day, json.dumps(warnings), stamp, stamp],
            )
            digest_id = cursor.lastrowid
            self.db.conn.executemany(
                "update deliveries set digest_id = ?, updated = ? where id = ?",
                [(digest_id, stamp, delivery_id) for delivery_id in ids],
            )
        return digest_id

    def digest_rows(self, digest_id: int) -> list[Delivery]:
        """The outbox rows a digest carries, oldest first."""
        rows = self.db["deliveries"].rows_where("digest_id = ?", [digest_id], order_by="id")
        return [self._delivery_from_row(row) for row in rows]

    def digests(self) -> list[DigestRun]:
        return [self._digest_from_row(row) for row in self.db["digests"].rows_where(order_by="id")]

    def claim_due_digests(self, now: str, claim: str) -> list[DigestRun]:
        """Mark every pending digest that is due as being sent, and return them."""
        with self.db.conn:
            cursor = self.db.execute(
                "update digests set status = 'sending', attempts = attempts + 1, posting = 0, "
                "claim = ?, updated = ? where status = 'pending' "
                "and (next_attempt_at is null or next_attempt_at <= ?) returning *",
                [claim, now, now],
            )
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return sorted((self._digest_from_row(row) for row in rows), key=lambda d: d.id)

    def start_digest_posting(self, digest_id: int, claim: str | None, now: str) -> bool:
        """Record that a digest's posts are about to be sent; False if the claim was lost."""
        with self.db.conn:
            cursor = self.db.execute(
                "update digests set posting = 1, updated = ?, attempted_at = "
                "case when uncertain = 1 then coalesce(attempted_at, ?) else ? end "
                "where id = ? and status = 'sending' and claim is ?",
                [now, now, now, digest_id, claim],
            )
        return cursor.rowcount == 1

    def digest_part_posted(self, digest_id: int, parts_posted: int, channel: str, ts: str) -> None:
        """`parts_posted` messages of the digest are in Slack; the first is at `ts`."""
        with self.db.conn:
            self.db.execute(
                "update digests set parts_posted = ?, slack_channel = ?, slack_ts = ?, "
                "uncertain = 0, updated = ? where id = ?",
                [parts_posted, channel, ts, now_iso(), digest_id],
            )

    def finish_digest(self, digest_id: int, status: str, error: str | None = None) -> None:
        """Mark a digest, and every row it carries, sent (with its ts) or failed."""
        assert status in ("sent", "failed")
        stamp = now_iso()
        with self.db.conn:
            self.db.execute(
                "update digests set status = ?, last_error = ?, posting = 0, updated = ? "
                "where id = ?",
                [status, error, stamp, digest_id],
            )
            self.db.execute(
                "update deliveries set status = ?, last_error = ?, updated = ?, "
                "slack_ts = (select slack_ts from digests where id = ?), "
                "slack_channel = (select slack_channel from digests where id = ?) "
                "where digest_id = ?",
                [status, error, stamp, digest_id, digest_id, digest_id],
            )

    def retry_digest_later(
        self, digest_id: int, error: str, next_attempt_at: str, *, uncertain: bool
    ) -> None:
        """Put a digest back in the queue; `uncertain`: its last post may have landed."""
        with self.db.conn:
            self.db.execute(
                "update digests set status = 'pending', last_error = ?, next_attempt_at = ?, "
                "uncertain = ?, posting = 0, updated = ? where id = ?",
                [error, next_attempt_at, int(uncertain), now_iso(), digest_id],
            )

    def unclaim_digests(self, digest_ids: list[int]) -> None:
        """Give claimed digests that were never tried back, attempt not counted."""
        with self.db.conn:
            self.db.conn.executemany(
                "update digests set status = 'pending', attempts = max(attempts - 1, 0), "
                "posting = 0, updated = ? where id = ? and status = 'sending'",
                [(now_iso(), digest_id) for digest_id in digest_ids],
            )

    def requeue_stale_digests(self, claimed_before: str) -> int:
        """Digests left 'sending' by a process that died go back to the queue, uncertain
        if a post had started (as requeue_stale_sending does for alerts)."""
        with self.db.conn:
            cursor = self.db.execute(
                "update digests set status = 'pending', next_attempt_at = null, "
                "uncertain = max(coalesce(uncertain, 0), coalesce(posting, 0)), "
                "attempts = case when posting = 1 then attempts else max(attempts - 1, 0) end, "
                "posting = 0, claim = null, updated = ? where status = 'sending' and updated < ?",
                [now_iso(), claimed_before],
            )
        return cursor.rowcount

    def over_cap_targets(self, since: str, reason: str) -> list[str]:
        """Targets with alerts held back over the daily cap since `since`."""
        rows = self.db.execute(
            "select distinct target from deliveries where created >= ? and status = 'dropped' "
            "and last_error = ? order by target",
            [since, reason],
        ).fetchall()
        return [row[0] for row in rows]

    def claim_more_offer(self, target: str, day: str) -> bool:
        """Take the one "more matched today" offer of `target` for `day`; False if made."""
        with self.db.conn:
            cursor = self.db.execute(
                "insert or ignore into more_offers (target, day, created) values (?, ?, ?)",
                [target, day, now_iso()],
            )
        return cursor.rowcount > 0

    def release_more_offer(self, target: str, day: str) -> None:
        """The offer could not be posted: let a later cycle make it."""
        with self.db.conn:
            self.db.execute("delete from more_offers where target = ? and day = ?", [target, day])

    # Feeds (issue 3): runtime-added feeds, feed health, new-version notices

    def _add_feed_health_schema(self) -> None:
        """Add the feed-health columns and the notices table to a database made before them."""
        self._add_missing_columns(
            "feeds",
            {
                "include_cross_lists": int,
                "added_at": str,
                "removed_at": str,
                "content_hash": str,
                "content_since": str,
                "first_error_at": str,
                "last_new": int,
                "last_updated": int,
            },
        )
        self.db["update_notices"].create(
            {
                "id": int,
                "delivery_id": int,
                "paper_id": str,
                "version": int,
                "slack_channel": str,
                "thread_ts": str,
                "status": str,
                "attempts": int,
                "last_error": str,
                "created": str,
                "updated": str,
            },
            pk="id",
            if_not_exists=True,
            defaults={"status": "pending", "attempts": 0},
        )
        self.db["update_notices"].create_index(
            ["delivery_id", "version"], unique=True, if_not_exists=True
        )

    def add_runtime_feed(self, url: str, name: str, kind: str, include_cross_lists: bool) -> None:
        """Record a feed added at run time (or bring back a removed one)."""
        self.save_feed_state(
            url,
            name=name,
            kind=kind,
            include_cross_lists=int(include_cross_lists),
            added_at=now_iso(),
            removed_at=None,
        )

    def remove_feed(self, url: str) -> None:
        """Stop polling a feed; its row and history stay, marked removed."""
        self.save_feed_state(url, removed_at=now_iso(), added_at=None)

    def runtime_feeds(self) -> list[dict]:
        """Feeds added at run time and not removed since, oldest first."""
        return list(
            self.db["feeds"].rows_where(
                "added_at is not null and removed_at is null", order_by="added_at, url"
            )
        )

    def removed_feed_urls(self) -> set[str]:
        rows = self.db.execute("select url from feeds where removed_at is not null").fetchall()
        return {row[0] for row in rows}

    def queue_update_notices(self, paper_id: str, version: int) -> int:
        """One pending notice per sent alert of this paper; a version is noticed once."""
        stamp = now_iso()
        with self.db.conn:
            cursor = self.db.execute(
                "insert or ignore into update_notices (delivery_id, paper_id, version, "
                "slack_channel, thread_ts, status, attempts, created, updated) "
                "select id, paper_id, ?, slack_channel, slack_ts, 'pending', 0, ?, ? "
                "from deliveries where paper_id = ? and status = 'sent' "
                "and slack_ts is not null and slack_channel is not null",
                [version, stamp, stamp, paper_id],
            )
        return cursor.rowcount

    def pending_update_notices(self, limit: int = 100) -> list[dict]:
        return list(
            self.db["update_notices"].rows_where("status = 'pending'", order_by="id", limit=limit)
        )

    def update_notices(self) -> list[dict]:
        return list(self.db["update_notices"].rows_where(order_by="id"))

    def finish_update_notice(self, notice_id: int, status: str, error: str | None = None) -> None:
        with self.db.conn:
            self.db.execute(
                "update update_notices set status = ?, last_error = ?, attempts = attempts + 1, "
                "updated = ? where id = ?",
                [status, error, now_iso(), notice_id],
            )

    # Performance (issue 7): bulk reads for search and matching, fair delivery order

    @staticmethod
    def _round_robin(rows: list[dict]) -> list[dict]:
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

    def embedding_state(self, model: str) -> tuple[int, int]:
        """How many papers `model` has embedded, and the highest rowid among them.

        It reads only the embedding_model index, so search can check before every query
        whether the matrix it holds is still current. (A paper whose text changes loses its
        embedding and model together, so the count moves with it.)
        """
        row = self.db.execute(
            "select count(*), coalesce(max(rowid), 0) from papers where embedding_model = ?",
            [model],
        ).fetchone()
        return row[0], row[1]

    def embedding_rows(self, model: str) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Rowids, ids and the (read-only) embedding matrix of every paper `model` embedded."""
        rows = self.db.execute(
            "select rowid, id, embedding from papers where embedding is not null "
            "and embedding_model = ? order by rowid",
            [model],
        ).fetchall()
        rowids = np.array([row[0] for row in rows], dtype=np.int64)
        ids = [row[1] for row in rows]
        if not rows:
            return rowids, ids, np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(row[2] for row in rows), dtype=np.float32)
        return rowids, ids, matrix.reshape(len(rows), -1)

    def fts_rowid_scores(self, fts_query: str) -> tuple[np.ndarray, np.ndarray]:
        """Rowids and BM25 scores (higher is better) of every paper matching an FTS5 query."""
        rows = self.db.execute(
            "select rowid, -bm25(papers_fts) from papers_fts where papers_fts match ?",
            [fts_query],
        ).fetchall()
        rowids = np.array([row[0] for row in rows], dtype=np.int64)
        return rowids, np.array([row[1] for row in rows], dtype=np.float64)

    def fts_term_hits(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Rowids of the papers whose title or abstract contains `word`, and which of them
        have it in the title.

        BM25 with the abstract's weight set to 0 is non-zero exactly when the title matches.
        """
        quoted = '"' + word.replace('"', '""') + '"'
        rows = self.db.execute(
            "select rowid, bm25(papers_fts, 1.0, 0.0, 0.0) from papers_fts "
            "where papers_fts match ?",
            ["{title abstract} : " + quoted],
        ).fetchall()
        rowids = np.array([row[0] for row in rows], dtype=np.int64)
        return rowids, np.array([row[1] != 0 for row in rows], dtype=bool)

    # Search (issue 7): full-text index upkeep and the counts BM25 is made of

    def _restrict_fts_update_trigger(self) -> None:
        """Re-index a paper's full text only when its title, abstract or authors change.

        sqlite-utils' trigger fires on every update, so writing embeddings, summaries or
        matched_at rewrote the FTS index row by row. A database made before this change
        gets the narrower trigger the next time it is opened.
        """
        row = self.db.execute(
            "select sql from sqlite_master where type = 'trigger' and name = 'papers_au'"
        ).fetchone()
        if row and "UPDATE OF" in row[0]:
            return
        self.db.execute("drop trigger if exists papers_au")
        self.db.execute(
            'CREATE TRIGGER "papers_au" AFTER UPDATE OF "title", "abstract", "authors" '
            'ON "papers" BEGIN\n'
            '  INSERT INTO "papers_fts" ("papers_fts", rowid, "title", "abstract", "authors") '
            'VALUES(\'delete\', old.rowid, old."title", old."abstract", old."authors");\n'
            '  INSERT INTO "papers_fts" (rowid, "title", "abstract", "authors") '
            'VALUES (new.rowid, new."title", new."abstract", new."authors");\n'
            "END"
        )

    def fts_row_count(self) -> int:
        """How many papers the full-text index holds: the N of BM25's IDF."""
        return self.db.execute("select count(*) from papers_fts_docsize").fetchone()[0]

    def fts_match_count(self, fts_query: str) -> int:
        """How many papers match an FTS5 query: for one word, its document frequency."""
        return self.db.execute(
            "select count(*) from papers_fts where papers_fts match ?", [fts_query]
        ).fetchone()[0]

    def fts_tokens(self, words: list[str]) -> list[tuple[str, ...]]:
        """The terms the full-text index reads each word as (after the porter stemmer).

        Words with the same terms ("model", "models") match the same papers with the
        same BM25. The words are tokenized by an FTS5 table in this connection's temporary
        schema, made with the tokenizer of papers_fts.
        """
        db = self.db
        with db.conn:
            db.execute(
                "create virtual table if not exists temp.words using fts5(word, tokenize='porter')"
            )
            db.execute(
                "create virtual table if not exists temp.word_terms "
                "using fts5vocab('temp', 'words', 'instance')"
            )
            db.execute("delete from temp.words")
            db.conn.executemany(
                "insert into temp.words (rowid, word) values (?, ?)", enumerate(words)
            )
            rows = db.execute("select doc, term from temp.word_terms order by doc, offset")
            tokens: list[list[str]] = [[] for _ in words]
            for doc, term in rows:
                tokens[doc].append(term)
        return [tuple(t) for t in tokens]

    # Benchmarks: bulk loading of generated corpora (issue 7)

    def insert_embedded_papers(self, papers: list[Paper], model: str, vectors: np.ndarray) -> None:
        """Insert papers that are not stored yet, each with its embedding, in one transaction.

        The benchmarks build corpora of 100,000 papers with this; one insert per paper that
        already carries its embedding avoids re-indexing the full text for a later update.
        """
        stamp = now_iso()
        rows = [
            {**self._paper_row(paper), "first_seen": stamp, "embedding": to_blob(vector)}
            for paper, vector in zip(papers, vectors, strict=True)
        ]
        columns = [*rows[0], "embedding_model"] if rows else []
        marks = ",".join("?" * len(columns))
        with self.db.conn:
            self.db.conn.executemany(
                f"insert into papers ({','.join(columns)}) values ({marks})",
                [[*row.values(), model] for row in rows],
            )

    def change_marker(self) -> tuple[int, int, int]:
        """A value that is the same only if nothing was written since, as this thread sees it.

        `PRAGMA data_version` moves when another connection commits and `total_changes`
        when this one writes; with the connection's identity, equal markers mean no change
        in between, so search can skip even its count of embedded papers.
        """
        conn = self.db.conn
        version = conn.execute("pragma data_version").fetchone()[0]
        return id(conn), version, conn.total_changes

    # Owner notices and cycle stage durations (issue 6 follow-ups): DMs about paused
    # subscriptions, retried until sent; seconds per stage in the cycles log

    def _create_notice_schema(self) -> None:
        """One row per DM to tell; kept so a DM Slack refused once is tried again later."""
        self.db["notices"].create(
            {
                "id": int,
                "user": str,
                "text": str,
                "status": str,
                "attempts": int,
                "last_error": str,
                "next_attempt_at": str,
                "uncertain": int,
                "attempted_at": str,
                "slack_ts": str,
                "created": str,
                "updated": str,
            },
            pk="id",
            if_not_exists=True,
            defaults={"status": "pending", "attempts": 0, "uncertain": 0},
        )

    def _add_cycle_stage_columns(self) -> None:
        """Seconds each stage of a cycle took; empty in rows older than the columns."""
        self._add_missing_columns(
            "cycles",
            {
                "fetch_seconds": float,
                "embed_seconds": float,
                "match_seconds": float,
                "deliver_seconds": float,
            },
        )

    @staticmethod
    def _notice_from_row(row: dict) -> Notice:
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

    def queue_notice(self, user: str, text: str) -> int:
        """A DM to `user`, pending until the outbox worker posts it."""
        stamp = now_iso()
        with self.db.conn:
            cursor = self.db.execute(
                "insert into notices (user, text, status, attempts, uncertain, created, updated) "
                "values (?, ?, 'pending', 0, 0, ?, ?)",
                [user, text, stamp, stamp],
            )
        return cursor.lastrowid

    def due_notices(self, now: str) -> list[Notice]:
        """Pending notices whose next try is due, oldest first."""
        rows = self.db["notices"].rows_where(
            "status = 'pending' and (next_attempt_at is null or next_attempt_at <= ?)",
            [now],
            order_by="id",
        )
        return [self._notice_from_row(row) for row in rows]

    def notices(self, status: str | None = None) -> list[Notice]:
        where, args = ("status = ?", [status]) if status else (None, [])
        rows = self.db["notices"].rows_where(where, args, order_by="id")
        return [self._notice_from_row(row) for row in rows]

    def claim_notice(self, notice_id: int, now: str) -> bool:
        """Mark a pending notice as being posted; False if another process took it.

        An uncertain notice keeps the time of its first unanswered post, which is as far
        back as its DM's history must be read.
        """
        with self.db.conn:
            cursor = self.db.execute(
                "update notices set status = 'sending', attempts = attempts + 1, updated = ?, "
                "attempted_at = case when uncertain = 1 then coalesce(attempted_at, ?) else ? end "
                "where id = ? and status = 'pending'",
                [now, now, now, notice_id],
            )
        return cursor.rowcount == 1

    def finish_notice(
        self, notice_id: int, status: str, *, error: str | None = None, slack_ts: str | None = None
    ) -> None:
        assert status in ("sent", "failed")
        with self.db.conn:
            self.db.execute(
                "update notices set status = ?, last_error = ?, slack_ts = ?, updated = ? "
                "where id = ?",
                [status, error, slack_ts, now_iso(), notice_id],
            )

    def retry_notice_later(
        self, notice_id: int, error: str, next_attempt_at: str, *, uncertain: bool
    ) -> None:
        """Back to pending, not before `next_attempt_at`; `uncertain`: it may have landed."""
        with self.db.conn:
            self.db.execute(
                "update notices set status = 'pending', last_error = ?, next_attempt_at = ?, "
                "uncertain = ?, updated = ? where id = ?",
                [error, next_attempt_at, int(uncertain), now_iso(), notice_id],
            )

    def requeue_stale_notices(self, claimed_before: str) -> int:
        """Notices left 'sending' by a process that died go back, uncertain: a notice is
        claimed just before its post, so it may be in Slack."""
        with self.db.conn:
            cursor = self.db.execute(
                "update notices set status = 'pending', next_attempt_at = null, uncertain = 1, "
                "updated = ? where status = 'sending' and updated < ?",
                [now_iso(), claimed_before],
            )
        return cursor.rowcount
