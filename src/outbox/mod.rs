//! The outbox: every notification the service owes someone, one row per recipient (a member, a
//! webhook, an invited address) and channel, written inside the transaction of the change that
//! causes it, so a committed change is never left unannounced and one that rolls back announces
//! nothing. Below every feature: a feature says what happened and to whom ([`News`], through
//! [`tell`]); `crate::notify` delivers.
//!
//! News told to members is written as one `outbox_news` row in the change's transaction, whatever
//! the size of its audience, and a worker [`address`]es it (one outbox row per member and channel)
//! in a transaction of its own before it claims: a change for a team of 200 costs one row, not 400.
//! Time-driven notices, each due at its own time, are written as outbox rows directly
//! ([`enqueue`], [`schedule`]).
//!
//! A row's `id` is the delivery's stable id on its channel (the in-app notification's id, an
//! email's `Message-ID`, a webhook's `webhook-id`). `dedupe_key` is unique: enqueueing the same notice
//! twice (a retried request) makes one row. Delivery is at least once: a worker claims due rows
//! with a lease ([`claim`]), delivers outside the claim's transaction, and [`finish`]es only
//! while it still holds the lease; a lease that runs out (the instance died) makes the row due
//! again.

pub mod events;
pub mod store;

pub use events::{Channel, DeliveryState, Event};
pub use store::{
    address, announce, claim, enqueue, enqueue_mail, finish, finish_sent, forget_finished_before,
    forget_requests, note_response, oldest_due, postpone, release, schedule, tell, News, Notice,
    OutboxRow, Outcome,
};
