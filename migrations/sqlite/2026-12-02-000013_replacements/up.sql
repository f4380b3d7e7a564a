-- Replacements (api.md, "Watch changes"): one occurrence of a signup its member cannot keep, offered
-- to others until someone takes it. Until then the slot stays the asker's. A cancellation close to
-- the slot that leaves it short opens one too, with no signup (the slot is already free).
-- `status`: open, filled, cancelled, expired. Offers go in waves (`waves`, `next_wave_at`);
-- `escalated` records that the watch's leaders were told it is still open 12 hours before.
CREATE TABLE replacements (
    id TEXT PRIMARY KEY NOT NULL,
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    signup_id TEXT REFERENCES watch_signups (id) ON DELETE SET NULL,
    slot_start TIMESTAMP NOT NULL,
    slot_end TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    asked_by TEXT REFERENCES members (id) ON DELETE SET NULL,
    note TEXT,
    filled_by TEXT REFERENCES members (id) ON DELETE SET NULL,
    waves INTEGER NOT NULL,
    next_wave_at TIMESTAMP,
    escalated BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX replacements_watch_idx ON replacements (watch_id, id);
CREATE INDEX replacements_due_idx ON replacements (status, next_wave_at);

-- Who was offered a replacement, in which wave: nobody is offered the same one twice.
CREATE TABLE replacement_offers (
    replacement_id TEXT NOT NULL REFERENCES replacements (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    wave INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (replacement_id, member_id)
);
