//! `text_enum!`: an enum stored as text and shown as a snake_case string, declared once with its
//! exact spelling, so the API, the database and the OpenAPI schema cannot drift apart.

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
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
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

            /// Reads a stored value; anything else in the database is a bug, not user input.
            pub fn from_db(value: &str) -> Result<Self, $crate::error::AppError> {
                match value {
                    $( $text => Ok($name::$variant), )+
                    other => Err($crate::error::AppError::Internal(anyhow::anyhow!(
                        concat!("unknown ", stringify!($name), " in the database: {}"),
                        other
                    ))),
                }
            }
        }
    };
}
