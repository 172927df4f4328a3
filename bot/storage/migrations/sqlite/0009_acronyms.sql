-- The acronyms each paper defines, "retrieval-augmented generation (RAG)", as the acronym's
-- term and the long form's words (bot/storage/fulltext.py), once per paper: a topic typed as
-- "RAG" reads as most papers spell it (bot/acronyms.py). Every paper is indexed again, once,
-- when the store opens after this migration.
CREATE TABLE "acronyms" (
    "acronym" TEXT NOT NULL,
    "paper" INTEGER NOT NULL,
    "long_form" TEXT NOT NULL,
    PRIMARY KEY ("acronym", "paper", "long_form")
) WITHOUT ROWID;
CREATE INDEX "idx_acronyms_paper" ON "acronyms" ("paper");
UPDATE "papers" SET "terms_length" = NULL;
-- The text a subscription's topic was embedded from, acronyms spelled out (bot/acronyms.py);
-- null for the topic's subject, as it was embedded before. Matching embeds a topic again
-- when the stored papers first spell out one of its acronyms.
ALTER TABLE "subscriptions" ADD COLUMN "embedded_as" TEXT;
