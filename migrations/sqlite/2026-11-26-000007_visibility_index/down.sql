DROP INDEX assignments_member_idx;
CREATE INDEX assignments_member_idx ON assignments (member_id, status);
