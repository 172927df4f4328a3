-- The full-text index now reads a word of the -ize family as its stem and "iz" ("tokenization"
-- as "tokeniz", no longer "token"; bot/storage/fulltext.py's IZE_FAMILY): every paper is indexed
-- again, once, when the store opens after this migration.
UPDATE "papers" SET "terms_length" = NULL;
