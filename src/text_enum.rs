//! `text_enum!`: an enum stored as text and shown as a snake_case string, declared once with its
//! exact spelling, so the API, the database and the OpenAPI schema cannot drift apart.
//!
//! The enum is a diesel type of its own (`Text` in SQL): rows hold `Role`, `Status`,
//! `Visibility`, and queries compare columns with the enum (`status.eq(Status::Active)`), never
//! with a string spelled out again. A stored value the enum does not know is a deserialization
//! error naming the type and the value, which the request answers as a 500.
//!
//! Not `diesel-derive-enum`: it maps to PostgreSQL's native enum types (or needs a backend named
//! per derive), while these columns are `Text` on both databases behind one `MultiConnection`.

#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:tt ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The variant spelled `value`, if any.
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self.as_str()));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        // The backends' own, for statements run on the connection of one backend (upserts).
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text: String = bytes.from_sql::<String, diesel::sql_types::Text>()?;
                $name::parse(&text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " in the database: {}"), text)
                        .into()
                })
            }
        }

        // PostgreSQL's own, for rows read by a statement run on its connection (the outbox's
        // `FOR UPDATE SKIP LOCKED` claim).
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                $name::parse(&text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " in the database: {}"), text)
                        .into()
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use crate::auth::roles::Role;
    use crate::db::testing::fresh;

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        role: Role,
    }

    /// A stored value reads back as its variant; one the enum does not know is an error naming
    /// the type and the value, never a silent default.
    #[test]
    fn stored_values_read_as_their_variant_and_unknown_ones_fail() {
        let mut conn = fresh();
        let rows: Vec<Row> = diesel::sql_query("SELECT 'leader' AS role")
            .load(&mut conn)
            .unwrap();
        assert_eq!(rows[0].role, Role::Leader);
        let err = diesel::sql_query("SELECT 'pope' AS role")
            .load::<Row>(&mut conn)
            .err()
            .expect("an unknown role fails");
        assert!(
            err.to_string()
                .contains("unknown Role in the database: pope"),
            "{err}"
        );
    }
}
