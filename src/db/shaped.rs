//! A boxed query named by a marker type, so diesel reuses its prepared statement without
//! rebuilding its SQL.
//!
//! A boxed query (a list whose filters are chosen at run time) has no static query id: on every
//! call diesel writes out its whole SQL text, escaping each identifier into a fresh `String`, to
//! look the prepared statement up by that text. For the prayer list that was about a tenth of a
//! page's instructions (over a hundred identifiers, up to four statements for `needs_prayer`).
//!
//! [`Shaped`] gives such a query the marker type `Id` as its query id. That is a promise: every
//! query loaded under one `Id` has the same SQL (binds aside), because diesel will run the first
//! one's prepared statement for all of them. Use it only where the code choosing `Id` has already
//! decided the query's shape (which filters, which branches), and keep a test beside each use
//! that shows the SQL does not move under one `Id`.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::QueryResult;

/// `query`, prepared once per connection under the marker `Id` (see the module's documentation
/// for the promise that makes this right).
pub fn shaped<Id: 'static, Q>(query: Q) -> Shaped<Id, Q> {
    Shaped {
        query,
        id: PhantomData,
    }
}

pub struct Shaped<Id, Q> {
    query: Q,
    id: PhantomData<Id>,
}

impl<Id, Q: Query> Query for Shaped<Id, Q> {
    type SqlType = Q::SqlType;
}

impl<Id, Q, DB> QueryFragment<DB> for Shaped<Id, Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out)
    }
}

impl<Id: 'static, Q> QueryId for Shaped<Id, Q> {
    type QueryId = Id;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Id, Q, Conn> RunQueryDsl<Conn> for Shaped<Id, Q> {}
