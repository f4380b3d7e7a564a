//! Teams and memberships: rows and API shapes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::model::PersonRef;
use crate::db::schema::{team_members, teams};

crate::text_enum! {
    /// A member's role in one team. A team leader manages the team's members (but appoints no
    /// team leaders), assigns the team's requests within it, and sees its dashboard.
    pub enum TeamRole {
        Leader => "leader",
        Member => "member",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = teams)]
#[diesel(treat_none_as_default_value = false)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = team_members)]
pub struct TeamMemberRow {
    pub team_id: String,
    pub member_id: String,
    pub team_role: TeamRole,
    pub joined_at: NaiveDateTime,
}

/// An intercession team.
#[derive(Debug, Serialize, ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub member_count: i64,
    /// The caller's role in this team, or `null` when not a member.
    pub my_team_role: Option<TeamRole>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A member of a team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMember {
    pub member: PersonRef,
    pub team_role: TeamRole,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamInput {
    /// 1 to 80 characters, unique regardless of case.
    pub name: String,
    /// Up to 1000 characters.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeamInput {
    pub name: Option<String>,
    /// A new description, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTeamMemberInput {
    pub team_role: TeamRole,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = teams)]
pub struct TeamChanges {
    pub name: Option<String>,
    pub name_key: Option<String>,
    pub description: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub const NAME_MAX: usize = 80;
pub const DESCRIPTION_MAX: usize = 1000;
