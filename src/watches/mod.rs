//! Prayer watches: schedules of slots that members sign up for, coverage, check-ins and the
//! personal calendar feed.

pub mod slots;
