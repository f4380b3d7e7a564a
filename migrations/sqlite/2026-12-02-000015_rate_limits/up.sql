-- Rate limits held in the database, so that every instance behind a load balancer counts against
-- the same allowance (src/ratelimit.rs). One row per limited key (a hash of the limit's name and
-- the client address or account); `tat` is GCRA's theoretical arrival time in milliseconds since
-- the epoch: a key is over its limit while `tat` is more than the limit's period ahead of now.
-- Rows whose `tat` has passed hold no state and are swept by the `rate_limit_sweep` task.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    tat BIGINT NOT NULL
);
CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);
