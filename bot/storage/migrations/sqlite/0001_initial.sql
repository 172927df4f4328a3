-- paperbot's schema as release 0.1 left it: every table, with what it holds.
-- Times are ISO 8601 text in UTC; lists and dicts are JSON text; vectors are float32 blobs.
-- A database made by 0.1 itself (no schema_version table) is brought to this schema by
-- bot/storage/migrations/__init__.py, which adds what an older file lacks.

-- One row per paper, by canonical id (arXiv id without version, else DOI, else URL).
-- matched_at is set once the paper was matched against the subscriptions; embedding and
-- embedding_model are cleared together when a new version changes the abstract.
CREATE TABLE "papers" (
   "id" TEXT PRIMARY KEY,
   "source" TEXT,
   "title" TEXT,
   "abstract" TEXT,
   "authors" TEXT,
   "categories" TEXT,
   "primary_category" TEXT,
   "url" TEXT,
   "pdf_url" TEXT,
   "doi" TEXT,
   "version" INTEGER,
   "announce_type" TEXT,
   "published" TEXT,
   "updated" TEXT,
   "first_seen" TEXT,
   "upvotes" INTEGER,
   "summary" TEXT,
   "embedding" BLOB,
   "embedding_model" TEXT,
   "matched_at" TEXT
);
CREATE INDEX "idx_papers_matched_at" ON "papers" ("matched_at");
CREATE INDEX "idx_papers_first_seen" ON "papers" ("first_seen");
-- Lets search check cheaply whether its cached embedding matrix is current.
CREATE INDEX "idx_papers_embedding_model" ON "papers" ("embedding_model");

-- SQLite only: the full-text index over title, abstract and authors (FTS5, porter stemmer),
-- kept in step with papers by the three triggers below. Its rowids are the papers' rowids.
CREATE VIRTUAL TABLE "papers_fts" USING FTS5 (
    "title", "abstract", "authors",
    tokenize='porter',
    content="papers"
);
CREATE TRIGGER "papers_ai" AFTER INSERT ON "papers" BEGIN
  INSERT INTO "papers_fts" (rowid, "title", "abstract", "authors") VALUES (new.rowid, new."title", new."abstract", new."authors");
END;
CREATE TRIGGER "papers_ad" AFTER DELETE ON "papers" BEGIN
  INSERT INTO "papers_fts" ("papers_fts", rowid, "title", "abstract", "authors") VALUES('delete', old.rowid, old."title", old."abstract", old."authors");
END;
-- Only a change of the indexed text re-indexes a paper: writing embeddings, summaries or
-- matched_at leaves the full-text index alone.
CREATE TRIGGER "papers_au" AFTER UPDATE OF "title", "abstract", "authors" ON "papers" BEGIN
  INSERT INTO "papers_fts" ("papers_fts", rowid, "title", "abstract", "authors") VALUES('delete', old.rowid, old."title", old."abstract", old."authors");
  INSERT INTO "papers_fts" (rowid, "title", "abstract", "authors") VALUES (new.rowid, new."title", new."abstract", new."authors");
END;

-- Every feed polled, with its conditional-GET state and health. Feeds declared in the
-- settings have a row once polled; added_at / removed_at mark feeds added or removed at run
-- time. content_hash and content_since tell a stale arXiv listing; new_batch_at is when a
-- poll last found unseen papers (arXiv re-polling stops on it).
CREATE TABLE "feeds" (
   "url" TEXT PRIMARY KEY,
   "kind" TEXT,
   "name" TEXT,
   "etag" TEXT,
   "last_modified" TEXT,
   "last_status" TEXT,
   "last_error" TEXT,
   "last_checked" TEXT,
   "last_ok" TEXT,
   "last_items" INTEGER,
   "consecutive_errors" INTEGER,
   "next_poll" TEXT,
   "include_cross_lists" INTEGER,
   "added_at" TEXT,
   "removed_at" TEXT,
   "content_hash" TEXT,
   "content_since" TEXT,
   "first_error_at" TEXT,
   "last_new" INTEGER,
   "last_updated" INTEGER,
   "new_batch_at" TEXT
);

-- What a person or channel follows. target is a channel id or the owner's user id (a DM).
-- threshold is one set by hand (NULL: the strictness's); profile, model and threshold_shift
-- are what feedback taught it. The filters (seed_papers, required, excluded, authors,
-- categories) are JSON lists.
CREATE TABLE "subscriptions" (
   "id" INTEGER PRIMARY KEY,
   "team" TEXT,
   "owner" TEXT NOT NULL,
   "target" TEXT NOT NULL,
   "topic" TEXT NOT NULL,
   "embedding" BLOB,
   "threshold" REAL,
   "cadence" TEXT DEFAULT 'instant',
   "timezone" TEXT,
   "paused" INTEGER DEFAULT 0,
   "paused_reason" TEXT,
   "created" TEXT,
   "seed_papers" TEXT,
   "required" TEXT,
   "excluded" TEXT,
   "authors" TEXT,
   "categories" TEXT,
   "strictness" TEXT,
   "profile" BLOB,
   "model" TEXT,
   "threshold_shift" REAL
);

-- Relevant (+1) / not relevant (-1) votes of a user on a paper for a subscription.
CREATE TABLE "feedback" (
   "user" TEXT,
   "paper_id" TEXT,
   "subscription_id" INTEGER,
   "value" INTEGER,
   "created" TEXT,
   PRIMARY KEY ("user", "paper_id", "subscription_id")
);

-- Each user's saved papers.
CREATE TABLE "saved" (
   "user" TEXT,
   "paper_id" TEXT,
   "created" TEXT,
   PRIMARY KEY ("user", "paper_id")
);

-- The outbox of alerts: one row per paper and target, written before anything is posted.
-- status: pending, sending (claimed: claim tags the worker, posting = 1 once the post
-- started), sent, failed, dropped (held back, last_error says why) or digest (held for a
-- digest; digest_id once one carries it). uncertain: the last post may have reached Slack.
CREATE TABLE "deliveries" (
   "id" INTEGER PRIMARY KEY,
   "target" TEXT,
   "paper_id" TEXT,
   "subscription_id" INTEGER,
   "score" REAL,
   "matches" TEXT,
   "status" TEXT DEFAULT 'pending',
   "attempts" INTEGER DEFAULT 0,
   "last_error" TEXT,
   "slack_ts" TEXT,
   "slack_channel" TEXT,
   "created" TEXT,
   "updated" TEXT,
   "next_attempt_at" TEXT,
   "uncertain" INTEGER,
   "attempted_at" TEXT,
   "posting" INTEGER,
   "claim" TEXT,
   "digest_id" INTEGER
);
CREATE UNIQUE INDEX "idx_deliveries_target_paper_id" ON "deliveries" ("target", "paper_id");
CREATE INDEX "idx_deliveries_status" ON "deliveries" ("status");

-- Daily and weekly digests being posted, with the same claim and retry columns as alerts.
-- parts_posted messages are in Slack already, the first at slack_ts; the rest are replies.
CREATE TABLE "digests" (
   "id" INTEGER PRIMARY KEY,
   "target" TEXT,
   "cadence" TEXT,
   "day" TEXT,
   "warnings" TEXT,
   "status" TEXT DEFAULT 'pending',
   "attempts" INTEGER DEFAULT 0,
   "parts_posted" INTEGER DEFAULT 0,
   "last_error" TEXT,
   "next_attempt_at" TEXT,
   "uncertain" INTEGER,
   "posting" INTEGER,
   "attempted_at" TEXT,
   "claim" TEXT,
   "slack_channel" TEXT,
   "slack_ts" TEXT,
   "created" TEXT,
   "updated" TEXT
);

-- The one "N more matched today" message a target gets a day.
CREATE TABLE "more_offers" (
   "target" TEXT,
   "day" TEXT,
   "created" TEXT,
   PRIMARY KEY ("target", "day")
);

-- DMs to a user that must reach them once, such as "your subscription was paused".
CREATE TABLE "notices" (
   "id" INTEGER PRIMARY KEY,
   "user" TEXT,
   "text" TEXT,
   "status" TEXT DEFAULT 'pending',
   "attempts" INTEGER DEFAULT 0,
   "last_error" TEXT,
   "next_attempt_at" TEXT,
   "uncertain" INTEGER DEFAULT 0,
   "attempted_at" TEXT,
   "slack_ts" TEXT,
   "created" TEXT,
   "updated" TEXT
);

-- Replies in a sent alert's thread saying a new version of its paper is out; one per alert
-- and version.
CREATE TABLE "update_notices" (
   "id" INTEGER PRIMARY KEY,
   "delivery_id" INTEGER,
   "paper_id" TEXT,
   "version" INTEGER,
   "slack_channel" TEXT,
   "thread_ts" TEXT,
   "status" TEXT DEFAULT 'pending',
   "attempts" INTEGER DEFAULT 0,
   "last_error" TEXT,
   "created" TEXT,
   "updated" TEXT
);
CREATE UNIQUE INDEX "idx_update_notices_delivery_id_version"
    ON "update_notices" ("delivery_id", "version");

-- One row per fetch-match-deliver cycle, with its counts and the seconds of each stage.
CREATE TABLE "cycles" (
   "id" INTEGER PRIMARY KEY,
   "started" TEXT,
   "finished" TEXT,
   "feeds" INTEGER,
   "feeds_ok" INTEGER,
   "papers_new" INTEGER,
   "matches" INTEGER,
   "queued" INTEGER,
   "sent" INTEGER,
   "failed" INTEGER,
   "retrying" INTEGER,
   "seconds" REAL,
   "durations" TEXT,
   "errors" TEXT,
   "fetch_seconds" REAL,
   "embed_seconds" REAL,
   "match_seconds" REAL,
   "deliver_seconds" REAL
);

-- Facts about the database itself, such as made_by ("paperbot demo").
CREATE TABLE "about" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT
);
