DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (state, run_at);
ALTER TABLE outbox DROP COLUMN priority;
