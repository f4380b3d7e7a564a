//! Group fasts: a run of days a congregation (or a team) fasts together, with a daily focus,
//! personal commitments, private check-ins, and fasting chains that need someone every day.

pub mod days;
pub mod model;
pub mod participation;
pub mod reminders;
pub mod routes;
pub mod store;
