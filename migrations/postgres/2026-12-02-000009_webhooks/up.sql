-- Webhooks an admin registered: where to POST which events, signed with `secret` (the Standard
-- Webhooks form, `whsec_` + base64 of 32 random bytes; kept as is, since every delivery is
-- signed with it). After a rotation the previous secret also signs until
-- `previous_secret_until`.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    -- JSON array of event names.
    events TEXT NOT NULL,
    description TEXT,
    active BOOLEAN NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A webhook's deliveries are outbox rows of channel `webhook` (no member). No foreign key:
-- deleting a webhook deletes its rows explicitly, so this migration reverts on SQLite too.
ALTER TABLE outbox ADD COLUMN webhook_id TEXT;
-- The receiver's HTTP status on the last attempt.
ALTER TABLE outbox ADD COLUMN response_status INTEGER;
CREATE INDEX outbox_webhook_idx ON outbox (webhook_id, id);
