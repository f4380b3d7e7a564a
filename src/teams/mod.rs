//! Intercession teams and their members, with per-team roles.

pub mod access;
pub mod model;
pub mod routes;
pub mod store;
