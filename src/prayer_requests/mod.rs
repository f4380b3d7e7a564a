//! Prayer requests: asking, moderating, praying, updating, answering, and the visibility rule
//! that keeps each request within its audience.

pub mod access;
pub mod activity;
pub mod digest;
pub mod lifecycle;
pub mod model;
pub mod moderation;
pub mod notices;
pub mod public_form;
pub mod reads;
pub mod routes;
pub mod store;
pub mod views;
pub mod visibility;
