-- Categories of prayer requests; names are lower-case and unique.
CREATE TABLE categories (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

INSERT INTO categories (id, name, description, created_at, updated_at) VALUES
    ('01936b2a-0000-7000-8000-000000000001', 'salvation', 'Coming to faith', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000002', 'healing', 'Health of body and mind', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000003', 'family', 'Parents, children, relatives', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000004', 'marriage', 'Husbands and wives', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000005', 'children', 'Sons and daughters', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000006', 'finances', 'Debt, work and money', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000007', 'provision', 'Daily needs', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000008', 'ministry', 'Ministries and missions', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-000000000009', 'church', 'The church and its leaders', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-00000000000a', 'nation', 'Nations and their leaders', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-00000000000b', 'revival', 'Revival and awakening', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('01936b2a-0000-7000-8000-00000000000c', 'other', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

-- Prayer requests. The stored status is pending, active, answered or closed; "expired" is computed
-- from expires_on when read, so no background job can be missed.
CREATE TABLE prayer_requests (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Lower-cased title and body, for case-insensitive search in every script.
    search_text TEXT NOT NULL,
    category_id TEXT NOT NULL REFERENCES categories (id),
    kind TEXT NOT NULL CHECK (kind IN ('prayer', 'intercession')),
    on_behalf_of TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('congregation', 'team', 'leaders')),
    urgent BOOLEAN NOT NULL DEFAULT 0,
    anonymous BOOLEAN NOT NULL DEFAULT 0,
    allow_comments BOOLEAN NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'answered', 'closed')),
    expires_on DATE NOT NULL,
    prayer_count INTEGER NOT NULL DEFAULT 0,
    intercessor_count INTEGER NOT NULL DEFAULT 0,
    last_prayed_at TIMESTAMP,
    -- NULL for visitors' requests and for requesters who erased their account.
    requester_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    submitter_name TEXT,
    submitter_email TEXT,
    flagged BOOLEAN NOT NULL DEFAULT 0,
    flag_reason TEXT,
    flagged_at TIMESTAMP,
    rejection_reason TEXT,
    answered_at TIMESTAMP,
    testimony TEXT,
    share_testimony BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX prayer_requests_status_idx ON prayer_requests (status, id);
CREATE INDEX prayer_requests_requester_idx ON prayer_requests (requester_id, id);
CREATE INDEX prayer_requests_visibility_idx ON prayer_requests (visibility, status, id);
CREATE INDEX prayer_requests_category_idx ON prayer_requests (category_id, id);
CREATE INDEX prayer_requests_urgent_idx ON prayer_requests (urgent, id);
-- The prayer list reads requests prayed for in the last 7 days by this index.
CREATE INDEX prayer_requests_urgent_prayed_idx ON prayer_requests (urgent, last_prayed_at);

-- Every "I prayed for this".
CREATE TABLE prayers (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES prayer_requests (id) ON DELETE CASCADE,
    member_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    note TEXT,
    anonymous BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX prayers_request_idx ON prayers (request_id, created_at);
CREATE INDEX prayers_member_idx ON prayers (member_id, created_at);

-- One row per distinct intercessor of a request: its primary key keeps intercessor_count exact
-- when the same member prays twice at the same moment.
CREATE TABLE request_intercessors (
    request_id TEXT NOT NULL REFERENCES prayer_requests (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    first_prayed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, member_id)
);

CREATE TABLE request_updates (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES prayer_requests (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX request_updates_request_idx ON request_updates (request_id, id);

CREATE TABLE request_comments (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES prayer_requests (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX request_comments_request_idx ON request_comments (request_id, id);
