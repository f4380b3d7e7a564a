//! An `UPDATE` that diesel prepares once per connection, for a changeset whose SQL never changes.
//!
//! diesel marks every `UPDATE` as unsafe to cache (a changeset may skip `None` fields, so its SQL
//! can differ between calls) and gives it no static query id: each call built the SQL text and
//! SQLite parsed and planned it again. On a prayer, the counters' update was the one statement
//! prepared per request: 44k of its 363k instructions (`scripts/instructions.sh`).
//!
//! [`fixed_update`] writes the same `UPDATE table SET ... WHERE ...` itself, without that mark,
//! under a static query id. It is for changesets whose SQL depends only on their Rust type:
//! `column.eq(value)` and `column.eq(column + value)` assignments, no `Option` that could be
//! skipped. The marker type `Id` names the statement in the statement cache, so each call site
//! needs a marker of its own; a unit test beside each use shows the statement is prepared once.
//!
//! Overriding `is_safe_to_cache_prepared` on a wrapper would not do: connections hand a statement
//! on by reference, and diesel's `QueryFragment` for a reference answers that question by walking
//! the statement again, into the `UPDATE`'s own mark.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::{QueryResult, Table};

/// `UPDATE table SET values WHERE filter`, prepared once per connection (see the module's
/// documentation for when that is right).
pub fn fixed_update<Id: 'static, T, V, W>(
    table: T,
    filter: W,
    values: V,
) -> FixedUpdate<Id, T::FromClause, V::Changeset, W>
where
    T: Table,
    V: AsChangeset<Target = T>,
{
    FixedUpdate {
        from: table.from_clause(),
        changeset: values.as_changeset(),
        filter,
        id: PhantomData,
    }
}

pub struct FixedUpdate<Id, F, C, W> {
    /// The table, as diesel writes it in a statement.
    from: F,
    changeset: C,
    filter: W,
    id: PhantomData<Id>,
}

impl<Id, F, C, W, DB> QueryFragment<DB> for FixedUpdate<Id, F, C, W>
where
    DB: Backend,
    F: QueryFragment<DB>,
    C: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.changeset.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        Ok(())
    }
}

impl<Id: 'static, F, C, W> QueryId for FixedUpdate<Id, F, C, W> {
    type QueryId = Id;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Id, F, C, W, Conn> RunQueryDsl<Conn> for FixedUpdate<Id, F, C, W> {}
