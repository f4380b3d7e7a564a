//! A query-string extractor that answers 422 naming every bad, missing or unknown parameter in
//! the API's words (see [`super::expected`]), instead of actix's plain 400.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::IntoParams;

use super::expected::Schemas;

use crate::error::{AppError, FieldError};

pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + IntoParams> FromRequest for Query<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

pub fn parse<T: DeserializeOwned + IntoParams>(query: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    match T::deserialize(de) {
        Ok(value) => Ok(value),
        Err(_) => Err(every_bad_parameter::<T>(query)),
    }
}

/// Reads the query again and again, setting aside each parameter serde stopped at, so that one
/// 422 names every bad, missing and unknown parameter.
fn every_bad_parameter<T: DeserializeOwned + IntoParams>(query: &str) -> AppError {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let schemas = Schemas::of_query::<T>();
    let mut errors: Vec<FieldError> = Vec::new();
    // Each round settles one parameter: a stand-in of the right shape takes the place of a bad or
    // missing one, an unknown one is dropped, and the rest are read again.
    for _ in 0..50 {
        let encoded = encode(&pairs);
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        let err = match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(_) => break,
            Err(err) => err,
        };
        let path = err.path().to_string();
        let message = err.inner().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        let (name, text) = if let Some(name) = missing {
            (name, "is required".to_string())
        } else if message.starts_with("unknown field `") {
            let name = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .unwrap_or(&path)
                .to_string();
            let known = schemas
                .at(".")
                .and_then(|s| {
                    s["properties"]
                        .as_object()
                        .map(|p| p.keys().cloned().collect::<Vec<_>>())
                })
                .unwrap_or_default();
            (
                name,
                format!("is not a parameter here (it takes {})", known.join(", ")),
            )
        } else if path == "." {
            ("query".to_string(), message.clone())
        } else {
            let text = match schemas.at(&path) {
                Some(schema) => format!("must be {}", schemas.words(&schema)),
                None => message.clone(),
            };
            (path.clone(), text)
        };
        if errors.iter().any(|e| e.field == name) || name == "query" {
            if errors.is_empty() {
                errors.push(FieldError::new(name, text));
            }
            break;
        }
        errors.push(FieldError::new(name.clone(), text));
        pairs.retain(|(k, _)| *k != name);
        if let Some(schema) = schemas.at(&name) {
            let stand_in = match schemas.stand_in(&schema) {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            pairs.push((name, stand_in));
        }
    }
    if errors.is_empty() {
        errors.push(FieldError::new(
            "query",
            "is not a query this endpoint takes",
        ));
    }
    AppError::Validation(errors)
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize, IntoParams)]
    #[serde(deny_unknown_fields)]
    struct Q {
        limit: Option<i64>,
        urgent: Option<bool>,
        from: Option<chrono::NaiveDate>,
    }

    #[test]
    fn every_bad_parameter_is_named_in_the_apis_words() {
        let Err(AppError::Validation(errors)) = parse::<Q>("limit=&urgent=yes&from=2027-13-01&x=1")
        else {
            panic!("a 422 was expected");
        };
        let got: Vec<(String, String)> = errors.into_iter().map(|e| (e.field, e.message)).collect();
        assert_eq!(
            got,
            vec![
                ("limit".to_string(), "must be a whole number".to_string()),
                ("urgent".to_string(), "must be true or false".to_string()),
                ("from".to_string(), "must be a date, YYYY-MM-DD".to_string()),
                (
                    "x".to_string(),
                    "is not a parameter here (it takes from, limit, urgent)".to_string()
                ),
            ]
        );
        assert!(parse::<Q>("limit=5&urgent=true").is_ok());
    }
}
