-- Group fasts: a run of days from starts_on in the fast's own time zone.
CREATE TABLE fasts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    fast_type TEXT NOT NULL CHECK (fast_type IN ('full', 'water', 'daniel', 'partial', 'liquid', 'media', 'custom')),
    starts_on DATE NOT NULL,
    days INTEGER NOT NULL,
    timezone TEXT NOT NULL,
    team_id TEXT REFERENCES teams (id),
    -- Set for a fasting chain: how many people each day needs.
    min_per_day INTEGER,
    created_by TEXT REFERENCES members (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX fasts_team_idx ON fasts (team_id);

-- The focus of one day of a fast; prayer_points is a JSON array of strings.
CREATE TABLE fast_focus (
    fast_id TEXT NOT NULL REFERENCES fasts (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    title TEXT NOT NULL,
    scripture TEXT,
    prayer_points TEXT NOT NULL,
    PRIMARY KEY (fast_id, day)
);

CREATE TABLE fast_participants (
    fast_id TEXT NOT NULL REFERENCES fasts (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    -- The member's own way of fasting (media while the church keeps a Daniel fast).
    fast_type TEXT NOT NULL,
    all_days BOOLEAN NOT NULL,
    joined_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (fast_id, member_id)
);

-- One row per day a participant committed to: per-day counts are one grouped query.
CREATE TABLE fast_commitments (
    fast_id TEXT NOT NULL REFERENCES fasts (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    PRIMARY KEY (fast_id, member_id, day)
);
CREATE INDEX fast_commitments_day_idx ON fast_commitments (fast_id, day);

-- A day's check-in. The note is private to its author.
CREATE TABLE fast_check_ins (
    fast_id TEXT NOT NULL REFERENCES fasts (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    kept TEXT NOT NULL CHECK (kept IN ('yes', 'partial', 'no')),
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (fast_id, member_id, day)
);
CREATE INDEX fast_check_ins_day_idx ON fast_check_ins (fast_id, day);
