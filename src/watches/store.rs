//! Queries on watches, signups, held slots and check-ins.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::blockouts::not_blocked_out;
use super::model::{CheckInRow, HeldSlotRow, SignupRow, WatchRow};
use crate::db::schema::{
    blockouts, members, watch_check_ins, watch_signup_slots, watch_signups, watches,
};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::teams::access::owned_visible_to;

pub fn insert(conn: &mut DbConnection, row: &WatchRow) -> AppResult<()> {
    diesel::insert_into(watches::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<WatchRow> {
    watches::table
        .find(id)
        .select(WatchRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Locks the watch's row until the transaction ends (PostgreSQL; SQLite's writer lock already
/// serializes), so that signups for one watch are counted and added one at a time.
pub fn lock(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        watches::table
            .find(id)
            .select(watches::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Watches a member sees: the church's, their teams' (all of them for leaders), by id.
pub fn list_visible(
    conn: &mut DbConnection,
    member_id: &str,
    leader: bool,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<WatchRow>> {
    let mut query = watches::table
        .select(WatchRow::as_select())
        .order(watches::id.asc())
        .limit(fetch)
        .into_boxed();
    if !leader {
        query = query.filter(owned_visible_to(watches::team_id, member_id));
    }
    if let Some(after) = after {
        query = query.filter(watches::id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

pub fn update(conn: &mut DbConnection, row: &WatchRow) -> AppResult<()> {
    diesel::update(watches::table.find(&row.id))
        .set((
            watches::name.eq(&row.name),
            watches::description.eq(&row.description),
            watches::timezone.eq(&row.timezone),
            watches::starts_on.eq(row.starts_on),
            watches::ends_on.eq(row.ends_on),
            watches::slot_minutes.eq(row.slot_minutes),
            watches::day_start.eq(row.day_start),
            watches::day_end.eq(row.day_end),
            watches::min_per_slot.eq(row.min_per_slot),
            watches::max_per_slot.eq(row.max_per_slot),
            watches::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    diesel::delete(watches::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn has_signups(conn: &mut DbConnection, watch_id: &str) -> AppResult<bool> {
    let n: i64 = watch_signups::table
        .filter(watch_signups::watch_id.eq(watch_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Held slots starting in `[from, to)`: `(slot_start, member_id)`, in order.
pub fn held_between(
    conn: &mut DbConnection,
    watch_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<(NaiveDateTime, String, String)>> {
    // Names come with the rows: a second query with an `IN` list of every holder of the week was
    // prepared afresh each time (diesel caches no `IN` list on SQLite).
    Ok(watch_signup_slots::table
        .inner_join(members::table.on(members::id.eq(watch_signup_slots::member_id)))
        .filter(watch_signup_slots::watch_id.eq(watch_id))
        .filter(watch_signup_slots::slot_start.ge(from))
        .filter(watch_signup_slots::slot_start.lt(to))
        .filter(not_blocked_out())
        .select((
            watch_signup_slots::slot_start,
            watch_signup_slots::member_id,
            members::display_name,
        ))
        .order(watch_signup_slots::slot_start.asc())
        .load(conn)?)
}

/// How many hold each slot starting in `[from, to)`, blocked-out holdings not counted.
///
/// Every holding is counted in one grouped query, then the few blockouts reaching into the range
/// are read, the holdings of their members in the range after them, and the blocked-out ones are
/// taken off in memory. A `NOT EXISTS (blockout)` filter on the grouped query had SQLite probe the
/// blockouts once per holding: a year of a 24/7 watch with 5,000 signups is ~30,000 holdings, and
/// its coverage went from 6.5 ms to 20 ms p50 (`cargo bench --bench coverage`, docs/benchmarks.md).
pub fn counts_between(
    conn: &mut DbConnection,
    watch_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<HashMap<NaiveDateTime, i64>> {
    let in_range = watch_signup_slots::watch_id
        .eq(watch_id.to_string())
        .and(watch_signup_slots::slot_start.ge(from))
        .and(watch_signup_slots::slot_start.lt(to));
    let mut counts: HashMap<NaiveDateTime, i64> = watch_signup_slots::table
        .filter(in_range.clone())
        .group_by(watch_signup_slots::slot_start)
        .select((watch_signup_slots::slot_start, diesel::dsl::count_star()))
        .load::<(NaiveDateTime, i64)>(conn)?
        .into_iter()
        .collect();
    let away: Vec<(String, NaiveDateTime, NaiveDateTime)> = blockouts::table
        .filter(blockouts::starts_at.lt(to))
        .filter(blockouts::ends_at.gt(from))
        .select((
            blockouts::member_id,
            blockouts::starts_at,
            blockouts::ends_at,
        ))
        .load(conn)?;
    if away.is_empty() {
        return Ok(counts);
    }
    let mut members: Vec<&String> = away.iter().map(|(m, _, _)| m).collect();
    members.sort();
    members.dedup();
    let held: Vec<(String, NaiveDateTime, NaiveDateTime)> = watch_signup_slots::table
        .filter(in_range)
        .filter(watch_signup_slots::member_id.eq_any(members))
        .select((
            watch_signup_slots::member_id,
            watch_signup_slots::slot_start,
            watch_signup_slots::slot_end,
        ))
        .load(conn)?;
    for (member, start, end) in held {
        let blocked = away
            .iter()
            .any(|(m, s, e)| *m == member && *s < end && *e > start);
        if let (true, Some(count)) = (blocked, counts.get_mut(&start)) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&start);
            }
        }
    }
    Ok(counts)
}

/// How many hold each of the given slots.
pub fn counts_at(
    conn: &mut DbConnection,
    watch_id: &str,
    starts: &[NaiveDateTime],
) -> AppResult<HashMap<NaiveDateTime, i64>> {
    let mut out = HashMap::new();
    // Chunked so a year of weekly slots stays well under any bind-parameter limit.
    for chunk in starts.chunks(500) {
        let rows: Vec<(NaiveDateTime, i64)> = watch_signup_slots::table
            .filter(watch_signup_slots::watch_id.eq(watch_id))
            .filter(watch_signup_slots::slot_start.eq_any(chunk))
            .group_by(watch_signup_slots::slot_start)
            .select((watch_signup_slots::slot_start, diesel::dsl::count_star()))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// The slots `member_id` already holds on the watch, with the signup holding each.
pub fn held_by(
    conn: &mut DbConnection,
    watch_id: &str,
    member_id: &str,
) -> AppResult<HashMap<NaiveDateTime, String>> {
    Ok(watch_signup_slots::table
        .filter(watch_signup_slots::watch_id.eq(watch_id))
        .filter(watch_signup_slots::member_id.eq(member_id))
        .select((
            watch_signup_slots::slot_start,
            watch_signup_slots::signup_id,
        ))
        .load::<(NaiveDateTime, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn insert_signup(
    conn: &mut DbConnection,
    row: &SignupRow,
    held: &[HeldSlotRow],
) -> AppResult<()> {
    diesel::insert_into(watch_signups::table)
        .values(row)
        .execute(conn)?;
    // Batch inserts are backend-specific in diesel: hand each backend its own connection.
    for chunk in held.chunks(200) {
        match conn {
            DbConnection::Postgresql(pg) => diesel::insert_into(watch_signup_slots::table)
                .values(chunk)
                .execute(pg)?,
            DbConnection::Sqlite(lite) => diesel::insert_into(watch_signup_slots::table)
                .values(chunk)
                .execute(lite)?,
        };
    }
    Ok(())
}

pub fn find_signup(conn: &mut DbConnection, watch_id: &str, id: &str) -> AppResult<SignupRow> {
    watch_signups::table
        .find(id)
        .filter(watch_signups::watch_id.eq(watch_id))
        .select(SignupRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Held-slot counts per signup, for the given signups.
pub fn slots_held(conn: &mut DbConnection, ids: &[String]) -> AppResult<HashMap<String, i64>> {
    Ok(watch_signup_slots::table
        .filter(watch_signup_slots::signup_id.eq_any(ids))
        .group_by(watch_signup_slots::signup_id)
        .select((watch_signup_slots::signup_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

pub fn list_signups(
    conn: &mut DbConnection,
    watch_id: &str,
    member_id: Option<&str>,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<SignupRow>> {
    let mut query = watch_signups::table
        .filter(watch_signups::watch_id.eq(watch_id))
        .select(SignupRow::as_select())
        .order(watch_signups::id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(member_id) = member_id {
        query = query.filter(watch_signups::member_id.eq(member_id.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(watch_signups::id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// Gives up a signup's slots from `from` on; deletes the signup when none is left. Returns
/// whether the signup still exists.
pub fn release_from(
    conn: &mut DbConnection,
    signup: &SignupRow,
    from: NaiveDateTime,
    until: Option<chrono::NaiveDate>,
) -> AppResult<bool> {
    diesel::delete(
        watch_signup_slots::table
            .filter(watch_signup_slots::signup_id.eq(&signup.id))
            .filter(watch_signup_slots::slot_start.ge(from)),
    )
    .execute(conn)?;
    let left: i64 = watch_signup_slots::table
        .filter(watch_signup_slots::signup_id.eq(&signup.id))
        .count()
        .get_result(conn)?;
    if left == 0 {
        diesel::delete(watch_signups::table.find(&signup.id)).execute(conn)?;
        return Ok(false);
    }
    diesel::update(watch_signups::table.find(&signup.id))
        .set(watch_signups::until.eq(until))
        .execute(conn)?;
    Ok(true)
}

/// The occurrences `signup_id` holds starting in `[from, to]`.
pub fn held_of_signup(
    conn: &mut DbConnection,
    signup_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<HeldSlotRow>> {
    Ok(watch_signup_slots::table
        .filter(watch_signup_slots::signup_id.eq(signup_id))
        .filter(watch_signup_slots::slot_start.gt(from))
        .filter(watch_signup_slots::slot_start.le(to))
        .select(HeldSlotRow::as_select())
        .load(conn)?)
}

/// Whether `member_id` holds the slot, through any signup.
pub fn holds(
    conn: &mut DbConnection,
    watch_id: &str,
    member_id: &str,
    slot_start: NaiveDateTime,
) -> AppResult<bool> {
    let n: i64 = watch_signup_slots::table
        .filter(watch_signup_slots::watch_id.eq(watch_id))
        .filter(watch_signup_slots::member_id.eq(member_id))
        .filter(watch_signup_slots::slot_start.eq(slot_start))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Records a check-in, or replaces the note of an earlier one; true when it is new.
pub fn upsert_check_in(conn: &mut DbConnection, row: &CheckInRow) -> AppResult<(bool, CheckInRow)> {
    let existing: Option<CheckInRow> = watch_check_ins::table
        .filter(watch_check_ins::watch_id.eq(&row.watch_id))
        .filter(watch_check_ins::member_id.eq(&row.member_id))
        .filter(watch_check_ins::slot_start.eq(row.slot_start))
        .select(CheckInRow::as_select())
        .first(conn)
        .optional()?;
    match existing {
        Some(old) => {
            diesel::update(watch_check_ins::table.find(&old.id))
                .set(watch_check_ins::note.eq(&row.note))
                .execute(conn)?;
            Ok((
                false,
                CheckInRow {
                    note: row.note.clone(),
                    ..old
                },
            ))
        }
        None => {
            diesel::insert_into(watch_check_ins::table)
                .values(row)
                .execute(conn)?;
            Ok((true, row.clone()))
        }
    }
}

/// Members checked in for a slot.
pub fn checked_in(
    conn: &mut DbConnection,
    watch_id: &str,
    slot_start: NaiveDateTime,
) -> AppResult<Vec<String>> {
    Ok(watch_check_ins::table
        .filter(watch_check_ins::watch_id.eq(watch_id))
        .filter(watch_check_ins::slot_start.eq(slot_start))
        .select(watch_check_ins::member_id)
        .load(conn)?)
}

/// A member's held slots on every watch, starting in `[from, to)`.
pub fn member_slots_between(
    conn: &mut DbConnection,
    member_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<HeldSlotRow>> {
    Ok(watch_signup_slots::table
        .filter(watch_signup_slots::member_id.eq(member_id))
        .filter(watch_signup_slots::slot_start.ge(from))
        .filter(watch_signup_slots::slot_start.lt(to))
        .filter(not_blocked_out())
        .select(HeldSlotRow::as_select())
        .order(watch_signup_slots::slot_start.asc())
        .load(conn)?)
}

/// A member's check-ins among the given watches' slots.
pub fn member_check_ins(
    conn: &mut DbConnection,
    member_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<(String, NaiveDateTime)>> {
    Ok(watch_check_ins::table
        .filter(watch_check_ins::member_id.eq(member_id))
        .filter(watch_check_ins::slot_start.ge(from))
        .filter(watch_check_ins::slot_start.lt(to))
        .select((watch_check_ins::watch_id, watch_check_ins::slot_start))
        .load(conn)?)
}

pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<WatchRow>> {
    Ok(watches::table
        .filter(watches::id.eq_any(ids))
        .select(WatchRow::as_select())
        .load(conn)?)
}

/// All signups of a member, with their held slots (for the calendar feed).
pub fn member_signups(
    conn: &mut DbConnection,
    member_id: &str,
) -> AppResult<Vec<(SignupRow, Vec<HeldSlotRow>)>> {
    let signups: Vec<SignupRow> = watch_signups::table
        .filter(watch_signups::member_id.eq(member_id))
        .select(SignupRow::as_select())
        .order(watch_signups::id.asc())
        .load(conn)?;
    let ids: Vec<String> = signups.iter().map(|s| s.id.clone()).collect();
    let mut held: HashMap<String, Vec<HeldSlotRow>> = HashMap::new();
    for row in watch_signup_slots::table
        .filter(watch_signup_slots::signup_id.eq_any(&ids))
        .filter(not_blocked_out())
        .select(HeldSlotRow::as_select())
        .order(watch_signup_slots::slot_start.asc())
        .load::<HeldSlotRow>(conn)?
    {
        held.entry(row.signup_id.clone()).or_default().push(row);
    }
    Ok(signups
        .into_iter()
        .map(|s| {
            let slots = held.remove(&s.id).unwrap_or_default();
            (s, slots)
        })
        .collect())
}
