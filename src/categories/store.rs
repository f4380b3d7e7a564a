//! Queries on categories.

use std::collections::HashMap;

use diesel::prelude::*;

use super::{CategoryChanges, CategoryRow};
use crate::db::schema::{categories, prayer_requests};
use crate::db::DbConnection;
use crate::error::{is_unique_violation, AppError, AppResult, ProblemType};

fn name_taken(e: diesel::result::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::conflict(
            ProblemType::Duplicate,
            "A category with this name already exists.",
        )
    } else {
        e.into()
    }
}

pub fn insert(conn: &mut DbConnection, row: &CategoryRow) -> AppResult<()> {
    diesel::insert_into(categories::table)
        .values(row)
        .execute(conn)
        .map_err(name_taken)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<CategoryRow>> {
    Ok(categories::table
        .find(id)
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_name(conn: &mut DbConnection, name: &str) -> AppResult<Option<CategoryRow>> {
    Ok(categories::table
        .filter(categories::name.eq(name))
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Categories by name, after the cursor's name.
pub fn list(
    conn: &mut DbConnection,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<CategoryRow>> {
    let mut query = categories::table
        .select(CategoryRow::as_select())
        .order(categories::name.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(categories::name.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// Every category's name by id: few rows, read once per request that shows prayer requests.
pub fn names(conn: &mut DbConnection) -> AppResult<HashMap<String, String>> {
    Ok(categories::table
        .select((categories::id, categories::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The name of one category, keyed by its id (empty when it is gone).
pub fn names_of_one(conn: &mut DbConnection, id: &str) -> AppResult<HashMap<String, String>> {
    Ok(categories::table
        .find(id)
        .select((categories::id, categories::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn update(
    conn: &mut DbConnection,
    id: &str,
    changes: &CategoryChanges,
) -> AppResult<CategoryRow> {
    diesel::update(categories::table.find(id))
        .set(changes)
        .execute(conn)
        .map_err(name_taken)?;
    find(conn, id)?.ok_or(AppError::NotFound)
}

/// Deletes an unused category; one that prayer requests use is a conflict.
pub fn delete(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    find(conn, id)?.ok_or(AppError::NotFound)?;
    let in_use: i64 = prayer_requests::table
        .filter(prayer_requests::category_id.eq(id))
        .count()
        .get_result(conn)?;
    if in_use > 0 {
        return Err(AppError::conflict(
            ProblemType::CategoryInUse,
            "Prayer requests use this category: rename it, or move them first.",
        ));
    }
    diesel::delete(categories::table.find(id)).execute(conn)?;
    Ok(())
}
