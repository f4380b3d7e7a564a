-- The outbox: every notification to deliver, one row per recipient and channel, written in the
-- transaction of the change that causes it. `id` is the delivery's stable id on its channel (the
-- in-app notification's id, an email's Message-ID, a webhook's webhook-id). `data` holds ids
-- only (JSON).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    -- One notice to one member, shared by its rows on each channel.
    notification_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    member_id TEXT REFERENCES members (id) ON DELETE CASCADE,
    -- The request it is about (no foreign key: deleting or purging a request deletes its rows
    -- here explicitly, `outbox::forget_requests`).
    request_id TEXT,
    data TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
-- Workers claim due rows, oldest first: pending ones whose time has come, and leases run out.
CREATE INDEX outbox_due_idx ON outbox (state, run_at);
CREATE INDEX outbox_member_idx ON outbox (member_id, id);
CREATE INDEX outbox_state_idx ON outbox (state, id);
CREATE INDEX outbox_request_idx ON outbox (request_id);

-- The in-app inbox: what the in-app channel delivered, as the member's app shows it.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    request_id TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_member_idx ON notifications (member_id, id);
CREATE INDEX notifications_request_idx ON notifications (request_id);

-- A member's choices; no row means the defaults (api.md, "Notifications"). The channel maps hold
-- only the events the member set (JSON objects, event name to on/off).
CREATE TABLE notification_preferences (
    member_id TEXT PRIMARY KEY NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    in_app TEXT NOT NULL,
    reminder_lead_minutes INTEGER NOT NULL,
    fast_reminder_time TEXT NOT NULL,
    quiet_start TEXT,
    quiet_end TEXT,
    discreet BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
