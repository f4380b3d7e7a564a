//! Categories of prayer requests (healing, family, nation...): members read them, leaders keep them.

pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::categories;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = categories)]
#[diesel(treat_none_as_default_value = false)]
pub struct CategoryRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A category of prayer requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    pub id: String,
    /// Lower-case and unique; prayer requests name their category by it.
    #[schema(example = "healing")]
    pub name: String,
    pub description: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<CategoryRow> for Category {
    fn from(row: CategoryRow) -> Self {
        Category {
            id: row.id,
            name: row.name,
            description: row.description,
            created_at: crate::time::to_utc(row.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryInput {
    /// 1 to 40 characters; stored lower-cased.
    pub name: String,
    /// Up to 200 characters.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategoryInput {
    /// A new name; requests in this category follow it.
    pub name: Option<String>,
    /// A new description, or `null` to remove it.
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub const NAME_MAX: usize = 40;
pub const DESCRIPTION_MAX: usize = 200;
