//! Prayer requests and what hangs off them: rows as stored, the shapes the API reads and writes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::accounts::model::PersonRef;
use crate::db::schema::{prayer_requests, prayers};

crate::text_enum! {
    /// `prayer`: for the requester themself. `intercession`: for someone else, named (or
    /// described: "my brother") in `on_behalf_of`.
    pub enum Kind {
        Prayer => "prayer",
        Intercession => "intercession",
    }
}

crate::text_enum! {
    /// Who may see a request besides its requester and the leaders. `congregation`: every member.
    /// `team`: members of the teams it is assigned to. `leaders`: only intercessors assigned to it
    /// by name.
    pub enum Visibility {
        Congregation => "congregation",
        Team => "team",
        Leaders => "leaders",
    }
}

crate::text_enum! {
    /// Where a request is in its life. `expired` is never stored: an `active` request whose
    /// `expires_on` has passed reads as `expired`.
    pub enum Status {
        Pending => "pending",
        Active => "active",
        Answered => "answered",
        Closed => "closed",
        Expired => "expired",
    }
}

crate::text_enum! {
    /// `newest` first, or `needs_prayer`: urgent first, then fewest prayers in the last 7 days,
    /// then oldest.
    pub enum Sort {
        Newest => "newest",
        NeedsPrayer => "needs_prayer",
    }
}

/// A prayer request as stored, less its `search_text` (see [`NewRequestRow`]).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prayer_requests)]
#[diesel(treat_none_as_default_value = false)]
pub struct RequestRow {
    pub id: String,
    pub title: String,
    pub body: String,
    pub category_id: String,
    pub kind: Kind,
    pub on_behalf_of: Option<String>,
    pub visibility: Visibility,
    pub urgent: bool,
    pub anonymous: bool,
    pub allow_comments: bool,
    pub status: Status,
    pub expires_on: NaiveDate,
    pub prayer_count: i64,
    pub intercessor_count: i64,
    pub last_prayed_at: Option<NaiveDateTime>,
    pub requester_id: Option<String>,
    pub submitter_name: Option<String>,
    pub submitter_email: Option<String>,
    pub flagged: bool,
    pub flag_reason: Option<String>,
    pub flagged_at: Option<NaiveDateTime>,
    pub rejection_reason: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
    pub testimony: Option<String>,
    pub share_testimony: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A request to insert: the row and what search matches in it. `search_text` is written with
/// the row (and changed with its title or body) but never read back: every list page and every
/// request read would otherwise decode a second copy of the title and body for nothing.
#[derive(Insertable)]
#[diesel(table_name = prayer_requests)]
pub struct NewRequestRow {
    #[diesel(embed)]
    pub row: RequestRow,
    pub search_text: String,
}

impl From<RequestRow> for NewRequestRow {
    fn from(row: RequestRow) -> Self {
        NewRequestRow {
            search_text: search_text(&row.title, &row.body),
            row,
        }
    }
}

/// What search matches: title and body, lower-cased in Rust so every script folds alike.
pub fn search_text(title: &str, body: &str) -> String {
    format!("{}\n{}", title.to_lowercase(), body.to_lowercase())
}

impl RequestRow {
    /// The status as the API shows it on `today` (UTC): `active` past `expires_on` is `expired`.
    pub fn status_on(&self, today: NaiveDate) -> Status {
        match self.status {
            Status::Active if self.expires_on < today => Status::Expired,
            status => status,
        }
    }

    pub fn is_requester(&self, member_id: &str) -> bool {
        self.requester_id.as_deref() == Some(member_id)
    }
}

/// Who sent a request through the public form (leaders only).
#[derive(Debug, Serialize, ToSchema)]
pub struct Visitor {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A prayer request.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrayerRequest {
    pub id: String,
    pub title: String,
    pub body: String,
    /// The category's name.
    pub category: String,
    pub kind: Kind,
    /// Who the intercession is for; may withhold a name ("my brother").
    pub on_behalf_of: Option<String>,
    pub visibility: Visibility,
    pub urgent: bool,
    /// When true, `requester` is `null` for everyone but the requester and leaders.
    pub anonymous: bool,
    pub allow_comments: bool,
    pub status: Status,
    /// Every "I prayed for this", counted.
    pub prayer_count: i64,
    /// Distinct members who prayed.
    pub intercessor_count: i64,
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub last_prayed_at: Option<DateTime<Utc>>,
    pub requester: Option<PersonRef>,
    /// The last day the request is active; after it the request reads as `expired`.
    pub expires_on: NaiveDate,
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub answered_at: Option<DateTime<Utc>>,
    /// The answer's story; `null` for others than the requester and leaders unless shared.
    pub testimony: Option<String>,
    pub share_testimony: bool,
    /// Reported by someone; hidden from the congregation until a leader approves it again.
    pub flagged: bool,
    /// Why it was flagged (leaders only).
    pub flag_reason: Option<String>,
    /// Why a leader rejected it (the requester and leaders only).
    pub rejection_reason: Option<String>,
    /// Name and email a visitor gave on the public form (leaders only).
    pub submitted_by: Option<Visitor>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A new prayer request.
///
/// Conditional field: `on_behalf_of` is **required when `kind` is `intercession`** (who it is
/// for, which may withhold a name: "my brother") and must be **absent when `kind` is `prayer`**;
/// either mistake is a 422 naming `on_behalf_of`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestInput {
    /// 1 to 120 characters.
    pub title: String,
    /// 1 to 4000 characters.
    pub body: String,
    /// A category's name (`GET /categories`).
    #[schema(example = "healing")]
    pub category: String,
    pub kind: Kind,
    /// Required when `kind` is `intercession`; must be absent when `kind` is `prayer`. 1 to 120
    /// characters.
    pub on_behalf_of: Option<String>,
    /// `team` when omitted.
    pub visibility: Option<Visibility>,
    pub urgent: Option<bool>,
    pub anonymous: Option<bool>,
    /// `false` when omitted.
    pub allow_comments: Option<bool>,
    /// From today to a year ahead; `REQUEST_EXPIRY_DAYS` (30) from today when omitted.
    pub expires_on: Option<NaiveDate>,
}

/// Changes to a request; omitted fields stay as they are.
///
/// Conditional field: after the change, a request of `kind` `intercession` must have an
/// `on_behalf_of` and one of `kind` `prayer` must not (set it to `null` when changing to
/// `prayer`); otherwise a 422 naming `on_behalf_of`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequestInput {
    pub title: Option<String>,
    pub body: Option<String>,
    pub category: Option<String>,
    pub kind: Option<Kind>,
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<String>)]
    pub on_behalf_of: Option<Option<String>>,
    pub visibility: Option<Visibility>,
    pub urgent: Option<bool>,
    pub anonymous: Option<bool>,
    pub allow_comments: Option<bool>,
    pub expires_on: Option<NaiveDate>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = prayer_requests)]
pub struct RequestChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub search_text: Option<String>,
    pub category_id: Option<String>,
    pub kind: Option<Kind>,
    pub on_behalf_of: Option<Option<String>>,
    pub visibility: Option<Visibility>,
    pub urgent: Option<bool>,
    pub anonymous: Option<bool>,
    pub allow_comments: Option<bool>,
    pub status: Option<Status>,
    pub expires_on: Option<NaiveDate>,
    pub flagged: Option<bool>,
    pub flag_reason: Option<Option<String>>,
    pub flagged_at: Option<Option<NaiveDateTime>>,
    pub rejection_reason: Option<Option<String>>,
    pub answered_at: Option<Option<NaiveDateTime>>,
    pub testimony: Option<Option<String>>,
    pub share_testimony: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequestListQuery {
    /// Only this status. `sort=needs_prayer` lists `active` requests unless a status is given.
    pub status: Option<Status>,
    /// A category's name.
    pub category: Option<String>,
    pub kind: Option<Kind>,
    pub urgent: Option<bool>,
    /// `true`: only the caller's own requests; `false`: only others'.
    pub mine: Option<bool>,
    /// Flagged requests (leaders see all of them; others only their own).
    pub flagged: Option<bool>,
    /// Words in the title or body, case-insensitively.
    pub q: Option<String>,
    /// `true`: only requests assigned to the caller by name (assigned or accepted).
    pub assigned_to_me: Option<bool>,
    /// Only requests assigned to this team or to intercessors for it (assigned or accepted).
    pub team_id: Option<String>,
    /// `newest` (default) or `needs_prayer`.
    pub sort: Option<Sort>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A visitor's request, through the public form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicRequestInput {
    /// How leaders may address the visitor; up to 80 characters.
    pub name: Option<String>,
    /// Where leaders may answer; never shown to anyone but leaders.
    pub email: Option<String>,
    /// 1 to 120 characters.
    pub title: String,
    /// 1 to 4000 characters.
    pub body: String,
    /// A category's name.
    pub category: String,
}

/// Acknowledges a public submission without revealing anything about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Always `received`: leaders will read it before anyone else does.
    #[schema(example = "received")]
    pub status: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    /// 1 to 1000 characters.
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// The story of the answer; up to 4000 characters.
    pub testimony: Option<String>,
    /// Show the testimony to everyone who can see the request (default `false`: requester and
    /// leaders only).
    pub share_testimony: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prayers)]
#[diesel(treat_none_as_default_value = false)]
pub struct PrayerRow {
    pub id: String,
    pub request_id: String,
    pub member_id: Option<String>,
    pub note: Option<String>,
    pub anonymous: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrayInput {
    /// A word for the requester; up to 1000 characters. Only the requester and leaders read it.
    pub note: Option<String>,
    /// Hide the intercessor's name from the requester (leaders still see it).
    pub anonymous: Option<bool>,
}

/// One "I prayed for this".
#[derive(Debug, Serialize, ToSchema)]
pub struct Prayer {
    pub id: String,
    pub request_id: String,
    /// Who prayed; `null` when they prayed anonymously (except to leaders and to themself).
    pub member: Option<PersonRef>,
    pub note: Option<String>,
    pub anonymous: bool,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// The two threads under a request. Their rows have one shape, in two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thread {
    /// News from the requester (or a leader), seen by anyone who may see the request.
    Updates,
    /// Anyone's words, when the requester opened the request to comments.
    Comments,
}

/// An update or a comment, as stored (`request_updates` and `request_comments` alike).
#[derive(Debug, Clone, Queryable)]
pub struct PostRow {
    pub id: String,
    pub request_id: String,
    pub author_id: Option<String>,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostInput {
    /// The text.
    pub body: String,
}

/// An update on a request, or a comment on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Post {
    pub id: String,
    pub request_id: String,
    /// Who wrote it; `null` when the requester of an anonymous request wrote it and the reader is
    /// neither them nor a leader, or when the author erased their account.
    pub author: Option<PersonRef>,
    pub body: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

pub const TITLE_MAX: usize = 120;
pub const BODY_MAX: usize = 4000;
pub const ON_BEHALF_OF_MAX: usize = 120;
pub const REASON_MAX: usize = 1000;
pub const TESTIMONY_MAX: usize = 4000;
