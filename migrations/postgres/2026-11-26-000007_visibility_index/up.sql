-- The visibility rule asks, for each request a member might see, "is it live-assigned to me by
-- name?". With (member_id, status) alone that meant reading every live assignment of the member
-- for every request on the page; with request_id in the index it is one seek.
DROP INDEX assignments_member_idx;
CREATE INDEX assignments_member_idx ON assignments (member_id, status, request_id);
