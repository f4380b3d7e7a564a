-- A member's blockouts (api.md, "Watch changes"): spans of time, in UTC, when they cannot keep
-- the watch slots they hold. A held occurrence that overlaps one counts as not held in slots,
-- coverage, now, reminders and the calendar feed; the signup itself is untouched.
CREATE TABLE blockouts (
    id TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX blockouts_member_idx ON blockouts (member_id, starts_at);
