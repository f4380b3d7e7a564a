//! Delivering what the outbox holds: the workers that claim and deliver due rows, what each
//! notification says (under the privacy rules, decided when it is delivered), and the in-app
//! inbox. Above the features (it reads requests, teams and members to render), as `app` is;
//! features write to `crate::outbox` and never call this module.

pub mod account_mail;
pub mod deliveries;
pub mod email;
pub mod inbox;
pub mod periodic;
pub mod preferences;
pub mod recipients;
pub mod render;
pub mod unsubscribe;
pub mod webhook;
pub mod worker;
