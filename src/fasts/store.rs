//! Queries on fasts, their focus, participants, commitments and check-ins.

use std::collections::HashMap;

use diesel::prelude::*;

use super::model::{CheckInRow, FastRow, FocusRow, ParticipantRow};
use crate::db::schema::{fast_check_ins, fast_commitments, fast_focus, fast_participants, fasts};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::teams::access::owned_visible_to;

pub fn insert(conn: &mut DbConnection, row: &FastRow) -> AppResult<()> {
    diesel::insert_into(fasts::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<FastRow> {
    fasts::table
        .find(id)
        .select(FastRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<FastRow>> {
    Ok(fasts::table
        .filter(fasts::id.eq_any(ids))
        .select(FastRow::as_select())
        .load(conn)?)
}

/// Fasts a member sees: the church's and their teams' (all for leaders), by id.
pub fn list_visible(
    conn: &mut DbConnection,
    member_id: &str,
    leader: bool,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<FastRow>> {
    let mut query = fasts::table
        .select(FastRow::as_select())
        .order(fasts::id.asc())
        .limit(fetch)
        .into_boxed();
    if !leader {
        query = query.filter(owned_visible_to(fasts::team_id, member_id));
    }
    if let Some(after) = after {
        query = query.filter(fasts::id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

pub fn update(conn: &mut DbConnection, row: &FastRow) -> AppResult<()> {
    diesel::update(fasts::table.find(&row.id))
        .set((
            fasts::name.eq(&row.name),
            fasts::description.eq(&row.description),
            fasts::fast_type.eq(&row.fast_type),
            fasts::starts_on.eq(row.starts_on),
            fasts::days.eq(row.days),
            fasts::timezone.eq(&row.timezone),
            fasts::min_per_day.eq(row.min_per_day),
            fasts::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    diesel::delete(fasts::table.find(id)).execute(conn)?;
    Ok(())
}

/// Sets the focus of the given days, replacing what they had.
pub fn put_focus(conn: &mut DbConnection, fast_id: &str, rows: &[FocusRow]) -> AppResult<()> {
    let days: Vec<i32> = rows.iter().map(|r| r.day).collect();
    diesel::delete(
        fast_focus::table
            .filter(fast_focus::fast_id.eq(fast_id))
            .filter(fast_focus::day.eq_any(&days)),
    )
    .execute(conn)?;
    for row in rows {
        diesel::insert_into(fast_focus::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Drops the focus of days past the end (when a fast is shortened before it begins).
pub fn trim_focus(conn: &mut DbConnection, fast_id: &str, days: i32) -> AppResult<()> {
    diesel::delete(
        fast_focus::table
            .filter(fast_focus::fast_id.eq(fast_id))
            .filter(fast_focus::day.gt(days)),
    )
    .execute(conn)?;
    diesel::delete(
        fast_commitments::table
            .filter(fast_commitments::fast_id.eq(fast_id))
            .filter(fast_commitments::day.gt(days)),
    )
    .execute(conn)?;
    Ok(())
}

/// The focus of each of the given fasts, in one query.
pub fn focus_for(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<HashMap<String, Vec<FocusRow>>> {
    let mut out: HashMap<String, Vec<FocusRow>> = HashMap::new();
    for row in fast_focus::table
        .filter(fast_focus::fast_id.eq_any(ids))
        .select(FocusRow::as_select())
        .order((fast_focus::fast_id.asc(), fast_focus::day.asc()))
        .load::<FocusRow>(conn)?
    {
        out.entry(row.fast_id.clone()).or_default().push(row);
    }
    Ok(out)
}

pub fn focus_of(conn: &mut DbConnection, fast_id: &str) -> AppResult<Vec<FocusRow>> {
    Ok(fast_focus::table
        .filter(fast_focus::fast_id.eq(fast_id))
        .select(FocusRow::as_select())
        .order(fast_focus::day.asc())
        .load(conn)?)
}

/// Participants of each of the given fasts, in one query.
pub fn participant_counts(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<HashMap<String, i64>> {
    Ok(fast_participants::table
        .filter(fast_participants::fast_id.eq_any(ids))
        .group_by(fast_participants::fast_id)
        .select((fast_participants::fast_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

pub fn participant(
    conn: &mut DbConnection,
    fast_id: &str,
    member_id: &str,
) -> AppResult<Option<ParticipantRow>> {
    Ok(fast_participants::table
        .find((fast_id, member_id))
        .select(ParticipantRow::as_select())
        .first(conn)
        .optional()?)
}

/// Joins, or updates the commitment of one who has joined (their check-ins stay).
pub fn put_participant(
    conn: &mut DbConnection,
    row: &ParticipantRow,
    days: &[i32],
) -> AppResult<bool> {
    let updated = diesel::update(fast_participants::table.find((&row.fast_id, &row.member_id)))
        .set((
            fast_participants::fast_type.eq(&row.fast_type),
            fast_participants::all_days.eq(row.all_days),
            fast_participants::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(fast_participants::table)
            .values(row)
            .execute(conn)?;
    }
    diesel::delete(
        fast_commitments::table
            .filter(fast_commitments::fast_id.eq(&row.fast_id))
            .filter(fast_commitments::member_id.eq(&row.member_id)),
    )
    .execute(conn)?;
    for day in days {
        diesel::insert_into(fast_commitments::table)
            .values((
                fast_commitments::fast_id.eq(&row.fast_id),
                fast_commitments::member_id.eq(&row.member_id),
                fast_commitments::day.eq(day),
            ))
            .execute(conn)?;
    }
    Ok(updated == 0)
}

/// Adds the new days of an extended fast to the commitments of those who joined for every day.
pub fn extend_all_days(
    conn: &mut DbConnection,
    fast_id: &str,
    from: i32,
    to: i32,
) -> AppResult<()> {
    let everyday: Vec<String> = fast_participants::table
        .filter(fast_participants::fast_id.eq(fast_id))
        .filter(fast_participants::all_days.eq(true))
        .select(fast_participants::member_id)
        .load(conn)?;
    for member in everyday {
        for day in from..=to {
            diesel::insert_into(fast_commitments::table)
                .values((
                    fast_commitments::fast_id.eq(fast_id),
                    fast_commitments::member_id.eq(&member),
                    fast_commitments::day.eq(day),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Leaves a fast: the participant, their commitment and their check-ins (notes included) go.
pub fn leave(conn: &mut DbConnection, fast_id: &str, member_id: &str) -> AppResult<bool> {
    diesel::delete(
        fast_check_ins::table
            .filter(fast_check_ins::fast_id.eq(fast_id))
            .filter(fast_check_ins::member_id.eq(member_id)),
    )
    .execute(conn)?;
    diesel::delete(
        fast_commitments::table
            .filter(fast_commitments::fast_id.eq(fast_id))
            .filter(fast_commitments::member_id.eq(member_id)),
    )
    .execute(conn)?;
    Ok(diesel::delete(fast_participants::table.find((fast_id, member_id))).execute(conn)? == 1)
}

pub fn commitments_of(
    conn: &mut DbConnection,
    fast_id: &str,
    member_id: &str,
) -> AppResult<Vec<i32>> {
    Ok(fast_commitments::table
        .filter(fast_commitments::fast_id.eq(fast_id))
        .filter(fast_commitments::member_id.eq(member_id))
        .select(fast_commitments::day)
        .order(fast_commitments::day.asc())
        .load(conn)?)
}

/// Per day: how many committed, and how many checked in. Two grouped queries.
pub fn day_counts(
    conn: &mut DbConnection,
    fast_id: &str,
) -> AppResult<(HashMap<i32, i64>, HashMap<i32, i64>)> {
    let committed = fast_commitments::table
        .filter(fast_commitments::fast_id.eq(fast_id))
        .group_by(fast_commitments::day)
        .select((fast_commitments::day, diesel::dsl::count_star()))
        .load::<(i32, i64)>(conn)?
        .into_iter()
        .collect();
    let checked = fast_check_ins::table
        .filter(fast_check_ins::fast_id.eq(fast_id))
        .group_by(fast_check_ins::day)
        .select((fast_check_ins::day, diesel::dsl::count_star()))
        .load::<(i32, i64)>(conn)?
        .into_iter()
        .collect();
    Ok((committed, checked))
}

/// Records a day's check-in or replaces it; true when it is new.
pub fn put_check_in(conn: &mut DbConnection, row: &CheckInRow) -> AppResult<bool> {
    let updated =
        diesel::update(fast_check_ins::table.find((&row.fast_id, &row.member_id, row.day)))
            .set((
                fast_check_ins::kept.eq(&row.kept),
                fast_check_ins::note.eq(&row.note),
                fast_check_ins::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(fast_check_ins::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(updated == 0)
}

pub fn check_ins_of(
    conn: &mut DbConnection,
    fast_id: &str,
    member_id: &str,
) -> AppResult<Vec<CheckInRow>> {
    Ok(fast_check_ins::table
        .filter(fast_check_ins::fast_id.eq(fast_id))
        .filter(fast_check_ins::member_id.eq(member_id))
        .select(CheckInRow::as_select())
        .order(fast_check_ins::day.asc())
        .load(conn)?)
}

/// The fasts a member takes part in.
pub fn participations(conn: &mut DbConnection, member_id: &str) -> AppResult<Vec<ParticipantRow>> {
    Ok(fast_participants::table
        .filter(fast_participants::member_id.eq(member_id))
        .select(ParticipantRow::as_select())
        .order(fast_participants::fast_id.asc())
        .load(conn)?)
}
