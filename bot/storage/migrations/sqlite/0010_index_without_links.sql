-- The full-text index now reads an abstract without its sentences that hold a web address
-- ("Code is available at https://...", bot/papers.py's without_links): every paper is indexed
-- again, once, when the store opens after this migration.
UPDATE "papers" SET "terms_length" = NULL;
