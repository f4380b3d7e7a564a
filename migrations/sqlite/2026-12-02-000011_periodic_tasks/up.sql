-- Periodic tasks (design.md, "Reaching people"): one row per task. An instance runs a task when it
-- moves `next_run_at` on with a conditional update (`WHERE next_run_at = <what it read>`): of
-- several instances, exactly one wins each run, with no leader election and no session locks.
-- `last_run_at` is when the previous run began: a run covers the time since then.
CREATE TABLE periodic_tasks (
    name TEXT PRIMARY KEY NOT NULL,
    next_run_at TIMESTAMP NOT NULL,
    last_run_at TIMESTAMP
);
