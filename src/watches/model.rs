//! Watches, signups and check-ins: rows and API shapes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::slots::Schedule;
use crate::accounts::model::PersonRef;
use crate::db::schema::{watch_check_ins, watch_signup_slots, watch_signups, watches};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = watches)]
#[diesel(treat_none_as_default_value = false)]
pub struct WatchRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub team_id: Option<String>,
    pub timezone: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub slot_minutes: i32,
    pub day_start: i32,
    pub day_end: i32,
    pub min_per_slot: i32,
    pub max_per_slot: Option<i32>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WatchRow {
    pub fn schedule(&self) -> Result<Schedule, AppError> {
        Ok(Schedule {
            tz: self.timezone.parse().map_err(|_| {
                AppError::Internal(anyhow::anyhow!("unknown zone stored: {}", self.timezone))
            })?,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            slot_minutes: self.slot_minutes as u32,
            day_start: self.day_start as u32,
            day_end: self.day_end as u32,
        })
    }
}

/// A prayer watch: a schedule of slots, laid in its own time zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct Watch {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The team it belongs to (seen by that team and leaders), or `null` for the whole church.
    pub team_id: Option<String>,
    /// IANA zone the slots are laid in.
    pub timezone: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub slot_minutes: i32,
    /// `HH:MM`, local.
    #[schema(example = "00:00")]
    pub day_start: String,
    /// `HH:MM`, local; `24:00` is the end of the day; at or before `day_start` the window
    /// crosses midnight.
    #[schema(example = "24:00")]
    pub day_end: String,
    /// A slot is filled when this many have signed up.
    pub min_per_slot: i32,
    /// A hard cap per slot, or `null` for none.
    pub max_per_slot: Option<i32>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWatchInput {
    /// 1 to 120 characters.
    pub name: String,
    pub description: Option<String>,
    /// Make it a team's watch (its team leader may then create and manage it).
    pub team_id: Option<String>,
    #[schema(example = "America/New_York")]
    pub timezone: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// 5 to 720, dividing the daily window.
    pub slot_minutes: i32,
    /// `HH:MM`; `00:00` when omitted.
    pub day_start: Option<String>,
    /// `HH:MM` or `24:00`; `24:00` when omitted.
    pub day_end: Option<String>,
    /// 1 or more.
    pub min_per_slot: i32,
    /// At least `min_per_slot`; `null` for no cap.
    pub max_per_slot: Option<i32>,
}

/// Changes to a watch. The fields that shape slots (`timezone`, `starts_on`, `slot_minutes`,
/// `day_start`, `day_end`) can change only while nobody has signed up.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWatchInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub timezone: Option<String>,
    pub starts_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    pub slot_minutes: Option<i32>,
    pub day_start: Option<String>,
    pub day_end: Option<String>,
    pub min_per_slot: Option<i32>,
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<i32>)]
    pub max_per_slot: Option<Option<i32>>,
}

/// A slot of a watch.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub end: DateTime<Utc>,
    /// `start` in the watch's zone, with that moment's offset.
    #[schema(example = "2027-11-07T01:00:00-04:00")]
    pub local_start: String,
    pub local_end: String,
    pub signed_up: i64,
    pub min: i32,
    pub max: Option<i32>,
    /// The caller holds this slot.
    pub mine: bool,
    pub intercessors: Vec<PersonRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    pub items: Vec<SlotView>,
}

/// A run of unfilled slots.
#[derive(Debug, Serialize, ToSchema)]
pub struct Gap {
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub end: DateTime<Utc>,
    /// `start` in the watch's zone, with that moment's offset, as slots show it.
    #[schema(example = "2027-03-14T01:00:00-05:00")]
    pub local_start: String,
    /// `end` in the watch's zone, with that moment's offset.
    #[schema(example = "2027-03-14T04:00:00-04:00")]
    pub local_end: String,
}

/// How well a watch is covered over a range.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    pub slots_total: i64,
    /// Slots with at least `min_per_slot` signed up.
    pub slots_filled: i64,
    /// 0 to 100, two decimals.
    pub percent_filled: f64,
    /// Unfilled slots, adjacent ones merged.
    pub gaps: Vec<Gap>,
}

/// What is happening on a watch right now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Now {
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub at: DateTime<Utc>,
    /// The slot in progress, or `null` outside the watch's hours.
    pub slot: Option<SlotView>,
    /// Who has checked in for the current slot.
    pub checked_in: Vec<PersonRef>,
    /// The next slot to start.
    pub next: Option<SlotView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// First local date (in the watch's zone); today when omitted.
    pub from: Option<NaiveDate>,
    /// Local date after the last (half-open); a week after `from` when omitted.
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = watch_signups)]
#[diesel(treat_none_as_default_value = false)]
pub struct SignupRow {
    pub id: String,
    pub watch_id: String,
    pub member_id: String,
    pub slot_start: NaiveDateTime,
    pub repeat_weekly: bool,
    pub until: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = watch_signup_slots)]
pub struct HeldSlotRow {
    pub signup_id: String,
    pub watch_id: String,
    pub member_id: String,
    pub slot_start: NaiveDateTime,
    pub slot_end: NaiveDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupInput {
    /// A slot's `start`.
    pub slot_start: DateTime<Utc>,
    /// Hold the same local time every week.
    pub repeat_weekly: Option<bool>,
    /// Last local date of a weekly signup; the watch's `ends_on`, or a year on, when omitted.
    /// Only with `repeat_weekly: true`; with a single signup it is a 422.
    pub until: Option<NaiveDate>,
}

/// A member's signup.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signup {
    pub id: String,
    pub watch_id: String,
    pub member: PersonRef,
    /// The first slot's start.
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub slot_start: DateTime<Utc>,
    pub local_start: String,
    pub repeat_weekly: bool,
    /// Last local date a weekly signup holds.
    pub until: Option<NaiveDate>,
    /// How many slots it holds.
    pub slots_held: i64,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SignupListQuery {
    /// Only the caller's signups (members always see only their own).
    pub mine: Option<bool>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CancelQuery {
    /// For a weekly signup: give up the slots from this local date on and keep the ones before.
    /// Today when omitted.
    pub from: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = watch_check_ins)]
#[diesel(treat_none_as_default_value = false)]
pub struct CheckInRow {
    pub id: String,
    pub watch_id: String,
    pub member_id: String,
    pub slot_start: NaiveDateTime,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInInput {
    pub slot_start: DateTime<Utc>,
    /// Up to 1000 characters; private to its author and leaders.
    pub note: Option<String>,
}

/// "I am here, praying."
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckIn {
    pub id: String,
    pub watch_id: String,
    pub member_id: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub slot_start: DateTime<Utc>,
    pub note: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// One of my slots, on any watch.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySlot {
    pub watch_id: String,
    pub watch_name: String,
    pub signup_id: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub end: DateTime<Utc>,
    /// In the watch's zone.
    pub local_start: String,
    pub local_end: String,
    /// In my own zone (`timezone` of my account).
    pub my_local_start: String,
    pub my_local_end: String,
    pub checked_in: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MySlotList {
    pub items: Vec<MySlot>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MyRangeQuery {
    /// First local date in my zone; today when omitted.
    pub from: Option<NaiveDate>,
    /// Local date after the last (half-open, at most 366 days on); a week on when omitted.
    pub to: Option<NaiveDate>,
}

/// My secret calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeed {
    /// Subscribe to this URL in a calendar app. Anyone holding it reads my schedule: keep it
    /// private, and make a new one (killing this) if it leaks.
    pub url: String,
}
