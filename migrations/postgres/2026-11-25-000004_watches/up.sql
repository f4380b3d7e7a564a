-- Prayer watches. Slots are computed from the schedule, never stored: a row exists only for a
-- slot someone signed up for.
CREATE TABLE watches (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    team_id TEXT REFERENCES teams (id),
    timezone TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE,
    slot_minutes INTEGER NOT NULL,
    -- Minutes after local midnight; day_end may be 1440 (24:00) and at or before day_start the
    -- window crosses midnight.
    day_start INTEGER NOT NULL,
    day_end INTEGER NOT NULL,
    min_per_slot INTEGER NOT NULL,
    max_per_slot INTEGER,
    created_by TEXT REFERENCES members (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX watches_team_idx ON watches (team_id);

-- A member's signup: one slot, or the same wall-clock slot every week until a date.
CREATE TABLE watch_signups (
    id TEXT PRIMARY KEY NOT NULL,
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    slot_start TIMESTAMP NOT NULL,
    repeat_weekly BOOLEAN NOT NULL DEFAULT FALSE,
    until DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX watch_signups_watch_idx ON watch_signups (watch_id, member_id);
CREATE INDEX watch_signups_member_idx ON watch_signups (member_id);

-- Each slot a signup holds (one for a single signup, one a week for a weekly one). Capacity and
-- coverage count these rows; a member holds a slot at most once.
CREATE TABLE watch_signup_slots (
    signup_id TEXT NOT NULL REFERENCES watch_signups (id) ON DELETE CASCADE,
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    slot_start TIMESTAMP NOT NULL,
    slot_end TIMESTAMP NOT NULL,
    PRIMARY KEY (signup_id, slot_start)
);
CREATE UNIQUE INDEX watch_signup_slots_member_slot_idx ON watch_signup_slots (watch_id, member_id, slot_start);
CREATE INDEX watch_signup_slots_slot_idx ON watch_signup_slots (watch_id, slot_start);
CREATE INDEX watch_signup_slots_member_idx ON watch_signup_slots (member_id, slot_start);

CREATE TABLE watch_check_ins (
    id TEXT PRIMARY KEY NOT NULL,
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    slot_start TIMESTAMP NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX watch_check_ins_slot_idx ON watch_check_ins (watch_id, member_id, slot_start);

-- The secret of each member's calendar feed URL, stored as a SHA-256 hash.
CREATE TABLE calendar_tokens (
    member_id TEXT PRIMARY KEY NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
