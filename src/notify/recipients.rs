//! The recipients of a claimed batch, read once for all its rows: each one's member row and
//! preferences in two statements, instead of two for every notification. Rendering still reads
//! what each notification is about for its recipient (the visibility rule is per member).

use std::collections::HashMap;

use super::preferences::{self, Preferences};
use crate::accounts::model::MemberRow;
use crate::accounts::store as members;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::OutboxRow;

/// The members a batch is addressed to, as they are now. A member who is gone is not in it.
pub struct Recipients {
    members: HashMap<String, (MemberRow, Preferences)>,
}

impl Recipients {
    /// Reads the recipients of `rows` (those addressed to a member).
    pub fn load(conn: &mut DbConnection, rows: &[OutboxRow]) -> AppResult<Self> {
        let mut ids: Vec<String> = rows.iter().filter_map(|r| r.member_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Recipients {
                members: HashMap::new(),
            });
        }
        let found = members::find_many(conn, &ids)?;
        let mut prefs = preferences::load_many(conn, &ids)?;
        let members = found
            .into_iter()
            .filter_map(|m| {
                let p = prefs.remove(&m.id)?;
                Some((m.id.clone(), (m, p)))
            })
            .collect();
        Ok(Recipients { members })
    }

    /// The member and their preferences, unless the account is gone.
    pub fn get(&self, member_id: &str) -> Option<&(MemberRow, Preferences)> {
        self.members.get(member_id)
    }
}
