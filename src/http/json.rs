//! A JSON body extractor whose every failure is a problem: 400 for a body that is not JSON or
//! not sent as JSON, 413 over the size limit, 422 naming the field for JSON of the wrong shape.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

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

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
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

impl<T: DeserializeOwned + Default + 'static> FromRequest for JsonOrEmpty<T> {
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

/// Parses a JSON document, telling syntax errors (400) from shape errors (422 with the field).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest(
            "The request body is empty; JSON was expected.".into(),
        ));
    }
    // Every body of this API is an object; saying so beats serde's view of `[1]` as a tuple.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') && serde_json::from_slice::<serde_json::Value>(body).is_ok() {
        return Err(AppError::invalid("body", "must be a JSON object"));
    }
    if super::nul::in_json(body) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            let field = super::nul::find_in_json(&value).unwrap_or_else(|| "body".into());
            return Err(AppError::invalid(field, super::nul::MESSAGE));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    // Deeply nested input is refused by serde_json's own recursion limit (a syntax-class error).
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        shape_or_syntax(&path, inner)
    })?;
    de.end().map_err(|e| shape_or_syntax(".", e))?;
    Ok(value)
}

fn shape_or_syntax(path: &str, err: serde_json::Error) -> AppError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Data => {
            let message = strip_position(&err.to_string());
            AppError::Validation(vec![FieldError::new(field_name(path, &message), message)])
        }
        Category::Syntax | Category::Eof | Category::Io => {
            AppError::BadRequest(format!("The body is not valid JSON: {err}."))
        }
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

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        count: Option<u32>,
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
