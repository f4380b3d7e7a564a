-- Intercession teams. A deleted team is kept (deleted_at set) so that the history of its
-- assignments still names it.
CREATE TABLE teams (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- Lower-cased name: team names are unique regardless of case among teams not deleted.
    name_key TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX teams_name_key_idx ON teams (name_key) WHERE deleted_at IS NULL;

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    team_role TEXT NOT NULL CHECK (team_role IN ('leader', 'member')),
    joined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, member_id)
);
CREATE INDEX team_members_member_idx ON team_members (member_id);

-- A request put in a team's or a named intercessor's hands. team_id alone: the team; member_id
-- (with team_id when made for a team, as auto-assign does): that intercessor.
CREATE TABLE assignments (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES prayer_requests (id) ON DELETE CASCADE,
    team_id TEXT REFERENCES teams (id),
    member_id TEXT REFERENCES members (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('assigned', 'accepted', 'declined', 'completed', 'released')),
    reason TEXT,
    assigned_by TEXT REFERENCES members (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assignments_request_idx ON assignments (request_id, status);
CREATE INDEX assignments_member_idx ON assignments (member_id, status);
CREATE INDEX assignments_team_idx ON assignments (team_id, status);
