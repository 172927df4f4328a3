"""The full-text index of the papers: SQLite FTS5 and its bm25().

SQLite-only, all of it: the index is the papers_fts virtual table (migrations/sqlite/0001),
queries are FTS5 query strings, and scores are FTS5's BM25, negated so higher is better.
On PostgreSQL every method raises StoreError: full-text search there is not supported yet
(the next step: one BM25 for both backends, issue 15).
"""

from __future__ import annotations

import numpy as np

from bot.storage.database import Database, StoreError

UNSUPPORTED = "full-text search on PostgreSQL is not supported yet"


class FullText:
    def __init__(self, database: Database):
        self._db = database

    def _check_supported(self) -> None:
        if self._db.dialect.name != "sqlite":
            raise StoreError(UNSUPPORTED)

    def search(self, fts_query: str, limit: int) -> list[tuple[str, float]]:
        """Paper ids and BM25 scores (higher is better) for an FTS5 query string."""
        self._check_supported()
        rows = self._db.bulk_rows(
            "select papers.id, -bm25(papers_fts) as score from papers_fts "
            "join papers on papers.rowid = papers_fts.rowid "
            "where papers_fts match :query order by score desc limit :limit",
            query=fts_query,
            limit=limit,
        )
        return [(row[0], row[1]) for row in rows]

    def rowid_scores(self, fts_query: str) -> tuple[np.ndarray, np.ndarray]:
        """Rowids and BM25 scores (higher is better) of every paper matching an FTS5 query."""
        self._check_supported()
        rows = self._db.bulk_rows(
            "select rowid, -bm25(papers_fts) from papers_fts where papers_fts match :query",
            query=fts_query,
        )
        rowids = np.array([row[0] for row in rows], dtype=np.int64)
        return rowids, np.array([row[1] for row in rows], dtype=np.float64)

    def term_hits(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Rowids of the papers whose title or abstract contains `word`, and which of them
        have it in the title.

        BM25 with the abstract's weight set to 0 is non-zero exactly when the title matches.
        """
        self._check_supported()
        quoted = '"' + word.replace('"', '""') + '"'
        rows = self._db.bulk_rows(
            "select rowid, bm25(papers_fts, 1.0, 0.0, 0.0) from papers_fts "
            "where papers_fts match :query",
            query="{title abstract} : " + quoted,
        )
        rowids = np.array([row[0] for row in rows], dtype=np.int64)
        return rowids, np.array([row[1] != 0 for row in rows], dtype=bool)

    def row_count(self) -> int:
        """How many papers the full-text index holds: the N of BM25's IDF."""
        self._check_supported()
        return self._db.scalar("select count(*) from papers_fts_docsize")

    def match_count(self, fts_query: str) -> int:
        """How many papers match an FTS5 query: for one word, its document frequency."""
        self._check_supported()
        return self._db.scalar(
            "select count(*) from papers_fts where papers_fts match :query", query=fts_query
        )

    def tokens(self, words: list[str]) -> list[tuple[str, ...]]:
        """The terms the full-text index reads each word as (after the porter stemmer).

        Words with the same terms ("model", "models") match the same papers with the
        same BM25. The words are tokenized by an FTS5 table in the connection's temporary
        schema, made with the tokenizer of papers_fts. Only that schema is written, so no
        write transaction on the database (which would wait for a cycle's) is needed.
        """
        self._check_supported()
        with self._db.reading() as conn:
            conn.exec_driver_sql(
                "create virtual table if not exists temp.words using fts5(word, tokenize='porter')"
            )
            conn.exec_driver_sql(
                "create virtual table if not exists temp.word_terms "
                "using fts5vocab('temp', 'words', 'instance')"
            )
            conn.exec_driver_sql("delete from temp.words")
            if words:
                conn.exec_driver_sql(
                    "insert into temp.words (rowid, word) values (?, ?)", list(enumerate(words))
                )
            rows = conn.exec_driver_sql(
                "select doc, term from temp.word_terms order by doc, offset"
            )
            tokens: list[list[str]] = [[] for _ in words]
            for doc, term in rows:
                tokens[doc].append(term)
        return [tuple(t) for t in tokens]
