//! Assignments: requests put in a team's or a named intercessor's hands, within each
//! intercessor's own limit, and the team dashboard that shows what is going unprayed-for.

pub mod access;
pub mod assigning;
pub mod model;
pub mod notices;
pub mod nudges;
pub mod overviews;
pub mod routes;
pub mod store;
pub mod transitions;
