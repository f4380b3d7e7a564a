//! U+0000 never reaches the database. PostgreSQL's `text` cannot hold it (the statement fails and
//! the client would see a 500), and SQLite would keep a string that C code around it reads short.
//! Both databases answer alike: a 422 naming where the NUL was.
//!
//! A raw NUL byte cannot travel in a URI or a header (the HTTP parser refuses it) nor inside a
//! JSON string (a control character must be escaped), so the only ways in are `%00` in the path or
//! query and the escape `\u0000` in a JSON body: [`refuse_in_uri`] guards the first, [`find_in_json`]
//! the second.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::AppError;

pub const MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// Middleware: a path or query string with `%00` gets a 422 before any handler runs. The query
/// parameter is named; a path segment is reported as `path`.
pub async fn refuse_in_uri(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(field) = nul_in_uri(req.path(), req.query_string()) {
        return Err(AppError::invalid(field, MESSAGE).into());
    }
    next.call(req).await
}

/// Where `%00` is in a raw path and query: `path`, or the query parameter's name (`query` when
/// the name itself holds it). `%00` is exactly an encoded NUL: a literal `%` is sent as `%25`.
fn nul_in_uri(path: &str, query: &str) -> Option<String> {
    let encoded_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if encoded_nul(path) {
        return Some("path".into());
    }
    if !encoded_nul(query) {
        return None;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(_, value)| value.contains('\0'))
        .map(|(name, _)| name.into_owned())
        .filter(|name| !name.contains('\0'))
        .or_else(|| Some("query".into()))
}

/// True when a JSON document holds the escape `\u0000` (in a value or a key). An escaped
/// backslash before `u0000` (`\\u0000`) is the text `\u0000`, not a NUL: the backslashes before
/// the `u` must be odd in number.
pub fn in_json(body: &[u8]) -> bool {
    body.windows(6).enumerate().any(|(i, w)| {
        w.eq_ignore_ascii_case(b"\\u0000")
            && body[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

/// The path (`title`, `daily_focus[2].prayer_points`) of the first string or key in `value`
/// that holds a NUL.
pub fn find_in_json(value: &serde_json::Value) -> Option<String> {
    fn walk(value: &serde_json::Value, at: &str) -> Option<String> {
        let join = |key: &str| {
            if at.is_empty() {
                key.to_string()
            } else {
                format!("{at}.{key}")
            }
        };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(if at.is_empty() {
                "body".into()
            } else {
                at.into()
            }),
            serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                walk(
                    item,
                    &format!("{}[{i}]", if at.is_empty() { "body" } else { at }),
                )
            }),
            serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
                if key.contains('\0') {
                    Some(if at.is_empty() {
                        "body".into()
                    } else {
                        at.into()
                    })
                } else {
                    walk(item, &join(key))
                }
            }),
            _ => None,
        }
    }
    walk(value, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_nul_is_found_in_the_path_or_named_in_the_query() {
        assert_eq!(
            nul_in_uri("/api/v1/prayer-requests/%00", ""),
            Some("path".into())
        );
        assert_eq!(
            nul_in_uri("/api/v1/prayer-requests", "limit=5&q=a%00b"),
            Some("q".into())
        );
        assert_eq!(
            nul_in_uri("/api/v1/prayer-requests", "%00=1"),
            Some("query".into())
        );
        assert_eq!(nul_in_uri("/api/v1/prayer-requests", "q=%2500"), None);
        assert_eq!(nul_in_uri("/api/v1/prayer-requests", "q=100%25"), None);
    }

    #[test]
    fn the_json_escape_is_a_nul_only_after_an_odd_run_of_backslashes() {
        assert!(in_json(br#"{"title": "a\u0000b"}"#));
        assert!(in_json(br#"{"title": "\\\u0000"}"#));
        assert!(in_json(br#"{"a\U0000": 1}"#));
        assert!(!in_json(br#"{"title": "\\u0000"}"#));
        assert!(!in_json(br#"{"title": "u0000"}"#));
    }

    #[test]
    fn the_path_of_the_nul_is_reported() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"a": "x", "daily_focus": [{"t": "ok"}, {"t": "n\u0000"}]}"#)
                .unwrap();
        assert_eq!(find_in_json(&v).as_deref(), Some("daily_focus[1].t"));
        let v: serde_json::Value = serde_json::from_str(r#"{"k\u0000": 1}"#).unwrap();
        assert_eq!(find_in_json(&v).as_deref(), Some("body"));
    }
}
