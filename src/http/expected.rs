//! What a field expects, in the API's words, read from the schema the service publishes.
//!
//! serde names what went wrong in Rust's terms (`invalid type: string "60", expected i32`,
//! `input contains invalid characters`); a church app shows the message to a person. The
//! OpenAPI schema of the input (derived from the same type by utoipa) already says what each field
//! is, so the message is written from it: `must be a whole number`, `must be a date, YYYY-MM-DD`,
//! `must be one of prayer, intercession`.
//!
//! The same schema gives a stand-in value of the right shape for a field that was missing or
//! wrong, so the body can be read again and every bad field reported in one 422 (see
//! `json::parse` and `query::parse`); serde stays the judge of what is valid.
//!
//! Not a JSON Schema validator (the `jsonschema` crate is one): validating is serde's job here,
//! and a second validator could disagree with it. This only reads the schema to name things.

use serde_json::{json, Map, Value};
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, ToSchema};

/// The component schemas of the whole published document, for `$ref`s an input's own schema does
/// not carry (a query parameter's enum). Set once by the app as it builds the document.
static COMPONENTS: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

/// Makes the document's component schemas available to every input's messages.
pub fn register_components(components: Map<String, Value>) {
    let _ = COMPONENTS.set(components);
}

/// The schemas an input refers to, by name, and its own.
pub struct Schemas {
    root: Value,
    named: Map<String, Value>,
}

impl Schemas {
    /// The schema of a JSON body type and every schema it refers to.
    pub fn of_body<T: ToSchema>() -> Self {
        let mut refs = Vec::new();
        T::schemas(&mut refs);
        let named = refs
            .into_iter()
            .filter_map(|(name, schema)| Some((name, serde_json::to_value(schema).ok()?)))
            .collect();
        let root = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
        Self { root, named }
    }

    /// The query parameters of a query type, as one object schema.
    pub fn of_query<T: IntoParams>() -> Self {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for param in T::into_params(|| Some(ParameterIn::Query)) {
            let Ok(param) = serde_json::to_value(param) else {
                continue;
            };
            let Some(name) = param["name"].as_str() else {
                continue;
            };
            if param["required"] == true {
                required.push(json!(name));
            }
            properties.insert(name.to_string(), param["schema"].clone());
        }
        Self {
            root: json!({"type": "object", "properties": properties, "required": required}),
            named: Map::new(),
        }
    }

    /// The schema at a serde path (`daily_focus[2].day`; `.` is the whole input).
    pub fn at(&self, path: &str) -> Option<Value> {
        let mut schema = self.resolve(&self.root);
        for segment in segments(path) {
            schema = match segment {
                Segment::Key(key) => self.property(&schema, key)?,
                Segment::Index(_) => self.resolve(schema.get("items")?),
            };
        }
        Some(schema)
    }

    fn property(&self, schema: &Value, key: &str) -> Option<Value> {
        if let Some(p) = schema["properties"].get(key) {
            return Some(self.resolve(p));
        }
        variants(schema)
            .iter()
            .find_map(|v| self.property(&self.resolve(v), key))
    }

    /// Follows a `$ref`, and unwraps `Option<T>`'s `oneOf: [null, T]`.
    fn resolve(&self, schema: &Value) -> Value {
        if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            return self
                .named
                .get(name)
                .or_else(|| COMPONENTS.get().and_then(|c| c.get(name)))
                .map(|s| self.resolve(s))
                .unwrap_or(Value::Null);
        }
        let options = variants(schema);
        let not_null: Vec<&Value> = options.iter().filter(|v| v["type"] != "null").collect();
        if !options.is_empty() && not_null.len() == 1 && not_null.len() < options.len() {
            return self.resolve(not_null[0]);
        }
        schema.clone()
    }

    /// What a field expects, as an app can show it: `a whole number from 1 to 100`.
    pub fn words(&self, schema: &Value) -> String {
        let schema = self.resolve(schema);
        if let Some(options) = schema["enum"].as_array() {
            let names: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
            format!("one of {}", names.join(", "))
        } else {
            match (kind(&schema), schema["format"].as_str()) {
                ("integer", _) => match (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
                    (Some(min), Some(max)) => format!("a whole number from {min} to {max}"),
                    (Some(0), None) => "a whole number, 0 or more".to_string(),
                    _ => "a whole number".to_string(),
                },
                ("number", _) => "a number".to_string(),
                ("boolean", _) => "true or false".to_string(),
                ("string", Some("date")) => "a date, YYYY-MM-DD".to_string(),
                ("string", Some("date-time")) => {
                    "an instant in RFC 3339, like 2026-11-25T03:00:00Z".to_string()
                }
                ("string", _) => "text".to_string(),
                ("array", _) => match schema.get("items") {
                    Some(items) => format!("a list of {}", self.words(items)),
                    None => "a list".to_string(),
                },
                ("object", _) => "an object".to_string(),
                _ => "a valid value".to_string(),
            }
        }
    }

    /// A value of the schema's shape, standing in for a bad or missing field so the rest of the
    /// input can be read.
    pub fn stand_in(&self, schema: &Value) -> Value {
        let schema = self.resolve(schema);
        if let Some(first) = schema["enum"].as_array().and_then(|o| o.first()) {
            return first.clone();
        }
        match (kind(&schema), schema["format"].as_str()) {
            ("integer", _) | ("number", _) => json!(schema["minimum"].as_i64().unwrap_or(0)),
            ("boolean", _) => json!(false),
            ("string", Some("date")) => json!("2000-01-01"),
            ("string", Some("date-time")) => json!("2000-01-01T00:00:00Z"),
            ("string", Some("time")) => json!("00:00:00"),
            ("string", _) => json!(""),
            ("array", _) => json!([]),
            ("object", _) => {
                let mut object = Map::new();
                for name in schema["required"].as_array().into_iter().flatten() {
                    if let Some(name) = name.as_str() {
                        let field = self.property(&schema, name).unwrap_or(Value::Null);
                        object.insert(name.to_string(), self.stand_in(&field));
                    }
                }
                Value::Object(object)
            }
            _ => Value::Null,
        }
    }
}

/// The schema's type, the first that is not `null` when it lists several.
fn kind(schema: &Value) -> &str {
    match &schema["type"] {
        Value::String(t) => t,
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        _ if schema.get("properties").is_some() => "object",
        _ => "",
    }
}

fn variants(schema: &Value) -> Vec<Value> {
    ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| schema[*k].as_array())
        .flatten()
        .cloned()
        .collect()
}

pub enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// `daily_focus[2].day` → `daily_focus`, `2`, `day`; `.` → nothing.
pub fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            if let Ok(i) = index.parse() {
                out.push(Segment::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    out
}

/// The value at a serde path inside a JSON document, to replace or remove.
pub fn slot<'v>(root: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut at = root;
    for segment in segments(path) {
        at = match segment {
            Segment::Key(key) => at.as_object_mut()?.get_mut(key)?,
            Segment::Index(i) => at.as_array_mut()?.get_mut(i)?,
        };
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use utoipa::ToSchema;

    #[allow(dead_code)]
    #[derive(Deserialize, ToSchema)]
    enum Kind {
        #[serde(rename = "prayer")]
        Prayer,
        #[serde(rename = "intercession")]
        Intercession,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, ToSchema)]
    struct Focus {
        day: i32,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, ToSchema)]
    struct Input {
        starts_on: chrono::NaiveDate,
        kind: Kind,
        urgent: Option<bool>,
        focus: Vec<Focus>,
    }

    #[test]
    fn fields_are_described_in_the_apis_words() {
        let s = Schemas::of_body::<Input>();
        let words = |path| s.words(&s.at(path).unwrap());
        assert_eq!(words("starts_on"), "a date, YYYY-MM-DD");
        assert_eq!(words("kind"), "one of prayer, intercession");
        assert_eq!(words("urgent"), "true or false");
        assert_eq!(words("focus[3].day"), "a whole number");
        assert!(s.at("nope").is_none());
    }

    #[test]
    fn stand_ins_have_the_fields_shape() {
        let s = Schemas::of_body::<Input>();
        assert_eq!(s.stand_in(&s.at("starts_on").unwrap()), json!("2000-01-01"));
        assert_eq!(s.stand_in(&s.at("kind").unwrap()), json!("prayer"));
        assert_eq!(s.stand_in(&s.at("focus[0]").unwrap()), json!({"day": 0}));
    }

    #[test]
    fn paths_reach_into_lists() {
        let mut v = json!({"a": [{"b": 1}, {"b": 2}]});
        *slot(&mut v, "a[1].b").unwrap() = json!(5);
        assert_eq!(v, json!({"a": [{"b": 1}, {"b": 5}]}));
        assert!(slot(&mut v, "a[7].b").is_none());
    }
}
