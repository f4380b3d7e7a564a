//! `intercede seed`: fills a database with a realistic church at a chosen scale, for benchmarks
//! and demos. Rows are written in batches (a thousand a statement, a transaction a batch), so a
//! million requests take minutes, not hours.
//!
//! Everyone's password is `seed password`. Member 0 (`admin@seed.example`) is an admin, members 1
//! to 10 are leaders, the rest members (`m{n}@seed.example`).

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::accounts::model::{search_key, MemberRow};
use crate::assignments::model::{AssignmentRow, AssignmentStatus};
use crate::auth::roles::Role;
use crate::db::schema::{
    assignments, fast_check_ins, fast_focus, fast_participants, fasts, members, prayer_requests,
    prayers, team_members, teams,
};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::fasts::model::{CheckInRow, FastRow, FastType, FocusRow, Kept, ParticipantRow};
use crate::prayer_requests::model::{
    Kind, NewRequestRow, PrayerRow, RequestRow, Status, Visibility,
};
use crate::teams::model::{TeamMemberRow, TeamRole, TeamRow};
use crate::watches::model::{HeldSlotRow, SignupRow, WatchRow};

pub const PASSWORD: &str = "seed password";
const BATCH: usize = 1000;

/// How big a church to make.
#[derive(Debug, Clone)]
pub struct Scale {
    pub requests: usize,
    pub members: usize,
    /// Prayers per request, on average.
    pub prayers_per_request: usize,
    pub watch_signups: usize,
}

impl Scale {
    pub fn for_requests(requests: usize) -> Self {
        Scale {
            requests,
            members: (requests / 100).clamp(50, 20_000),
            prayers_per_request: 2,
            watch_signups: 5_000,
        }
    }
}

/// Inserts rows in batches, each backend with its own batch insert (MultiConnection has none).
macro_rules! insert_batches {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(BATCH) {
            $conn.transaction::<_, AppError, _>(|c| {
                match c {
                    DbConnection::Postgresql(pg) => {
                        diesel::insert_into($table).values(chunk).execute(pg)?
                    }
                    DbConnection::Sqlite(lite) => {
                        diesel::insert_into($table).values(chunk).execute(lite)?
                    }
                };
                Ok(())
            })?;
        }
    };
}

/// What was made, for the operator and the benchmark scripts.
#[derive(Debug)]
pub struct Seeded {
    pub members: usize,
    pub requests: usize,
    pub prayers: usize,
    pub watch_id: String,
    pub fast_id: String,
}

pub fn seed(conn: &mut DbConnection, scale: &Scale, now: NaiveDateTime) -> AppResult<Seeded> {
    let existing: i64 = members::table.count().get_result(conn)?;
    if existing > 0 {
        return Err(AppError::conflict(
            ProblemType::NotEmpty,
            "The database already has members: seed an empty one.",
        ));
    }
    let mut rng = StdRng::seed_from_u64(2026);
    let hash = crate::auth::passwords::hash(PASSWORD)?;

    let member_rows: Vec<MemberRow> = (0..scale.members)
        .map(|i| {
            let (email, role) = match i {
                0 => ("admin@seed.example".to_string(), Role::Admin),
                1..=10 => (format!("m{i}@seed.example"), Role::Leader),
                _ => (format!("m{i}@seed.example"), Role::Member),
            };
            let name = format!("Member {i}");
            MemberRow {
                id: uuid::Uuid::now_v7().to_string(),
                search_key: search_key(&name, &email),
                email,
                display_name: name,
                password_hash: hash.clone(),
                role,
                active: true,
                timezone: "America/New_York".into(),
                max_active_assignments: (i % 3 == 0).then_some(5),
                created_at: now,
                updated_at: now,
            }
        })
        .collect();
    insert_batches!(conn, members::table, &member_rows);
    let ids: Vec<&String> = member_rows.iter().map(|m| &m.id).collect();

    let team_rows: Vec<TeamRow> = (0..10)
        .map(|i| TeamRow {
            id: uuid::Uuid::now_v7().to_string(),
            name: format!("Team {i}"),
            name_key: format!("team {i}"),
            description: None,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        })
        .collect();
    insert_batches!(conn, teams::table, &team_rows);
    let memberships: Vec<TeamMemberRow> = ids
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, id)| TeamMemberRow {
            team_id: team_rows[i % team_rows.len()].id.clone(),
            member_id: (*id).clone(),
            team_role: if i <= 20 {
                TeamRole::Leader
            } else {
                TeamRole::Member
            },
            joined_at: now,
        })
        .collect();
    insert_batches!(conn, team_members::table, &memberships);

    let categories: Vec<String> = crate::db::schema::categories::table
        .select(crate::db::schema::categories::id)
        .load(conn)?;
    let visibilities = [
        Visibility::Congregation,
        Visibility::Congregation,
        Visibility::Team,
        Visibility::Leaders,
    ];
    let statuses = [
        Status::Active,
        Status::Active,
        Status::Active,
        Status::Active,
        Status::Answered,
        Status::Closed,
        Status::Pending,
    ];
    let mut made_requests = 0;
    let mut made_prayers = 0;
    let mut start = 0;
    while start < scale.requests {
        let end = (start + BATCH * 10).min(scale.requests);
        let mut request_rows = Vec::with_capacity(end - start);
        let mut prayer_rows = Vec::new();
        let mut assignment_rows = Vec::new();
        for i in start..end {
            let created = now - Duration::minutes(((scale.requests - i) * 3) as i64);
            let id = uuid::Uuid::now_v7().to_string();
            let n_prayers = rng.random_range(0..=scale.prayers_per_request * 2);
            let mut last = None;
            for p in 0..n_prayers {
                let at = now - Duration::hours(rng.random_range(0..24 * 30));
                last = last.max(Some(at));
                prayer_rows.push(PrayerRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    request_id: id.clone(),
                    member_id: Some(ids[(i + p * 7) % ids.len()].clone()),
                    note: None,
                    anonymous: p % 5 == 0,
                    created_at: at,
                });
            }
            if i % 10 == 0 {
                assignment_rows.push(AssignmentRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    request_id: id.clone(),
                    team_id: Some(team_rows[i % team_rows.len()].id.clone()),
                    member_id: (i % 20 == 0).then(|| ids[i % ids.len()].clone()),
                    status: AssignmentStatus::Assigned,
                    reason: None,
                    assigned_by: Some(ids[1].clone()),
                    created_at: created,
                    updated_at: created,
                });
            }
            let title = format!("Request {i}: healing and strength");
            let body = format!("Please pray for situation number {i} in our family and church.");
            request_rows.push(NewRequestRow::from(RequestRow {
                id,
                title,
                body,
                category_id: categories[i % categories.len()].clone(),
                kind: Kind::Prayer,
                on_behalf_of: None,
                visibility: visibilities[i % visibilities.len()],
                urgent: i % 50 == 0,
                anonymous: i % 7 == 0,
                allow_comments: i % 3 == 0,
                status: statuses[i % statuses.len()],
                expires_on: (created + Duration::days(30)).date().max(now.date()),
                prayer_count: n_prayers as i64,
                intercessor_count: n_prayers as i64,
                last_prayed_at: last,
                requester_id: Some(ids[i % ids.len()].clone()),
                submitter_name: None,
                submitter_email: None,
                flagged: false,
                flag_reason: None,
                flagged_at: None,
                rejection_reason: None,
                answered_at: None,
                testimony: None,
                share_testimony: false,
                created_at: created,
                updated_at: created,
            }));
        }
        insert_batches!(conn, prayer_requests::table, &request_rows);
        insert_batches!(conn, prayers::table, &prayer_rows);
        insert_batches!(conn, assignments::table, &assignment_rows);
        // Distinct intercessors are not tracked row by row here: counts are set on the request.
        made_requests += request_rows.len();
        made_prayers += prayer_rows.len();
        start = end;
    }

    let watch_id = seed_watch(conn, &ids, scale.watch_signups, now, &mut rng)?;
    seed_blockouts(conn, &ids, now, &mut rng)?;
    let fast_id = seed_fast(conn, &ids, now, &mut rng)?;
    // PostgreSQL's autovacuum gathers statistics and marks pages all-visible after bulk writes,
    // but only in its own time (and not at all where it is turned off, as on this project's test
    // machines). A benchmark that starts at once would measure plans made without statistics, and
    // index-only scans that visit the heap for every row: a year's coverage took 25-28 ms p50
    // instead of 16-19 (18,480 heap fetches in its grouped count; docs/benchmarks.md, #19). A
    // church's database in service has been vacuumed; this seeds that state.
    if let DbConnection::Postgresql(pg) = conn {
        diesel::connection::SimpleConnection::batch_execute(pg, "VACUUM ANALYZE")?;
    }
    Ok(Seeded {
        members: member_rows.len(),
        requests: made_requests,
        prayers: made_prayers,
        watch_id,
        fast_id,
    })
}

/// A year-long 24/7 hourly watch in New York from the start of next year, with `signups`
/// signups (one in ten weekly for a year).
fn seed_watch(
    conn: &mut DbConnection,
    members: &[&String],
    signups: usize,
    now: NaiveDateTime,
    rng: &mut StdRng,
) -> AppResult<String> {
    use chrono::Datelike;
    let year = now.date().year() + 1;
    let watch = WatchRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: "24/7 prayer room".into(),
        description: None,
        team_id: None,
        timezone: "America/New_York".into(),
        starts_on: NaiveDate::from_ymd_opt(year, 1, 1).expect("a date"),
        ends_on: NaiveDate::from_ymd_opt(year, 12, 31),
        slot_minutes: 60,
        day_start: 0,
        day_end: 1440,
        min_per_slot: 1,
        max_per_slot: None,
        created_by: None,
        created_at: now,
        updated_at: now,
    };
    crate::watches::store::insert(conn, &watch)?;
    let schedule = watch.schedule()?;
    let slots = schedule.slots(
        watch.starts_on,
        NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("a date"),
    );
    let mut taken = std::collections::HashSet::new();
    let mut made = 0;
    while made < signups && !slots.is_empty() {
        let member = members[rng.random_range(0..members.len())];
        let first = slots[rng.random_range(0..slots.len())];
        let weekly = made % 10 == 0;
        let held: Vec<_> = if weekly {
            (0..52)
                .filter_map(|w| schedule.weekly(&first, w))
                .filter(|s| taken.insert((member.clone(), s.start)))
                .collect()
        } else if taken.insert((member.clone(), first.start)) {
            vec![first]
        } else {
            continue;
        };
        if held.is_empty() {
            continue;
        }
        let signup = SignupRow {
            id: uuid::Uuid::now_v7().to_string(),
            watch_id: watch.id.clone(),
            member_id: member.clone(),
            slot_start: first.start.naive_utc(),
            repeat_weekly: weekly,
            until: weekly.then(|| first.day + Duration::weeks(51)),
            created_at: now,
        };
        let rows: Vec<HeldSlotRow> = held
            .iter()
            .map(|s| HeldSlotRow {
                signup_id: signup.id.clone(),
                watch_id: watch.id.clone(),
                member_id: member.clone(),
                slot_start: s.start.naive_utc(),
                slot_end: s.end.naive_utc(),
            })
            .collect();
        crate::watches::store::insert_signup(conn, &signup, &rows)?;
        made += 1;
    }
    Ok(watch.id)
}

/// Blockouts: a tenth of the members (at most 500) away for three days somewhere in the watch's
/// year, so that what counts holding (coverage, slots, reminders) is measured with them.
fn seed_blockouts(
    conn: &mut DbConnection,
    members: &[&String],
    now: NaiveDateTime,
    rng: &mut StdRng,
) -> AppResult<()> {
    use crate::db::schema::blockouts;
    use chrono::Datelike;
    let year_start = NaiveDate::from_ymd_opt(now.date().year() + 1, 1, 1)
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("a time");
    conn.transaction::<_, AppError, _>(|c| {
        for member in members.iter().step_by(10).take(500) {
            let starts = year_start + Duration::hours(rng.random_range(0..360 * 24));
            diesel::insert_into(blockouts::table)
                .values((
                    blockouts::id.eq(uuid::Uuid::now_v7().to_string()),
                    blockouts::member_id.eq(*member),
                    blockouts::starts_at.eq(starts),
                    blockouts::ends_at.eq(starts + Duration::days(3)),
                    blockouts::reason.eq(None::<String>),
                    blockouts::created_at.eq(now),
                ))
                .execute(c)?;
        }
        Ok(())
    })
}

/// A church-wide 21-day Daniel fast that began ten days ago, with a focus for every day, a fifth
/// of the members (at most 2,000) taking part, and their check-ins for the days gone by.
fn seed_fast(
    conn: &mut DbConnection,
    members: &[&String],
    now: NaiveDateTime,
    rng: &mut StdRng,
) -> AppResult<String> {
    let days = 21;
    let fast = FastRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: "21-day Daniel fast".into(),
        description: Some("Vegetables, water, and prayer for revival.".into()),
        fast_type: FastType::Daniel,
        starts_on: now.date() - Duration::days(10),
        days,
        timezone: "America/New_York".into(),
        team_id: None,
        min_per_day: None,
        created_by: members.get(1).map(|id| (*id).clone()),
        created_at: now,
        updated_at: now,
    };
    insert_batches!(conn, fasts::table, std::slice::from_ref(&fast));
    let focus: Vec<FocusRow> = (1..=days)
        .map(|day| FocusRow {
            fast_id: fast.id.clone(),
            day,
            title: format!("Day {day}: revival in our city"),
            scripture: Some("2 Chronicles 7:14".into()),
            prayer_points: r#"["humility","the sick","our young people"]"#.into(),
        })
        .collect();
    insert_batches!(conn, fast_focus::table, &focus);
    let taking_part: Vec<&String> = members.iter().step_by(5).take(2_000).copied().collect();
    let participants: Vec<ParticipantRow> = taking_part
        .iter()
        .map(|id| ParticipantRow {
            fast_id: fast.id.clone(),
            member_id: (*id).clone(),
            fast_type: FastType::Daniel,
            all_days: true,
            joined_at: now - Duration::days(11),
            updated_at: now - Duration::days(11),
        })
        .collect();
    insert_batches!(conn, fast_participants::table, &participants);
    let kept = [Kept::Yes, Kept::Yes, Kept::Yes, Kept::Partial, Kept::No];
    let check_ins: Vec<CheckInRow> = taking_part
        .iter()
        .flat_map(|id| (1..=10).map(move |day| (id, day)))
        .filter(|_| rng.random_range(0..10) < 8)
        .map(|(id, day)| CheckInRow {
            fast_id: fast.id.clone(),
            member_id: (*id).clone(),
            day,
            kept: kept[(day as usize) % kept.len()],
            note: None,
            created_at: now - Duration::days(i64::from(11 - day)),
            updated_at: now - Duration::days(i64::from(11 - day)),
        })
        .collect();
    insert_batches!(conn, fast_check_ins::table, &check_ins);
    Ok(fast.id)
}
