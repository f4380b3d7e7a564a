//! The API test suite: one binary, one module per area. Every test drives a real server over HTTP
//! with a fresh database; `TEST_DATABASE_URL=postgres://...` runs the same suite on PostgreSQL.

mod accounts;
mod assignments;
mod authorization;
mod callers;
mod categories;
mod cli;
mod cluster;
mod conventions;
mod database;
mod email;
mod fasts;
mod helpers;
mod invitations;
mod mail;
mod members;
mod notifications;
mod openapi_spec;
mod periodic;
mod prayer_lifecycle;
mod prayer_posts;
mod prayer_visibility;
mod prayers;
mod privacy;
mod rate_limits;
mod receiver;
mod reminders;
mod scripted_church;
mod sessions;
mod teams;
mod tokens;
mod watch_changes;
mod watches;
mod webhooks;
