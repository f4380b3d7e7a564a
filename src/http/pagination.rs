//! Keyset pagination: `?limit=&cursor=` in, `{items, next_cursor}` out.
//!
//! A cursor is the sort key of the last row of a page, serialized and base64url-encoded so that
//! clients treat it as opaque. The next page starts strictly after that key, so rows inserted
//! between calls never make a page repeat or skip a row, and no query uses OFFSET.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::future::{ready, Ready};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, FieldError};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=`: the query of every list that takes no other parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Validated `limit` and decoded `cursor` of a list request.
///
/// The extractor of every list whose query is only `?limit=&cursor=` (its operation names
/// `params(PageQuery)`); lists with filters parse their own query and call [`PageParams::parse`].
#[derive(Debug, Clone)]
pub struct PageParams<K> {
    pub limit: i64,
    pub after: Option<K>,
}

impl<K: DeserializeOwned> PageParams<K> {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be from 1 to {MAX_LIMIT}"),
                ));
                DEFAULT_LIMIT
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match decode(c) {
                Some(k) => Some(k),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        "is not a cursor this list gave out",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Self { limit, after })
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// How many rows to fetch: one more than a page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The page of `rows` (fetched with [`Self::fetch`]), its cursor the `key` of its last row.
    pub fn page<R, T, C: Serialize>(
        &self,
        rows: Vec<R>,
        key: impl Fn(&R) -> C,
        map: impl FnMut(R) -> T,
    ) -> Page<T> {
        Page::from_rows(rows, self.limit, key, map)
    }
}

impl<K: DeserializeOwned> FromRequest for PageParams<K> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            super::query::parse::<PageQuery>(req.query_string())
                .and_then(|q| Self::parse(q.limit, q.cursor.as_deref())),
        )
    }
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order.
    pub fn from_rows<R, K: Serialize>(
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> K,
        map: impl FnMut(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(&key(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

fn decode<K: DeserializeOwned>(cursor: &str) -> Option<K> {
    if cursor.len() > 512 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let p = PageParams::<(String, i64)>::parse(Some(5), Some(&encode(&("a", 3)))).unwrap();
        assert_eq!(p.after, Some(("a".to_string(), 3)));
        assert!(PageParams::<String>::parse(None, Some("!!!")).is_err());
        assert!(PageParams::<String>::parse(Some(0), None).is_err());
        assert!(PageParams::<String>::parse(Some(101), None).is_err());
        assert_eq!(PageParams::<String>::parse(None, None).unwrap().limit, 20);
    }

    #[test]
    fn a_page_knows_whether_more_follow() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |r| *r, |r| r * 10);
        assert_eq!(page.items, vec![10, 20]);
        assert_eq!(decode::<i32>(page.next_cursor.as_deref().unwrap()), Some(2));
        let last = Page::from_rows(vec![1, 2], 2, |r| *r, |r| r);
        assert!(last.next_cursor.is_none());
    }
}
