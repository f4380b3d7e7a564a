-- Invitations to join (api.md, "Invitations"). `token_hash` is the SHA-256 of the link's token,
-- never the token. `status` is pending, accepted or revoked; an invitation past `expires_at`
-- while pending reads as expired.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id TEXT REFERENCES teams (id) ON DELETE CASCADE,
    team_role TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    invited_by TEXT REFERENCES members (id) ON DELETE SET NULL,
    member_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX invitations_status_idx ON invitations (status, id);
CREATE INDEX invitations_email_idx ON invitations (email);

-- Password reset links. One live link per member: a newer request ends the older ones
-- (`ended_at`), as does using it.
CREATE TABLE password_resets (
    id TEXT PRIMARY KEY NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    ended_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX password_resets_member_idx ON password_resets (member_id);
