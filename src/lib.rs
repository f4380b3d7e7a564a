//! intercede: a REST service for a church's intercession ministry.

/// `text_enum!`, for enums stored as text.
mod text_enum;

/// Registration, sign-in sessions, profiles and the members directory.
pub mod accounts;
/// Building and running the HTTP server.
pub mod app;
/// The statuses of an assignment, shared by assignments and the visibility of requests.
pub mod assignment_status;
/// Assignments of requests to teams and intercessors, and the team dashboard.
pub mod assignments;
/// The audit log's writer, below every feature.
pub mod audit;
/// Passwords, tokens, the signed-in caller and role checks.
pub mod auth;
/// Categories of prayer requests.
pub mod categories;
/// The service's own clock, which `CLOCK_START` shifts in tests.
pub mod clock;
/// Configuration from the environment.
pub mod config;
/// Connections, pool, migrations and schema for SQLite and PostgreSQL.
pub mod db;
/// The service's one error type and its problem+json form.
pub mod error;
/// Group fasts: days, commitments, private check-ins, fasting chains.
pub mod fasts;
/// Liveness and readiness probes.
pub mod health;
/// What counts as holding a watch slot (blockouts), below watches and prayer requests.
pub mod held_slots;
/// Request extractors, pagination and validation.
pub mod http;
/// Invitations to join, and accepting them.
pub mod invitations;
/// The C allocator's settings, for a bounded peak memory.
pub mod memory;
/// Delivering notifications: the worker, what each says, the in-app inbox.
pub mod notify;
/// The generated OpenAPI document.
pub mod openapi;
/// The outbox: notifications owed, written with the change that causes them.
pub mod outbox;
/// Prayer requests, prayers, updates and comments.
pub mod prayer_requests;
/// Audit log, export, erasure and retention.
pub mod privacy;
/// Per-address and per-account rate limits.
pub mod ratelimit;
/// `intercede seed`: a realistic church at a chosen scale, for benchmarks.
pub mod seed;
/// State shared by all handlers.
pub mod state;
/// Intercession teams and memberships.
pub mod teams;
/// Logging and request logs.
pub mod telemetry;
/// Timestamps as stored and as shown.
pub mod time;
/// Prayer watches: slots, signups, coverage, check-ins, calendar feeds.
pub mod watches;
/// Webhooks admins register, and their delivery log.
pub mod webhooks;
