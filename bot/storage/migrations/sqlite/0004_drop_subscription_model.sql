-- Feedback no longer fits a linear model per subscription (its profile and threshold shift
-- are what it learns), so the column that held the model goes.
ALTER TABLE "subscriptions" DROP COLUMN "model";
