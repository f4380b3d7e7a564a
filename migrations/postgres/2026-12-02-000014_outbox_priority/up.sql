-- Which due notices a worker takes first: 0 for those someone waits on at a time (a watch
-- reminder, an urgent request, a reset link), 1 for the rest, 2 for those that may wait (nudges,
-- digests). Claimed in order of priority, then of `run_at`: a flood of nudges never holds back
-- the next minute's reminders.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (state, priority, run_at);
