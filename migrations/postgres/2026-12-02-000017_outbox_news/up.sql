-- What a change announced to members, before it is addressed to each of them. The change writes
-- one row here in its own transaction, whatever the size of its audience; a worker turns it into
-- one outbox row per member and channel in one transaction that deletes it (`outbox::address`),
-- so the change costs one row, not one per recipient (issue #18: a team of 200 made an update
-- 9-15 times slower with 400 outbox rows written inline).
CREATE TABLE outbox_news (
    -- UUID v7: addressed oldest first.
    id TEXT PRIMARY KEY NOT NULL,
    event TEXT NOT NULL,
    -- The occurrence (`request.update:{update_id}`): the outbox rows' `dedupe_key`s derive from
    -- it, so addressing the same news twice makes no second row.
    dedupe_key TEXT NOT NULL,
    -- The request it is about, so deleting the request deletes the news too.
    request_id TEXT,
    -- The ids it is about (JSON), copied to every outbox row.
    data TEXT NOT NULL,
    -- The members who hear of it, as the change saw them (JSON array of ids); a member gone by
    -- the time it is addressed gets no row.
    members TEXT NOT NULL,
    -- The channels written for (JSON array), as the instance that made the change delivers.
    channels TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_news_request_idx ON outbox_news (request_id);
