-- Each paper's abstract sentences, embedded by the same model as the paper (float16 rows of
-- the embedding's length, in order): relevance.py scores a paper by its closest sentence too.
-- Null for papers embedded before this column, which are scored by their whole text.
ALTER TABLE "papers" ADD COLUMN "sentence_embeddings" BYTEA;
