//! Accounts: registration, sign-in sessions, one's own profile, and the members directory.

pub mod model;
pub mod password_reset;
pub mod routes;
pub mod sessions;
pub mod store;

use chrono::NaiveDateTime;

use crate::auth::{passwords, Role};
use crate::db::{Db, DbConnection};
use crate::error::AppResult;
use crate::http::validate::{self, Validator};
use model::{search_key, MemberRow, RegisterInput};

/// Whether `password` is the member's own: what changing one's password or erasing one's
/// account asks first. The hash is read here, not carried with the caller (see
/// [`model::MemberProfile`]), and checked off the actix workers.
pub async fn is_own_password(db: &Db, member_id: &str, password: String) -> AppResult<bool> {
    let id = member_id.to_string();
    let hash = db.read(move |conn| store::password_hash(conn, &id)).await?;
    passwords::verify_blocking(password, hash).await
}

/// A registration that passed validation.
pub struct NewMember {
    pub email: String,
    pub display_name: String,
    pub timezone: String,
    pub password: String,
}

pub const DISPLAY_NAME_MAX: usize = 80;

impl RegisterInput {
    pub fn validate(self) -> AppResult<NewMember> {
        let mut v = Validator::new();
        let email = v.take(validate::email("email", &self.email));
        v.take(validate::password("password", &self.password));
        let display_name = v.take(validate::line(
            "display_name",
            &self.display_name,
            1,
            DISPLAY_NAME_MAX,
        ));
        let timezone = match &self.timezone {
            Some(tz) => v
                .take(validate::timezone("timezone", tz))
                .map(|tz| tz.name().to_string()),
            None => Some("UTC".to_string()),
        };
        v.finish()?;
        Ok(NewMember {
            email: email.expect("validated"),
            display_name: display_name.expect("validated"),
            timezone: timezone.expect("validated"),
            password: self.password,
        })
    }
}

impl NewMember {
    /// The row to insert, given the password's hash (computed off the request workers).
    pub fn into_row(self, password_hash: String, role: Role, now: NaiveDateTime) -> MemberRow {
        MemberRow {
            id: uuid::Uuid::now_v7().to_string(),
            search_key: search_key(&self.display_name, &self.email),
            email: self.email,
            display_name: self.display_name,
            password_hash,
            role,
            active: true,
            timezone: self.timezone,
            max_active_assignments: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// `intercede create-admin`: makes an admin account. Runs outside any request, so it blocks.
pub fn create_admin(
    conn: &mut DbConnection,
    email: &str,
    display_name: &str,
    password: &str,
    now: NaiveDateTime,
) -> AppResult<MemberRow> {
    let new = RegisterInput {
        email: email.to_string(),
        password: password.to_string(),
        display_name: display_name.to_string(),
        timezone: None,
    }
    .validate()?;
    let hash = passwords::hash(&new.password)?;
    let row = new.into_row(hash, Role::Admin, now);
    store::insert(conn, &row)?;
    Ok(row)
}
