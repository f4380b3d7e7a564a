-- Who did what to whom: reads of confidential requests, role changes, deactivations, exports and
-- erasures. Never holds the text of a prayer request.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    -- Kept as plain ids (no foreign key): the record outlives an erased account.
    actor_id TEXT,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_kind_idx ON audit_events (kind, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, id);
CREATE INDEX audit_events_created_idx ON audit_events (created_at);
