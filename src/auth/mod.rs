//! Who is calling: password hashing, access and refresh tokens, the `AuthUser` extractor, and the
//! role checks handlers call first.

pub mod extractor;
pub mod links;
pub mod member;
pub mod passwords;
pub mod roles;
pub mod tokens;

pub use extractor::{AuthUser, Caller};
pub use roles::Role;
