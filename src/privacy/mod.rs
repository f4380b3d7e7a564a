//! Privacy operations: the audit log, a member's export of everything held about them, erasure,
//! and the retention purge.

pub mod audit;
pub mod erasure;
pub mod export;
pub mod purge;
pub mod routes;
