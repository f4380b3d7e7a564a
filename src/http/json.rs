//! A JSON body extractor whose every failure is a problem: 400 for a body that is not JSON or
//! not sent as JSON, 413 over the size limit, 422 for JSON of the wrong shape, naming every bad
//! or missing field at once in the API's words (see [`super::expected`]).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;

use super::expected::{slot, Schemas};

use crate::error::{AppError, FieldError};

/// Largest JSON body accepted, unless an endpoint says otherwise.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let (content_type_ok, body) = body.await?;
            if !content_type_ok {
                return Err(not_json());
            }
            parse(&body).map(Json)
        })
    }
}

/// A JSON body that may be left out: no body at all gives `T::default()`. For actions whose
/// fields are all optional (`POST .../answer`, `POST .../prayers`).
pub struct JsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + ToSchema + Default + 'static> FromRequest for JsonOrEmpty<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let (content_type_ok, body) = body.await?;
            if body.is_empty() {
                return Ok(JsonOrEmpty(T::default()));
            }
            if !content_type_ok {
                return Err(not_json());
            }
            parse(&body).map(JsonOrEmpty)
        })
    }
}

fn not_json() -> AppError {
    AppError::BadRequest(
        "The body must be JSON, sent with `Content-Type: application/json`.".into(),
    )
}

/// Reads the whole body up to the limit; also says whether it was declared as JSON.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<(bool, Vec<u8>), AppError>> {
    let content_type_ok = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(is_json_media_type)
        .unwrap_or(false);
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if declared_length.is_some_and(|n| n > DEFAULT_LIMIT) {
            return Err(AppError::PayloadTooLarge(DEFAULT_LIMIT));
        }
        let mut body = Vec::with_capacity(declared_length.unwrap_or(256).min(DEFAULT_LIMIT));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest(format!("Body unreadable: {e}")))?;
            if body.len() + chunk.len() > DEFAULT_LIMIT {
                return Err(AppError::PayloadTooLarge(DEFAULT_LIMIT));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((content_type_ok, body))
    })
}

fn is_json_media_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON document, telling syntax errors (400) from shape errors (422 listing every bad
/// or missing field).
pub fn parse<T: DeserializeOwned + ToSchema>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest(
            "The request body is empty; JSON was expected.".into(),
        ));
    }
    // Every body of this API is an object; saying so beats serde's view of `[1]` as a tuple.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') && serde_json::from_slice::<Value>(body).is_ok() {
        return Err(AppError::invalid("body", "must be a JSON object"));
    }
    if super::nul::in_json(body) {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            let field = super::nul::find_in_json(&value).unwrap_or_else(|| "body".into());
            return Err(AppError::invalid(field, super::nul::MESSAGE));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    // Deeply nested input is refused by serde_json's own recursion limit (a syntax-class error).
    let first_error = match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end().map_err(syntax)?;
            return Ok(value);
        }
        Err(err) => err,
    };
    if first_error.inner().classify() != serde_json::error::Category::Data {
        return Err(syntax(first_error.into_inner()));
    }
    Err(every_bad_field::<T>(body).unwrap_or_else(|| {
        let path = first_error.path().to_string();
        let message = strip_position(&first_error.into_inner().to_string());
        AppError::Validation(vec![FieldError::new(field_name(&path, &message), message)])
    }))
}

fn syntax(err: serde_json::Error) -> AppError {
    AppError::BadRequest(format!("The body is not valid JSON: {err}."))
}

/// Reads the body again and again, each time putting a stand-in of the right shape where serde
/// stopped, so that one 422 names every missing, unknown and bad field, each in the API's words.
/// `None` when the body cannot be walked so (the caller reports serde's first error instead).
fn every_bad_field<T: DeserializeOwned + ToSchema>(body: &[u8]) -> Option<AppError> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let schemas = Schemas::of_body::<T>();
    let mut errors: Vec<FieldError> = Vec::new();
    // Each round settles one field; a body has at most this many worth reporting.
    for _ in 0..100 {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(_) => break,
            Err(err) => err,
        };
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let (field, text, fix) = if let Some(name) = quoted_after(&message, "missing field `") {
            let field = join(&path, &name);
            let stand_in = schemas.at(&field).map(|s| schemas.stand_in(&s));
            (
                field,
                "is required".to_string(),
                Fix::Insert(path.clone(), name, stand_in),
            )
        } else if message.starts_with("unknown field `") {
            let (parent, name) = split_last(&path);
            let known = schemas
                .at(parent)
                .and_then(|s| {
                    s["properties"]
                        .as_object()
                        .map(|p| p.keys().cloned().collect::<Vec<_>>())
                })
                .unwrap_or_default();
            let text = if known.is_empty() {
                "is not a field of this request".to_string()
            } else {
                format!(
                    "is not a field of this request (it takes {})",
                    known.join(", ")
                )
            };
            (
                path.clone(),
                text,
                Fix::Remove(parent.to_string(), name.to_string()),
            )
        } else {
            let schema = schemas.at(&path);
            let text = match &schema {
                Some(s) => format!("must be {}", schemas.words(s)),
                None => strip_position(&message),
            };
            let stand_in = schema.map(|s| schemas.stand_in(&s));
            (
                field_name(&path, &message),
                text,
                Fix::Replace(path.clone(), stand_in),
            )
        };
        if errors.iter().any(|e| e.field == field) {
            break;
        }
        errors.push(FieldError::new(field, text));
        if !fix.apply(&mut value) {
            break;
        }
    }
    (!errors.is_empty()).then_some(AppError::Validation(errors))
}

/// How a reported field is set aside before the next read.
enum Fix {
    Insert(String, String, Option<Value>),
    Remove(String, String),
    Replace(String, Option<Value>),
}

impl Fix {
    fn apply(self, value: &mut Value) -> bool {
        match self {
            Fix::Insert(parent, name, Some(stand_in)) => slot(value, &parent)
                .and_then(Value::as_object_mut)
                .map(|o| o.insert(name, stand_in))
                .is_some(),
            Fix::Remove(parent, name) => slot(value, &parent)
                .and_then(Value::as_object_mut)
                .and_then(|o| o.remove(&name))
                .is_some(),
            Fix::Replace(path, Some(stand_in)) if path != "." => match slot(value, &path) {
                Some(at) => {
                    *at = stand_in;
                    true
                }
                None => false,
            },
            _ => false,
        }
    }
}

/// `missing field `email`` → `email`.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    message
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string)
}

fn join(parent: &str, name: &str) -> String {
    if parent == "." {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// `a.b.extra` → (`a.b`, `extra`); `extra` → (`.`, `extra`).
fn split_last(path: &str) -> (&str, &str) {
    match path.rsplit_once('.') {
        Some((parent, name)) if !parent.is_empty() => (parent, name),
        _ => (".", path.trim_start_matches('.')),
    }
}

/// serde reports a missing field against its parent; name the field itself.
fn field_name(path: &str, message: &str) -> String {
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path, named) {
        (".", Some(name)) => name.to_string(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (".", None) => "body".to_string(),
        (path, None) => path.to_string(),
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        count: Option<u32>,
        on: Option<chrono::NaiveDate>,
    }

    fn errors_of(result: Result<Input, AppError>) -> Vec<(String, String)> {
        match result {
            Err(AppError::Validation(errors)) => {
                errors.into_iter().map(|e| (e.field, e.message)).collect()
            }
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_and_missing_field_is_reported_at_once_in_the_apis_words() {
        let errors = errors_of(parse(br#"{"count": "60", "on": "2027-02-30", "extra": 1}"#));
        assert_eq!(
            errors,
            vec![
                (
                    "count".to_string(),
                    "must be a whole number, 0 or more".to_string()
                ),
                (
                    "extra".to_string(),
                    "is not a field of this request (it takes count, name, on)".to_string()
                ),
                ("on".to_string(), "must be a date, YYYY-MM-DD".to_string()),
                ("name".to_string(), "is required".to_string()),
            ]
        );
    }

    fn field_of(result: Result<Input, AppError>) -> String {
        match result {
            Err(AppError::Validation(errors)) => errors[0].field.clone(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(field_of(parse(br#"{"name": 5}"#)), "name");
        assert_eq!(field_of(parse(br#"{"name": "a", "count": "x"}"#)), "count");
        assert_eq!(field_of(parse(br#"{}"#)), "name");
        assert_eq!(field_of(parse(br#"{"name": "a", "extra": 1}"#)), "extra");
        assert_eq!(field_of(parse(br#"[1]"#)), "body");
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in [
            &b"{"[..],
            b"not json",
            b"{\"name\": \"a\"} trailing",
            b"",
            b"\xff\xfe",
        ] {
            assert!(
                matches!(parse::<Input>(body), Err(AppError::BadRequest(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("application/json; charset=utf-8"));
        assert!(is_json_media_type("application/merge-patch+json"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/x-www-form-urlencoded"));
    }
}
