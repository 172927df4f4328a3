-- Judgments left behind by removed subscriptions: SQLite gives a removed subscription's id
-- to the next one, which must not inherit them (store.subscriptions.remove deletes them now).
DELETE FROM "feedback" WHERE "subscription_id" NOT IN (SELECT "id" FROM "subscriptions");
