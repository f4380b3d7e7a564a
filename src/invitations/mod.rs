//! Invitations: a leader (or a team leader, for their own team) invites an address; the link in
//! the email lets its holder become a member with the invitation's role and team, even when
//! registration is closed (api.md, "Invitations").

pub mod routes;
pub mod store;
