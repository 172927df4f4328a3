-- Where each "N more matched today" message was posted and the count it shows, so that a
-- later cycle of the same day that holds more back can edit it (bot/deliver.py): arXiv's
-- listings can come in over two cycles.
ALTER TABLE "more_offers" ADD COLUMN "slack_channel" TEXT;
ALTER TABLE "more_offers" ADD COLUMN "slack_ts" TEXT;
ALTER TABLE "more_offers" ADD COLUMN "held" INTEGER;
