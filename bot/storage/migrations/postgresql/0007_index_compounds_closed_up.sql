-- The full-text index now reads a hyphenated compound also closed up ("pre-training" as
-- "pretraining" too, bot/storage/fulltext.py): every paper is indexed again, once, when the
-- store opens after this migration.
UPDATE "papers" SET "terms_length" = NULL;
