-- SQLite's 0008 makes a removed subscription's id never given to a new one. PostgreSQL's
-- identity column never reuses an id, so there is nothing to change here.
SELECT 1;
