//! What counts as holding a watch slot: a signup's occurrence that no blockout of its member
//! overlaps. Shared by the watches feature and the urgent notices of prayer requests (whoever
//! holds the slot under way), so it sits below both.

use diesel::prelude::*;

use crate::db::schema::{blockouts, watch_signup_slots};

/// A held occurrence (`watch_signup_slots` row) is not blocked out: no blockout of its member
/// overlaps it. For the filter of every query that shows or acts on holding.
#[diesel::dsl::auto_type]
pub fn not_blocked_out() -> _ {
    diesel::dsl::not(diesel::dsl::exists(
        blockouts::table
            .filter(blockouts::member_id.eq(watch_signup_slots::member_id))
            .filter(blockouts::starts_at.lt(watch_signup_slots::slot_end))
            .filter(blockouts::ends_at.gt(watch_signup_slots::slot_start)),
    ))
}
