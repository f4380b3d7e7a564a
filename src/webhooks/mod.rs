//! Webhooks: admins register URLs that receive signed JSON deliveries of chosen events
//! (api.md, "Webhooks"). This module keeps the registrations and their delivery log; deliveries
//! themselves are outbox rows of channel `webhook` ([`crate::outbox::announce`]), sent by
//! `crate::notify::webhook`.

pub mod address;
pub mod routes;
pub mod signing;
pub mod store;
