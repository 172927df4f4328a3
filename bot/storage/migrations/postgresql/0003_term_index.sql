-- The papers' full-text index, the same on both backends (bot/storage/fulltext.py): every
-- term of a paper (a word, case-folded and Porter-stemmed) with how often it occurs in the
-- title, the abstract and the authors, and the paper's length in terms, which BM25 reads
-- with it. SQLite's FTS5 table it replaces had no PostgreSQL equivalent with the same scores.
CREATE TABLE "paper_terms" (
    "term" TEXT COLLATE "C" NOT NULL,
    "paper" BIGINT NOT NULL,
    "title" INTEGER NOT NULL,
    "abstract" INTEGER NOT NULL,
    "authors" INTEGER NOT NULL,
    "length" INTEGER NOT NULL,
    PRIMARY KEY ("term", "paper")
);
CREATE INDEX "idx_paper_terms_paper" ON "paper_terms" ("paper");
-- A paper's length in terms; null until it is indexed, and again when its text changes.
ALTER TABLE "papers" ADD COLUMN "terms_length" INTEGER;
-- Its index finds the papers to index, and gives BM25 the count and mean length of the
-- indexed ones without reading the papers themselves.
CREATE INDEX "idx_papers_terms_length" ON "papers" ("terms_length");
