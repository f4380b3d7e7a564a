//! The edge of the service: extractors that turn requests into typed input (or a problem), list
//! pagination, and field validation shared by every feature.

pub mod client;
pub mod expected;
pub mod json;
pub mod nul;
pub mod pagination;
pub mod query;
pub mod respond;
pub mod validate;

pub use json::{Json, JsonOrEmpty};
pub use pagination::{Page, PageParams, PageQuery};
pub use query::Query;
