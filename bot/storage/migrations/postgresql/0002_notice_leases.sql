-- Notices are claimed and leased like alerts and digests (bot/storage/outbox/queue.py):
-- claim tags the worker that took one, posting says its post has started.
ALTER TABLE "notices" ADD COLUMN "posting" INTEGER;
ALTER TABLE "notices" ADD COLUMN "claim" TEXT;
-- A notice was claimed just before its post: one left 'sending' may be in Slack.
UPDATE "notices" SET "posting" = 1 WHERE "status" = 'sending';
