//! Prayer watches: schedules of slots that members sign up for, coverage, check-ins and the
//! personal calendar feed.

pub mod access;
pub mod blockouts;
pub mod calendar;
pub mod gaps;
pub mod model;
pub mod reminders;
pub mod replacements;
pub mod routes;
pub mod signups;
pub mod slots;
pub mod store;
