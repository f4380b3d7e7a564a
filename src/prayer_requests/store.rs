//! Queries on prayer requests, prayers, updates and comments. Every read of requests goes through
//! [`visible_to`], so the visibility rule cannot be forgotten in one of them.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::dsl::exists;
use diesel::prelude::*;

use super::model::{
    Kind, NewRequestRow, PostRow, PrayerRow, RequestChanges, RequestRow, Sort, Status, Thread,
};
use super::visibility::{assigned_to, assigned_to_team, visible_to, visible_to_member, Viewer};
use crate::auth::Role;
use crate::db::schema::{
    categories, members, prayer_requests, prayers, request_comments, request_intercessors,
    request_updates,
};
use crate::db::{in_ids, DbConnection, MultiBackend};
use crate::error::{AppError, AppResult};

pub fn insert(conn: &mut DbConnection, row: &RequestRow) -> AppResult<()> {
    diesel::insert_into(prayer_requests::table)
        .values(NewRequestRow::from(row.clone()))
        .execute(conn)?;
    Ok(())
}

/// Runs a request-by-id query as `viewer` may see it: whole for a leader, narrowed by the
/// member's rule otherwise; 404 when nothing is left, exactly as if the request did not exist.
/// Two statically typed statements rather than one with a boxed condition: diesel then reuses
/// each prepared statement without rebuilding its SQL (reading one request is the most frequent
/// read).
macro_rules! first_visible {
    ($conn:expr, $viewer:expr, $by_id:expr) => {{
        let by_id = $by_id;
        let row = if $viewer.leader {
            by_id.first($conn).optional()?
        } else {
            by_id
                .filter(visible_to_member($viewer))
                .first($conn)
                .optional()?
        };
        row.ok_or(AppError::NotFound)
    }};
}

/// The request, if `viewer` may see it; otherwise 404, exactly as if it did not exist.
pub fn find_visible(conn: &mut DbConnection, viewer: &Viewer, id: &str) -> AppResult<RequestRow> {
    first_visible!(
        conn,
        viewer,
        prayer_requests::table
            .find(id)
            .select(RequestRow::as_select())
    )
}

/// What [`find_visible_to_caller`] reads: the request, its category's name, its requester's
/// display name, and the caller's role while their account is active.
pub type SeenByCaller = (RequestRow, String, Option<String>, Option<Role>);

/// One request as GET by id shows it, with the caller read in the same statement: the request
/// if the caller may see it, with what rendering it needs besides (its category's name, its
/// requester's display name: whether the reader may see that name is decided when rendering),
/// and the caller's role while their account is active (`None` once it is not: 401). `Ok(None)`
/// when the caller may not see it or it does not exist; the caller is then still to be checked.
///
/// One statement instead of two (the caller's profile, then the request): the visibility rule
/// is "the caller is an active leader" (uncorrelated: PostgreSQL evaluates it once per
/// statement) or the member's rule; caller and request are read in one snapshot. Measured
/// (docs/benchmarks.md, "GET by id in one statement"): on PostgreSQL +17% for a member, +33% for
/// a leader; with prepared statements off (behind pgbouncer 1.18) +23% for a member and -15% for
/// a leader, who now plans the member's rule too; on SQLite within the noise.
///
/// The names are scalar subqueries, not joins: PostgreSQL plans a three-table join with the
/// visibility subquery in half again the time it plans this (0.22 against 0.145 ms, warm), and
/// behind pgbouncer, where statements are not prepared, every GET by id is planned anew
/// (docs/benchmarks.md, #20: with the visibility probe's change, GET by id +51% unprepared).
pub fn find_visible_to_caller(
    conn: &mut DbConnection,
    caller_id: &str,
    id: &str,
) -> AppResult<Option<SeenByCaller>> {
    let as_member = Viewer {
        id: caller_id.to_string(),
        leader: false,
    };
    let active_caller = || {
        members::table
            .filter(members::id.eq(caller_id.to_string()))
            .filter(members::active.eq(true))
    };
    // Destructured: adding a role to the leaders or taking one away fails to compile here.
    let [leader, admin] = Role::LEADERS;
    let leads = active_caller()
        .filter(members::role.eq(leader).or(members::role.eq(admin)))
        .select(members::id);
    Ok(prayer_requests::table
        .find(id)
        .filter(exists(leads).or(visible_to_member(&as_member)))
        .select((
            RequestRow::as_select(),
            category_name(),
            requester_name(),
            active_caller().select(members::role).single_value(),
        ))
        .first(conn)
        .optional()?)
}

pub fn update(conn: &mut DbConnection, id: &str, changes: &RequestChanges) -> AppResult<()> {
    diesel::update(prayer_requests::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

/// Reads a request back after a change, without the visibility filter: the caller was allowed to
/// make the change, and a leader's rejection must still show the requester the result.
pub fn get(conn: &mut DbConnection, id: &str) -> AppResult<RequestRow> {
    Ok(prayer_requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)?)
}

/// Deletes the request (with its prayers, updates, comments and assignments, by foreign key)
/// and every notification about it.
pub fn delete(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    diesel::delete(prayer_requests::table.find(id)).execute(conn)?;
    crate::outbox::forget_requests(conn, &[id.to_string()])
}

/// Filters of a request list, already validated.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub category_id: Option<String>,
    pub kind: Option<Kind>,
    pub urgent: Option<bool>,
    pub mine: Option<bool>,
    pub flagged: Option<bool>,
    /// Lower-cased.
    pub q: Option<String>,
    /// Only requests live-assigned to the viewer by name.
    pub assigned_to_me: bool,
    /// Only requests live-assigned to this team (or to intercessors for it).
    pub team_id: Option<String>,
}

/// Where a page of a list starts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ListCursor {
    /// `newest`: the last id shown.
    Newest(String),
    /// `needs_prayer`: the last row's urgency, prayers in the last 7 days, and id.
    NeedsPrayer(bool, i64, String),
}

/// A listed request and its prayers in the last 7 days (counted only for `needs_prayer`).
pub struct Listed {
    pub row: RequestRow,
    /// The category's name, read with the row (no query of its own per page).
    pub category: String,
    /// Prayers in the last 7 days, on the `needs_prayer` list.
    pub recent: Option<i64>,
}

/// The name of a listed request's category, as a column of the list's own statement.
#[diesel::dsl::auto_type]
fn category_name() -> _ {
    categories::table
        .filter(categories::id.eq(prayer_requests::category_id))
        .select(categories::name)
        .single_value()
        .assume_not_null()
}

/// The display name of a request's requester (none for the public form's, or once erased).
#[diesel::dsl::auto_type]
fn requester_name() -> _ {
    members::table
        .filter(members::id.nullable().eq(prayer_requests::requester_id))
        .select(members::display_name)
        .single_value()
}

type Filtered = prayer_requests::BoxedQuery<'static, MultiBackend>;

/// What `viewer` may see, narrowed by `filter` (with `status` already decided).
fn filtered(
    viewer: &Viewer,
    filter: &ListFilter,
    status: Option<Status>,
    today: NaiveDate,
) -> Filtered {
    let mut query = prayer_requests::table
        .filter(visible_to(viewer))
        .into_boxed();
    query = match status {
        None => query,
        Some(Status::Active) => query
            .filter(prayer_requests::status.eq(Status::Active))
            .filter(prayer_requests::expires_on.ge(today)),
        Some(Status::Expired) => query
            .filter(prayer_requests::status.eq(Status::Active))
            .filter(prayer_requests::expires_on.lt(today)),
        Some(other) => query.filter(prayer_requests::status.eq(other)),
    };
    if let Some(category_id) = &filter.category_id {
        query = query.filter(prayer_requests::category_id.eq(category_id.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(prayer_requests::kind.eq(*kind));
    }
    if let Some(urgent) = filter.urgent {
        query = query.filter(prayer_requests::urgent.eq(urgent));
    }
    match filter.mine {
        Some(true) => {
            query = query.filter(
                prayer_requests::requester_id
                    .assume_not_null()
                    .eq(viewer.id.clone()),
            )
        }
        Some(false) => {
            query = query.filter(
                prayer_requests::requester_id
                    .is_null()
                    .or(prayer_requests::requester_id
                        .assume_not_null()
                        .ne(viewer.id.clone())),
            )
        }
        None => {}
    }
    if let Some(flagged) = filter.flagged {
        query = query.filter(prayer_requests::flagged.eq(flagged));
    }
    if filter.assigned_to_me {
        query = query.filter(assigned_to(&viewer.id));
    }
    if let Some(team_id) = &filter.team_id {
        query = query.filter(assigned_to_team(team_id));
    }
    if let Some(q) = &filter.q {
        query = query.filter(
            prayer_requests::search_text
                .like(crate::accounts::store::like_pattern(q))
                .escape('\\'),
        );
    }
    query
}

/// Lists what `viewer` may see, filtered, in `sort` order, starting after `after`.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &ListFilter,
    sort: Sort,
    after: Option<ListCursor>,
    fetch: i64,
    now: NaiveDateTime,
) -> AppResult<Vec<Listed>> {
    let today = now.date();
    match sort {
        Sort::Newest => {
            let mut query = filtered(viewer, filter, filter.status, today);
            if let Some(ListCursor::Newest(id)) = after {
                query = query.filter(prayer_requests::id.lt(id));
            }
            let query = query
                .select((RequestRow::as_select(), category_name()))
                .order(prayer_requests::id.desc())
                .limit(fetch);
            let rows: Vec<(RequestRow, String)> = query.load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(row, category)| Listed {
                    row,
                    category,
                    recent: None,
                })
                .collect())
        }
        Sort::NeedsPrayer => needs_prayer(conn, viewer, filter, after, fetch, now),
    }
}

/// The intercessor's prayer list: urgent first, then fewest prayers in the last 7 days, then
/// oldest. Active requests unless the filter names a status.
///
/// Counting recent prayers for every candidate would not scale, so each urgency tier is read in
/// two segments. A request whose `last_prayed_at` is older than 7 days (or never) has no recent
/// prayer: that "cold" segment is read in id order straight from an index. Only the "hot" segment,
/// requests prayed for in the last 7 days (bounded by the week's prayers, not by the size of the
/// church), has its prayers counted. Segments are read in order until the page is full.
fn needs_prayer(
    conn: &mut DbConnection,
    viewer: &Viewer,
    filter: &ListFilter,
    after: Option<ListCursor>,
    fetch: i64,
    now: NaiveDateTime,
) -> AppResult<Vec<Listed>> {
    let today = now.date();
    let status = filter.status.or(Some(Status::Active));
    let cutoff = now - Duration::days(7);
    let recent = || {
        prayers::table
            .filter(prayers::request_id.eq(prayer_requests::id))
            .filter(prayers::created_at.ge(cutoff))
            .count()
            .single_value()
            .assume_not_null()
    };
    // (urgent, hot) in list order; the cursor says which segment a page resumes in.
    let segments = [(true, false), (true, true), (false, false), (false, true)];
    let (start, resume) = match after {
        Some(ListCursor::NeedsPrayer(urgent, count, id)) => {
            let hot = count > 0;
            let at = segments
                .iter()
                .position(|s| *s == (urgent, hot))
                .unwrap_or(0);
            (at, Some((count, id)))
        }
        _ => (0, None),
    };
    let mut rows: Vec<Listed> = Vec::new();
    for (i, &(urgent, hot)) in segments.iter().enumerate().skip(start) {
        let wanted = fetch - rows.len() as i64;
        if wanted <= 0 {
            break;
        }
        let resume_here = if i == start { resume.clone() } else { None };
        let query =
            filtered(viewer, filter, status, today).filter(prayer_requests::urgent.eq(urgent));
        if hot {
            let mut query = query.filter(prayer_requests::last_prayed_at.ge(cutoff));
            if let Some((count, id)) = resume_here {
                query = query.filter(
                    recent()
                        .gt(count)
                        .or(recent().eq(count).and(prayer_requests::id.gt(id))),
                );
            }
            let query = query
                .select((RequestRow::as_select(), category_name(), recent()))
                .order((recent().asc(), prayer_requests::id.asc()))
                .limit(wanted);
            let found: Vec<(RequestRow, String, i64)> = query.load(conn)?;
            rows.extend(found.into_iter().map(|(row, category, n)| Listed {
                row,
                category,
                recent: Some(n),
            }));
        } else {
            let mut query = query.filter(
                prayer_requests::last_prayed_at
                    .is_null()
                    .or(prayer_requests::last_prayed_at.lt(cutoff)),
            );
            if let Some((_, id)) = resume_here {
                query = query.filter(prayer_requests::id.gt(id));
            }
            let query = query
                .select((RequestRow::as_select(), category_name()))
                .order(prayer_requests::id.asc())
                .limit(wanted);
            let found: Vec<(RequestRow, String)> = query.load(conn)?;
            rows.extend(found.into_iter().map(|(row, category)| Listed {
                row,
                category,
                recent: Some(0),
            }));
        }
    }
    Ok(rows)
}

/// The given requests that `viewer` may see (others are left out, as if they did not exist).
pub fn visible_among(
    conn: &mut DbConnection,
    viewer: &Viewer,
    ids: &[String],
) -> AppResult<Vec<RequestRow>> {
    Ok(prayer_requests::table
        .filter(in_ids(prayer_requests::id, ids))
        .filter(visible_to(viewer))
        .select(RequestRow::as_select())
        .load(conn)?)
}

/// Prayers logged since `since` for each of the given requests, in one query.
pub fn prayers_since(
    conn: &mut DbConnection,
    ids: &[String],
    since: NaiveDateTime,
) -> AppResult<std::collections::HashMap<String, i64>> {
    Ok(prayers::table
        .filter(in_ids(prayers::request_id, ids))
        .filter(prayers::created_at.ge(since))
        .group_by(prayers::request_id)
        .select((prayers::request_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Records one "I prayed": the prayer row, the distinct intercessor (once), and the counters,
/// each an atomic update so that simultaneous prayers all count.
pub fn record_prayer(conn: &mut DbConnection, row: &PrayerRow, member_id: &str) -> AppResult<()> {
    diesel::insert_into(prayers::table)
        .values(row)
        .execute(conn)?;
    let first_time = insert_intercessor(conn, &row.request_id, member_id, row.created_at)?;
    diesel::update(prayer_requests::table.find(&row.request_id))
        .set((
            prayer_requests::prayer_count.eq(prayer_requests::prayer_count + 1),
            prayer_requests::intercessor_count
                .eq(prayer_requests::intercessor_count + i64::from(first_time)),
            prayer_requests::last_prayed_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// True when this is the member's first prayer for the request. The primary key decides, so two
/// simultaneous first prayers by one member count once.
fn insert_intercessor(
    conn: &mut DbConnection,
    request_id: &str,
    member_id: &str,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let values = (
        request_intercessors::request_id.eq(request_id),
        request_intercessors::member_id.eq(member_id),
        request_intercessors::first_prayed_at.eq(at),
    );
    let inserted = match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(request_intercessors::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(lite) => diesel::insert_or_ignore_into(request_intercessors::table)
            .values(values)
            .execute(lite)?,
    };
    Ok(inserted == 1)
}

pub fn list_prayers(
    conn: &mut DbConnection,
    request_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<PrayerRow>> {
    let mut query = prayers::table
        .filter(prayers::request_id.eq(request_id))
        .select(PrayerRow::as_select())
        .order(prayers::id.desc())
        .limit(fetch)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(prayers::id.lt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// Adds an update or a comment.
pub fn insert_post(conn: &mut DbConnection, thread: Thread, row: &PostRow) -> AppResult<()> {
    macro_rules! insert_into {
        ($t:ident) => {
            diesel::insert_into($t::table)
                .values((
                    $t::id.eq(&row.id),
                    $t::request_id.eq(&row.request_id),
                    $t::author_id.eq(&row.author_id),
                    $t::body.eq(&row.body),
                    $t::created_at.eq(row.created_at),
                ))
                .execute(conn)?
        };
    }
    match thread {
        Thread::Updates => insert_into!(request_updates),
        Thread::Comments => insert_into!(request_comments),
    };
    Ok(())
}

/// A page of a request's updates or comments, oldest first (ids are time-ordered).
pub fn list_posts(
    conn: &mut DbConnection,
    thread: Thread,
    request_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<PostRow>> {
    macro_rules! page_of {
        ($t:ident) => {{
            let mut query = $t::table
                .filter($t::request_id.eq(request_id))
                .select((
                    $t::id,
                    $t::request_id,
                    $t::author_id,
                    $t::body,
                    $t::created_at,
                ))
                .order($t::id.asc())
                .limit(fetch)
                .into_boxed();
            if let Some(after) = after {
                query = query.filter($t::id.gt(after.to_string()));
            }
            query.load(conn)?
        }};
    }
    Ok(match thread {
        Thread::Updates => page_of!(request_updates),
        Thread::Comments => page_of!(request_comments),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use diesel::connection::{Connection, InstrumentationEvent};

    use super::*;
    use crate::db::testing::fresh;

    fn prayer(n: u32, request_id: &str) -> PrayerRow {
        PrayerRow {
            id: format!("prayer-{n}-{request_id}"),
            request_id: request_id.into(),
            member_id: Some(format!("member-{n}")),
            note: (n % 2 == 0).then(|| "a word".to_string()),
            anonymous: n % 2 == 0,
            created_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
                .unwrap()
                .and_hms_opt(9, 0, n)
                .unwrap(),
        }
    }

    /// A prayer's inserts are prepared once per connection and reused: diesel reports a statement
    /// when it enters the cache, so over four prayers (first and repeated, with and without a
    /// note) each insert is reported once. (diesel prepares every `UPDATE` anew, by design.)
    #[test]
    fn a_prayer_prepares_each_of_its_statements_once() {
        let cached = Arc::new(Mutex::new(Vec::new()));
        let mut conn = fresh();
        // The statements are the subject here, not the rows they point to.
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "PRAGMA foreign_keys = OFF")
            .unwrap();
        let log = cached.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                log.lock().unwrap().push(sql.to_string());
            }
        });
        for (n, request) in [(1, "r1"), (2, "r1"), (1, "r2"), (2, "r2")] {
            record_prayer(&mut conn, &prayer(n, request), &format!("member-{n}")).unwrap();
        }
        let cached = cached.lock().unwrap().clone();
        let count = |prefix: &str| cached.iter().filter(|s| s.starts_with(prefix)).count();
        assert_eq!(count("INSERT INTO `prayers`"), 1, "{cached:#?}");
        assert_eq!(
            count("INSERT OR IGNORE INTO `request_intercessors`"),
            1,
            "{cached:#?}"
        );
    }
}
