//! How an event becomes a line: one JSON object a line for machines, or text for people.
//!
//! Written here instead of using tracing-subscriber's own formatters, which reach the line field by
//! field through serde and `fmt::Write` adaptors: under callgrind the request's log line took 16.5k
//! (JSON) and 17.5k (text) of the 157k instructions of a `GET /prayer-requests/{id}`, more than
//! reading the caller. The lines keep the same shape: `timestamp`, `level`, the event's fields
//! (`message` first), then `target`.

use std::fmt::{self, Write as _};

use chrono::{SecondsFormat, Utc};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The line format. Spans are not written: the service opens none (see `request_log`).
pub struct Line {
    pub json: bool,
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events from the `log` crate (actix's own) carry their real target in `log.*` fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let timestamp = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut line = String::with_capacity(256);
        if self.json {
            line.push_str("{\"timestamp\":\"");
            line.push_str(&timestamp);
            line.push_str("\",\"level\":\"");
            line.push_str(meta.level().as_str());
            line.push('"');
            event.record(&mut JsonFields(&mut line));
            line.push_str(",\"target\":");
            push_json_str(&mut line, meta.target());
            line.push_str("}\n");
        } else {
            line.push_str(&timestamp);
            // As tracing-subscriber aligns it: "  INFO", " WARN", "ERROR".
            write!(line, " {:>5} ", meta.level().as_str())?;
            line.push_str(meta.target());
            line.push(':');
            event.record(&mut TextFields(&mut line));
            line.push('\n');
        }
        writer.write_str(&line)
    }
}

/// `,"name":value` for each field.
struct JsonFields<'a>(&'a mut String);

impl JsonFields<'_> {
    /// Writes the key and says whether the field is to be written at all.
    fn key(&mut self, field: &Field) -> bool {
        if field.name().starts_with("log.") {
            return false;
        }
        self.0.push(',');
        push_json_str(self.0, field.name());
        self.0.push(':');
        true
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.key(field) {
            push_json_str(self.0, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.key(field) {
            self.0.push_str(if value { "true" } else { "false" });
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.key(field) {
            let _ = write!(self.0, "{value}");
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.key(field) {
            let _ = write!(self.0, "{value}");
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.key(field) {
            if value.is_finite() {
                let _ = write!(self.0, "{value}");
            } else {
                // JSON has no NaN or infinity.
                self.0.push_str("null");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.key(field) {
            push_json_str(self.0, &format!("{value:?}"));
        }
    }
}

/// ` message name=value ...`: strings quoted and escaped (`{:?}`), so that no value can break the
/// line or pass for another field; the message and `%`-formatted values as they are.
struct TextFields<'a>(&'a mut String);

impl Visit for TextFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !field.name().starts_with("log.") {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.0, " {value:?}");
            }
            name if name.starts_with("log.") => {}
            name => {
                let _ = write!(self.0, " {name}={value:?}");
            }
        }
    }
}

/// `value` as a JSON string: quotes, backslashes and control characters escaped, the rest as is.
fn push_json_str(out: &mut String, value: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, byte) in value.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&value[plain..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escaped);
        }
        plain = i + 1;
    }
    out.push_str(&value[plain..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::captured::Captured;

    fn lines_of(json: bool, log: impl FnOnce()) -> String {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .event_format(Line { json })
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        captured.text()
    }

    #[test]
    fn a_json_line_is_one_object_with_every_field_typed() {
        let cause = "disk \"full\"\n\tat\\ \u{1} end: é 🙏";
        let out = lines_of(true, || {
            tracing::error!(
                request_id = "abc",
                status = 500u16,
                delta = -3i64,
                latency_ms = 1.5f64,
                nan = f64::NAN,
                ok = false,
                error = %cause,
                "request"
            )
        });
        assert_eq!(out.matches('\n').count(), 1, "{out}");
        let value: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        // In this order (serde_json's map sorts its keys, so the order is read from the text).
        let order = [
            "timestamp",
            "level",
            "message",
            "request_id",
            "status",
            "delta",
            "latency_ms",
            "nan",
            "ok",
            "error",
            "target",
        ];
        let at: Vec<usize> = order
            .iter()
            .map(|key| out.find(&format!("\"{key}\":")).expect(key))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{out}");
        assert_eq!(value.as_object().unwrap().len(), order.len(), "{out}");
        assert_eq!(value["level"], "ERROR");
        assert_eq!(value["message"], "request");
        assert_eq!(value["request_id"], "abc");
        assert_eq!(value["status"], 500);
        assert_eq!(value["delta"], -3);
        assert_eq!(value["latency_ms"], 1.5);
        assert!(value["nan"].is_null());
        assert_eq!(value["ok"], false);
        assert_eq!(value["error"], cause);
        assert_eq!(value["target"], module_path!());
        let timestamp = value["timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
            "{timestamp}"
        );
        assert!(timestamp.ends_with('Z'), "{timestamp}");
    }

    #[test]
    fn a_text_line_quotes_strings_so_no_value_breaks_the_line() {
        let out = lines_of(false, || {
            tracing::warn!(request_id = "a\nb \"c\"", status = 503u16, "request")
        });
        assert_eq!(out.matches('\n').count(), 1, "{out}");
        let (timestamp, rest) = out.split_once(' ').unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
            "{out}"
        );
        assert_eq!(
            rest,
            format!(
                " WARN {}: request request_id=\"a\\nb \\\"c\\\"\" status=503\n",
                module_path!()
            )
        );
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        let mut out = String::new();
        for value in [
            "",
            "plain",
            "\"",
            "\\",
            "\u{0}\u{1f}\u{7f}",
            "line\nfeed\r\ttab",
            "ünï ✝ 🙏",
        ] {
            out.clear();
            push_json_str(&mut out, value);
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, value, "{out}");
            assert!(!out.contains('\n'), "{out}");
        }
    }
}
