#[doc(hidden)]
pub use crate::expression::nullable::Nullable as NullableExpression;
#[doc(hidden)]
#[cfg(feature = "postgres_backend")]
pub use crate::pg::query_builder::tablesample::TablesampleMethod;
#[doc(hidden)]
pub use crate::query_builder::from_clause::{FromClause, NoFromClause};
#[doc(hidden)]
pub use crate::query_builder::nodes::{
    Identifier, InfixNode, StaticQueryFragment, StaticQueryFragmentInstance,
};
#[doc(hidden)]
pub use crate::query_builder::select_statement::boxed::BoxedSelectStatement;
#[doc(hidden)]
pub use crate::query_builder::select_statement::SelectStatement;
#[doc(hidden)]
pub use crate::query_source::aliasing::{
    AliasAliasAppearsInFromClause, AliasAliasAppearsInFromClauseSameTable,
    AliasAppearsInFromClause, FieldAliasMapperAssociatedTypesDisjointnessTrick,
};
#[doc(hidden)]
pub use crate::query_source::joins::{Inner, Join, JoinOn, LeftOuter};
#[doc(hidden)]
pub use crate::query_source::private::Pick;

#[doc(hidden)]
pub mod ops {
    #[doc(hidden)]
    pub use crate::expression::ops::numeric::*;
}
