//! Turning rows into what a given caller may read: anonymity, private notes and moderation
//! details are decided here, per viewer, in one place.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::model::{
    PersonRef, Post, PostRow, Prayer, PrayerRequest, PrayerRow, RequestRow, Visitor,
};
use super::visibility::Viewer;
use crate::accounts::store::display_names;
use crate::auth::AuthUser;
use crate::categories::store as categories;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::time::to_utc;

/// What building views needs beyond the rows: loaded once per response, never once per row.
pub struct Context {
    pub viewer: Viewer,
    pub today: NaiveDate,
    categories: HashMap<String, String>,
    names: HashMap<String, String>,
}

impl Context {
    /// Loads the display names of `people` (requesters, intercessors, authors). Rendering
    /// requests also needs their categories: [`Context::with_categories`].
    pub fn load(
        conn: &mut DbConnection,
        viewer: &Viewer,
        today: NaiveDate,
        people: impl IntoIterator<Item = Option<String>>,
    ) -> AppResult<Self> {
        let mut ids: Vec<String> = people.into_iter().flatten().collect();
        ids.sort();
        ids.dedup();
        Ok(Context {
            viewer: viewer.clone(),
            today,
            categories: HashMap::new(),
            names: display_names(conn, &ids)?,
        })
    }

    /// Adds the names of the categories that the requests to be rendered use. One request (the
    /// common case: GET by id) reads its one category; several read the whole (short) table,
    /// one cached statement either way.
    pub fn with_categories<'a>(
        mut self,
        conn: &mut DbConnection,
        ids: impl IntoIterator<Item = &'a String>,
    ) -> AppResult<Self> {
        let mut ids: Vec<&String> = ids.into_iter().collect();
        ids.sort();
        ids.dedup();
        self.categories = match ids.as_slice() {
            [] => HashMap::new(),
            [one] => categories::names_of_one(conn, one)?,
            _ => categories::names(conn)?,
        };
        Ok(self)
    }

    /// Adds category names the handler already holds (a list reads them with its rows).
    pub fn with_category_names(
        mut self,
        names: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        self.categories.extend(names);
        self
    }

    /// A context from what the handler already holds, without a query: the caller writing a
    /// prayer or a request knows their own name and the category they chose, and inside a write
    /// transaction (one writer at a time on SQLite) every statement saved counts.
    pub fn known(
        viewer: &Viewer,
        today: NaiveDate,
        user: &AuthUser,
        category: Option<(String, String)>,
    ) -> Self {
        Context {
            viewer: viewer.clone(),
            today,
            categories: category.into_iter().collect(),
            names: HashMap::from([(user.id.clone(), user.member.display_name.clone())]),
        }
    }

    /// The context of one request read with [`super::store::find_visible_to_caller`]: its category's
    /// and requester's names came with it.
    pub fn of_request(
        viewer: &Viewer,
        today: NaiveDate,
        row: &RequestRow,
        category_name: String,
        requester_name: Option<String>,
    ) -> Self {
        Context {
            viewer: viewer.clone(),
            today,
            categories: HashMap::from([(row.category_id.clone(), category_name)]),
            names: row
                .requester_id
                .clone()
                .zip(requester_name)
                .into_iter()
                .collect(),
        }
    }

    /// A member loaded into this context, by id.
    pub fn person_by_id(&self, id: &str) -> Option<PersonRef> {
        Some(PersonRef {
            id: id.to_string(),
            display_name: self.names.get(id)?.clone(),
        })
    }

    fn person(&self, id: Option<&String>) -> Option<PersonRef> {
        let id = id?;
        Some(PersonRef {
            id: id.clone(),
            display_name: self.names.get(id)?.clone(),
        })
    }

    fn is(&self, member_id: Option<&String>) -> bool {
        member_id == Some(&self.viewer.id)
    }

    pub fn request(&self, row: RequestRow) -> PrayerRequest {
        let leader = self.viewer.leader;
        let requester_or_leader = leader || row.is_requester(&self.viewer.id);
        PrayerRequest {
            status: row.status_on(self.today),
            category: {
                debug_assert!(
                    self.categories.contains_key(&row.category_id),
                    "requests are rendered from a Context made with_categories"
                );
                self.categories
                    .get(&row.category_id)
                    .cloned()
                    .unwrap_or_default()
            },
            kind: row.kind,
            visibility: row.visibility,
            requester: if !row.anonymous || requester_or_leader {
                self.person(row.requester_id.as_ref())
            } else {
                None
            },
            testimony: if row.share_testimony || requester_or_leader {
                row.testimony
            } else {
                None
            },
            flag_reason: if leader { row.flag_reason } else { None },
            rejection_reason: if requester_or_leader {
                row.rejection_reason
            } else {
                None
            },
            submitted_by: (leader
                && (row.submitter_name.is_some() || row.submitter_email.is_some()))
            .then_some(Visitor {
                name: row.submitter_name,
                email: row.submitter_email,
            }),
            id: row.id,
            title: row.title,
            body: row.body,
            on_behalf_of: row.on_behalf_of,
            urgent: row.urgent,
            anonymous: row.anonymous,
            allow_comments: row.allow_comments,
            prayer_count: row.prayer_count,
            intercessor_count: row.intercessor_count,
            last_prayed_at: row.last_prayed_at.map(to_utc),
            expires_on: row.expires_on,
            answered_at: row.answered_at.map(to_utc),
            share_testimony: row.share_testimony,
            flagged: row.flagged,
            created_at: to_utc(row.created_at),
            updated_at: to_utc(row.updated_at),
        }
    }

    /// A prayer as the requester or a leader reads it: anonymous intercessors stay unnamed to
    /// everyone but leaders and themselves.
    pub fn prayer(&self, row: PrayerRow) -> Prayer {
        let named = !row.anonymous || self.viewer.leader || self.is(row.member_id.as_ref());
        Prayer {
            member: if named {
                self.person(row.member_id.as_ref())
            } else {
                None
            },
            id: row.id,
            request_id: row.request_id,
            note: row.note,
            anonymous: row.anonymous,
            created_at: to_utc(row.created_at),
        }
    }

    /// An update or comment on `request`. On an anonymous request, what its requester writes must
    /// not name them to readers who may not know who asked.
    pub fn post(&self, request: &RequestRow, row: PostRow) -> Post {
        let by_hidden_requester = request.anonymous
            && row.author_id.is_some()
            && row.author_id == request.requester_id
            && !self.viewer.leader
            && !request.is_requester(&self.viewer.id);
        Post {
            author: if by_hidden_requester {
                None
            } else {
                self.person(row.author_id.as_ref())
            },
            id: row.id,
            request_id: row.request_id,
            body: row.body,
            created_at: to_utc(row.created_at),
        }
    }
}
