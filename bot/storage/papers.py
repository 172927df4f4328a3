"""Stored papers: their text, embeddings, summaries and whether they were matched yet."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import text

from bot.papers import Paper, is_arxiv_id
from bot.storage.database import Database, sql_with_lists
from bot.storage.fulltext import index_new_text
from bot.storage.records import (
    UpsertResult,
    from_blob,
    now_iso,
    sentences_from_blob,
    sentences_to_blob,
    to_blob,
)

# The columns a Paper fills; the rest (first_seen, summary, embedding, ...) are the store's.
PAPER_COLUMNS = (
    "id",
    "source",
    "title",
    "abstract",
    "authors",
    "categories",
    "primary_category",
    "url",
    "pdf_url",
    "doi",
    "version",
    "announce_type",
    "published",
    "updated",
    "upvotes",
)
# What a newer version of a stored paper replaces.
VERSIONED_COLUMNS = ("title", "abstract", "version", "updated")
# Ids per query when reading many papers by id.
IDS_PER_QUERY = 500

SELECT_BY_IDS = sql_with_lists("select * from papers where id in :ids", "ids")
SELECT_SENTENCES_BY_IDS = sql_with_lists(
    "select id, sentence_embeddings, length(embedding) from papers where id in :ids "
    "and embedding_model = :model and sentence_embeddings is not null",
    "ids",
)
INSERT_NEW = text(
    f"insert into papers ({', '.join(PAPER_COLUMNS)}, first_seen, matched_at) "
    f"values ({', '.join(':' + c for c in PAPER_COLUMNS)}, :first_seen, :matched_at)"
)


class Papers:
    def __init__(self, database: Database):
        self._db = database

    def upsert(
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
        stamp = now_iso()
        with self._db.writing() as conn:
            known = {}
            ids = [paper.id for paper in papers]
            for start in range(0, len(ids), IDS_PER_QUERY):
                chunk = ids[start : start + IDS_PER_QUERY]
                rows = conn.execute(SELECT_BY_IDS, {"ids": chunk}).mappings()
                known.update((row["id"], row) for row in rows)
            pending: dict[str, dict] = {}
            for paper in papers:
                row = paper_row(paper)
                foreign = not arxiv_source and is_arxiv_id(paper.id)
                if foreign:
                    row["version"] = None
                existing = pending.get(paper.id) or known.get(paper.id)
                if existing is None:
                    matched_at = stamp if matched else None
                    pending[paper.id] = {**row, "first_seen": stamp, "matched_at": matched_at}
                    new.append(paper.id)
                elif not foreign and (paper.version or 0) > (existing["version"] or 0):
                    changes = {k: row[k] for k in VERSIONED_COLUMNS if row[k]}
                    if paper.id in pending:
                        pending[paper.id].update(changes)
                    else:
                        if changes.get("abstract", existing["abstract"]) != existing["abstract"]:
                            changes.update(
                                embedding=None,
                                embedding_model=None,
                                sentence_embeddings=None,
                                summary=None,
                            )
                        changes["terms_length"] = None  # indexed again below
                        assignments = ", ".join(f"{column} = :{column}" for column in changes)
                        conn.execute(
                            text(f"update papers set {assignments} where id = :id"),
                            {**changes, "id": paper.id},
                        )
                    updated.append(paper.id)
                else:
                    unchanged += 1
            if pending:
                conn.execute(INSERT_NEW, list(pending.values()))
            index_new_text(self._db, conn)
        return UpsertResult(new=new, updated=updated, unchanged=unchanged)

    def insert_embedded(self, papers: list[Paper], model: str, vectors: np.ndarray) -> None:
        """Insert papers that are not stored yet, each with its embedding, in one transaction.

        The benchmarks build corpora of 100,000 papers with this: one insert per paper that
        already carries its embedding, and its terms indexed in the same transaction.
        """
        stamp = now_iso()
        rows = [
            {**paper_row(paper), "first_seen": stamp, "embedding": to_blob(vector), "model": model}
            for paper, vector in zip(papers, vectors, strict=True)
        ]
        with self._db.writing() as conn:
            conn.execute(
                text(
                    f"insert into papers ({', '.join(PAPER_COLUMNS)}, first_seen, embedding, "
                    f"embedding_model) values ({', '.join(':' + c for c in PAPER_COLUMNS)}, "
                    ":first_seen, :embedding, :model)"
                ),
                rows,
            )
            index_new_text(self._db, conn)

    def get(self, paper_id: str) -> Paper | None:
        row = self._db.row("select * from papers where id = :id", id=paper_id)
        return paper_from_row(row) if row else None

    def get_many(self, paper_ids: list[str]) -> dict[str, Paper]:
        if not paper_ids:
            return {}
        rows = self._db.rows(SELECT_BY_IDS, ids=list(paper_ids))
        return {row["id"]: paper_from_row(row) for row in rows}

    def count(self) -> int:
        return self._db.scalar("select count(*) from papers")

    def without_embedding(self, model: str) -> list[Paper]:
        rows = self._db.rows(
            "select * from papers where embedding is null or embedding_model is null "
            "or embedding_model != :model order by rowid",
            model=model,
        )
        return [paper_from_row(row) for row in rows]

    def set_embeddings(
        self,
        model: str,
        vectors: dict[str, np.ndarray],
        sentences: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Keep each paper's embedding by `model`, and the embeddings of its abstract's
        sentences (one row each) where `sentences` has them."""
        sentences = sentences or {}
        self._db.write_many(
            "update papers set embedding = :embedding, embedding_model = :model, "
            "sentence_embeddings = :sentences where id = :id",
            [
                {
                    "embedding": to_blob(vector),
                    "model": model,
                    "sentences": sentences_to_blob(sentences.get(paper_id)),
                    "id": paper_id,
                }
                for paper_id, vector in vectors.items()
            ],
        )

    def sentence_embeddings(self, paper_ids: list[str], model: str) -> dict[str, np.ndarray]:
        """The sentence embeddings (sentences x dimension) of those of these papers that
        `model` embedded with their sentences."""
        found = {}
        for start in range(0, len(paper_ids), IDS_PER_QUERY):
            rows = self._db.tuples(
                SELECT_SENTENCES_BY_IDS, ids=paper_ids[start : start + IDS_PER_QUERY], model=model
            )
            found.update(
                (paper_id, sentences_from_blob(blob, embedding_bytes // 4))
                for paper_id, blob, embedding_bytes in rows
            )
        return found

    def embeddings(self, model: str) -> tuple[list[str], np.ndarray]:
        """Ids and the matrix of every stored paper embedding made by `model`."""
        rows = self._db.bulk_rows(
            "select id, embedding from papers where embedding is not null "
            "and embedding_model = :model order by rowid",
            model=model,
        )
        ids = [row[0] for row in rows]
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.vstack([from_blob(row[1]) for row in rows])

    def embedding_state(self, model: str) -> tuple[int, int]:
        """How many papers `model` has embedded, and the highest rowid among them.

        It reads only the embedding_model index, so search can check before every query
        whether the matrix it holds is still current. (A paper whose text changes loses its
        embedding and model together, so the count moves with it.)
        """
        [(count, highest)] = self._db.tuples(
            "select count(*), coalesce(max(rowid), 0) from papers where embedding_model = :model",
            model=model,
        )
        return count, highest

    def embedding_rows(self, model: str) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Rowids, ids and the (read-only) embedding matrix of every paper `model` embedded."""
        rows = self._db.bulk_rows(
            "select rowid, id, embedding from papers where embedding is not null "
            "and embedding_model = :model order by rowid",
            model=model,
        )
        rowids = np.array([row[0] for row in rows], dtype=np.int64)
        ids = [row[1] for row in rows]
        if not rows:
            return rowids, ids, np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(row[2] for row in rows), dtype=np.float32)
        return rowids, ids, matrix.reshape(len(rows), -1)

    def change_marker(self) -> tuple:
        """A value that is the same only if nothing was written since, as this thread sees it,
        so search can skip even its count of embedded papers."""
        with self._db.reading() as conn:
            return self._db.dialect.change_marker(conn)

    def latest_day_ids(self) -> set[str]:
        """The papers first stored within a day of the newest: about one day's feeds, however
        long the store has been filling, even when nothing came in lately."""
        newest = self._db.scalar("select max(first_seen) from papers")
        if newest is None:
            return set()
        since = (datetime.fromisoformat(newest) - timedelta(days=1)).isoformat(timespec="seconds")
        rows = self._db.tuples("select id from papers where first_seen >= :since", since=since)
        return {row[0] for row in rows}

    def unmatched_ids(self) -> list[str]:
        """Papers stored but not yet matched against subscriptions, oldest first."""
        rows = self._db.tuples(
            "select id from papers where matched_at is null and embedding is not null "
            "order by rowid"
        )
        return [row[0] for row in rows]

    def mark_matched(self, paper_ids: list[str]) -> None:
        stamp = now_iso()
        self._db.write_many(
            "update papers set matched_at = :stamp where id = :id",
            [{"stamp": stamp, "id": paper_id} for paper_id in paper_ids],
        )

    def summary(self, paper_id: str) -> str | None:
        return self._db.scalar("select summary from papers where id = :id", id=paper_id)

    def set_summary(self, paper_id: str, summary: str) -> None:
        self._db.write(
            "update papers set summary = :summary where id = :id", summary=summary, id=paper_id
        )

    def filtered_ids(
        self,
        *,
        since: str | None = None,
        categories: list[str] | None = None,
        authors: list[str] | None = None,
    ) -> set[str]:
        """Ids of papers published (or first seen) on or after `since`, in any of
        `categories` (in any case), by any of `authors` (case-insensitive part of a name)."""
        clauses, params, lists = [], {}, []
        if since:
            clauses.append("coalesce(nullif(published, ''), first_seen) >= :since")
            params["since"] = since
        # The dialect reads the JSON lists (SQLite: json_each, PostgreSQL: jsonb functions).
        json_values = self._db.dialect.json_values
        if categories:
            clauses.append(
                f"(exists (select 1 from {json_values('papers.categories')} "
                "where lower(value) in :categories) or lower(primary_category) in :categories)"
            )
            params["categories"] = [c.lower() for c in categories]
            lists.append("categories")
        if authors:
            likes = " or ".join(f"lower(value) like :author{i}" for i in range(len(authors)))
            clauses.append(f"exists (select 1 from {json_values('papers.authors')} where {likes})")
            params.update({f"author{i}": f"%{name.lower()}%" for i, name in enumerate(authors)})
        where = " and ".join(clauses) or "1 = 1"
        rows = self._db.tuples(
            sql_with_lists(f"select id from papers where {where}", *lists), **params
        )
        return {row[0] for row in rows}


def paper_row(paper: Paper) -> dict:
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


def paper_from_row(row: dict) -> Paper:
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
