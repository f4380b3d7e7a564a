//! Fasts, their days, participants and check-ins: rows and API shapes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::days::FastCalendar;
use crate::db::schema::{fast_check_ins, fast_focus, fast_participants, fasts};
use crate::error::AppError;

crate::text_enum! {
    /// How one fasts.
    pub enum FastType {
        Full => "full",
        Water => "water",
        Daniel => "daniel",
        Partial => "partial",
        Liquid => "liquid",
        Media => "media",
        Custom => "custom",
    }
}

crate::text_enum! {
    /// How a day's fast went.
    pub enum Kept {
        Yes => "yes",
        Partial => "partial",
        No => "no",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fasts)]
#[diesel(treat_none_as_default_value = false)]
pub struct FastRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub fast_type: FastType,
    pub starts_on: NaiveDate,
    pub days: i32,
    pub timezone: String,
    pub team_id: Option<String>,
    pub min_per_day: Option<i32>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl FastRow {
    pub fn calendar(&self) -> Result<FastCalendar, AppError> {
        Ok(FastCalendar {
            tz: self.timezone.parse().map_err(|_| {
                AppError::Internal(anyhow::anyhow!("unknown zone stored: {}", self.timezone))
            })?,
            starts_on: self.starts_on,
            days: self.days,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fast_focus)]
#[diesel(treat_none_as_default_value = false)]
pub struct FocusRow {
    pub fast_id: String,
    pub day: i32,
    pub title: String,
    pub scripture: Option<String>,
    /// JSON array of strings.
    pub prayer_points: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fast_participants)]
pub struct ParticipantRow {
    pub fast_id: String,
    pub member_id: String,
    pub fast_type: FastType,
    pub all_days: bool,
    pub joined_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fast_check_ins)]
#[diesel(treat_none_as_default_value = false)]
pub struct CheckInRow {
    pub fast_id: String,
    pub member_id: String,
    pub day: i32,
    pub kept: Kept,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The focus of one day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Focus {
    /// 1 to the fast's `days`.
    pub day: i32,
    /// 1 to 200 characters.
    pub title: String,
    pub scripture: Option<String>,
    #[serde(default)]
    pub prayer_points: Vec<String>,
}

/// A group fast.
#[derive(Debug, Serialize, ToSchema)]
pub struct Fast {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub fast_type: FastType,
    pub starts_on: NaiveDate,
    pub days: i32,
    pub timezone: String,
    pub team_id: Option<String>,
    /// A fasting chain: how many people each day needs.
    pub min_per_day: Option<i32>,
    pub daily_focus: Vec<Focus>,
    /// Today's day number in the fast's zone; `null` before and after.
    pub current_day: Option<i32>,
    pub participant_count: i64,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFastInput {
    pub name: String,
    pub description: Option<String>,
    pub fast_type: FastType,
    /// May lie in the past: a fast set up after it began.
    pub starts_on: NaiveDate,
    /// 1 to 100.
    pub days: i32,
    #[schema(example = "Pacific/Auckland")]
    pub timezone: String,
    pub team_id: Option<String>,
    pub min_per_day: Option<i32>,
    pub daily_focus: Option<Vec<Focus>>,
}

/// Changes to a fast. Once it has begun, `starts_on` and `timezone` stay (409) and `days` may only
/// grow. `daily_focus` entries replace those days' focus.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFastInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub fast_type: Option<FastType>,
    pub starts_on: Option<NaiveDate>,
    pub days: Option<i32>,
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<i32>)]
    pub min_per_day: Option<Option<i32>>,
    pub daily_focus: Option<Vec<Focus>>,
}

/// One day of a fast: counts only, never names.
#[derive(Debug, Serialize, ToSchema)]
pub struct FastDay {
    pub day: i32,
    pub date: NaiveDate,
    pub focus: Option<Focus>,
    /// Participants who committed to this day.
    pub committed: i64,
    /// Participants who checked in for it.
    pub checked_in: i64,
    /// For a fasting chain: how many more the day needs (0 when it has enough).
    pub needed: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FastDays {
    pub items: Vec<FastDay>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinInput {
    /// The days to fast (a fasting chain); every day when omitted.
    pub days: Option<Vec<i32>>,
    /// My own way of fasting; the fast's when omitted.
    pub fast_type: Option<FastType>,
}

/// A participant's commitment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Commitment {
    pub fast_id: String,
    pub days: Vec<i32>,
    pub fast_type: FastType,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FastCheckInInput {
    pub day: i32,
    pub kept: Kept,
    /// Up to 1000 characters; private: only its author ever reads it.
    pub note: Option<String>,
}

/// A day's check-in, as its author reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FastCheckIn {
    pub day: i32,
    pub date: NaiveDate,
    pub kept: Kept,
    pub note: Option<String>,
}

/// My part in a fast: commitment, check-ins, progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyFast {
    pub fast_id: String,
    pub name: String,
    pub current_day: Option<i32>,
    pub commitment: Commitment,
    pub check_ins: Vec<FastCheckIn>,
    /// Days checked in as fully kept.
    pub kept_count: i64,
    /// Days checked in as partly kept.
    pub partial_count: i64,
    /// Consecutive committed days kept (fully or partly), counting back from the latest.
    pub streak: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyFasts {
    pub items: Vec<MyFast>,
}
