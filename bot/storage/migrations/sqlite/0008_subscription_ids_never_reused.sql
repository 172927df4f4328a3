-- A removed subscription's id is never given to a new one (AUTOINCREMENT): the buttons of
-- old messages carry it, and a Mute or a vote on them must not reach someone's newer
-- subscription. SQLite adds AUTOINCREMENT only to a table it makes, so the table is made
-- again and its rows copied with their ids. (PostgreSQL's identity never reuses an id.)
CREATE TABLE "subscriptions_never_reused" (
   "id" INTEGER PRIMARY KEY AUTOINCREMENT,
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
   "threshold_shift" REAL
);
INSERT INTO "subscriptions_never_reused" (
   "id", "team", "owner", "target", "topic", "embedding", "threshold", "cadence", "timezone",
   "paused", "paused_reason", "created", "seed_papers", "required", "excluded", "authors",
   "categories", "strictness", "profile", "threshold_shift"
)
SELECT
   "id", "team", "owner", "target", "topic", "embedding", "threshold", "cadence", "timezone",
   "paused", "paused_reason", "created", "seed_papers", "required", "excluded", "authors",
   "categories", "strictness", "profile", "threshold_shift"
FROM "subscriptions";
DROP TABLE "subscriptions";
ALTER TABLE "subscriptions_never_reused" RENAME TO "subscriptions";
