//! Field validation that collects every problem of a request, so a 422 lists them all at once.

use chrono_tz::Tz;

use crate::error::{AppError, FieldError};

#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records a failed `Result` and yields its value, so parsing and validation read as one step.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// The problems found so far, for checks that continue elsewhere (in a transaction).
    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

/// Checks a single-line text field, the kind shown to others (names, titles): trimmed,
/// `min..=max` characters (not bytes), no control characters (NUL in particular, which PostgreSQL
/// cannot store), no bidirectional embedding, override or isolate controls (U+202A..U+202E,
/// U+2066..U+2069: they make a name read as another), and, when not empty, at least one visible
/// character (a zero-width space alone is not a name).
pub fn line(field: &str, value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    if trimmed.chars().any(is_bidi_control) {
        return Err(FieldError::new(
            field,
            "must not contain bidirectional override or isolate characters (U+202A..U+202E, \
             U+2066..U+2069)",
        ));
    }
    if !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_whitespace() || is_invisible(c))
    {
        return Err(FieldError::new(
            field,
            "must contain a visible character, not only invisible ones",
        ));
    }
    length(field, trimmed, min, max)?;
    Ok(trimmed.to_string())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that render as nothing: format characters (zero-width space, joiners, word joiner,
/// byte-order mark, soft hyphen, marks), fillers that render blank, and variation selectors.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// An optional note (a prayer's, a check-in's): checked like [`text`] up to `max` characters;
/// absent, empty or only white space is no note.
pub fn note(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, AppError> {
    match value {
        Some(v) => Ok(
            Some(text(field, v, 0, max).map_err(|e| AppError::Validation(vec![e]))?)
                .filter(|n| !n.is_empty()),
        ),
        None => Ok(None),
    }
}

/// Checks a multi-line text field: like [`line`] but newlines and tabs are allowed.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    length(field, trimmed, min, max)?;
    Ok(trimmed.to_string())
}

fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n < min {
        return Err(FieldError::new(
            field,
            if min == 1 {
                "must not be empty".to_string()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if n > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// An IANA time-zone name of a region (`America/New_York`), as chrono-tz knows it, or `UTC`.
///
/// Legacy abbreviations and fixed offsets (`EST`, `EST5EDT`, `Etc/GMT+5`, `US/Eastern`) are
/// refused with the region's name to use instead: `EST` is a fixed offset with no daylight saving,
/// so a New York church that picked it would silently lose an hour every summer. A name that only
/// differs in case (`america/new_york`) is refused with the right spelling.
pub fn timezone(field: &str, value: &str) -> Result<Tz, FieldError> {
    let name = value.trim();
    let refuse = |hint: String| FieldError::new(field, hint);
    match name.parse::<Tz>() {
        Ok(tz) if is_region(tz.name()) => Ok(tz),
        Ok(tz) => Err(refuse(format!(
            "`{name}` is a legacy or fixed-offset zone that does not follow a region's daylight \
             saving; use the region's name, such as `{}`",
            legacy_suggestion(tz.name())
        ))),
        Err(_) => match chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
        {
            Some(tz) if is_region(tz.name()) => Err(refuse(format!(
                "`{name}` is not a known IANA time zone; did you mean `{}`?",
                tz.name()
            ))),
            Some(tz) => Err(refuse(format!(
                "`{name}` is not a known IANA time zone; use the region's name, such as `{}`",
                legacy_suggestion(tz.name())
            ))),
            None => Err(refuse(format!(
                "`{name}` is not a known IANA time zone; use a region's name such as \
                 `America/New_York` or `Europe/London`"
            ))),
        },
    }
}

/// True for a region's zone (`Area/Location`) and for `UTC` itself. The IANA areas kept only
/// for backward compatibility (`US/`, `Canada/`, `Etc/`...) and the names without an area
/// (`EST`, `GB`, `Japan`) are not regions.
fn is_region(name: &str) -> bool {
    const REGIONS: [&str; 9] = [
        "Africa/",
        "America/",
        "Antarctica/",
        "Arctic/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
    ];
    name == "UTC"
        || name.starts_with("Pacific/")
        || REGIONS.iter().any(|area| name.starts_with(area))
}

/// The region's zone to suggest for a legacy name.
fn legacy_suggestion(name: &str) -> &'static str {
    match name {
        "EST" | "EST5EDT" | "US/Eastern" | "US/Michigan" | "US/East-Indiana" | "Etc/GMT+5" => {
            "America/New_York"
        }
        "CST6CDT" | "US/Central" | "US/Indiana-Starke" | "Etc/GMT+6" => "America/Chicago",
        "MST7MDT" | "US/Mountain" | "Navajo" | "Etc/GMT+7" => "America/Denver",
        "MST" | "US/Arizona" => "America/Phoenix",
        "PST8PDT" | "US/Pacific" | "Etc/GMT+8" => "America/Los_Angeles",
        "US/Alaska" | "Etc/GMT+9" => "America/Anchorage",
        "HST" | "US/Hawaii" | "US/Aleutian" | "Etc/GMT+10" => "Pacific/Honolulu",
        "Canada/Eastern" => "America/Toronto",
        "Canada/Central" => "America/Winnipeg",
        "Canada/Mountain" => "America/Edmonton",
        "Canada/Pacific" => "America/Vancouver",
        "Canada/Atlantic" => "America/Halifax",
        "Canada/Newfoundland" => "America/St_Johns",
        "Brazil/East" => "America/Sao_Paulo",
        "Mexico/General" => "America/Mexico_City",
        "GB" | "GB-Eire" | "GMT" | "GMT0" | "GMT+0" | "GMT-0" | "Greenwich" | "Etc/GMT" => {
            "Europe/London"
        }
        "Eire" => "Europe/Dublin",
        "WET" | "Portugal" => "Europe/Lisbon",
        "CET" | "MET" | "Etc/GMT-1" => "Europe/Paris",
        "EET" | "Etc/GMT-2" => "Europe/Athens",
        "Poland" => "Europe/Warsaw",
        "Turkey" => "Europe/Istanbul",
        "W-SU" | "Etc/GMT-3" => "Europe/Moscow",
        "Israel" => "Asia/Jerusalem",
        "Egypt" => "Africa/Cairo",
        "Iran" => "Asia/Tehran",
        "PRC" | "Etc/GMT-8" => "Asia/Shanghai",
        "ROC" => "Asia/Taipei",
        "ROK" => "Asia/Seoul",
        "Japan" | "Etc/GMT-9" => "Asia/Tokyo",
        "Hongkong" => "Asia/Hong_Kong",
        "Singapore" => "Asia/Singapore",
        "Australia/NSW" | "Australia/ACT" | "Australia/Canberra" | "Etc/GMT-10" => {
            "Australia/Sydney"
        }
        "NZ" | "Etc/GMT-12" => "Pacific/Auckland",
        "UCT" | "Universal" | "Zulu" | "Etc/UTC" | "Etc/UCT" | "Etc/Universal" | "Etc/Zulu" => {
            "UTC"
        }
        _ => "America/New_York",
    }
}

/// A plausible email address, lower-cased. Deliverability is not checked here.
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let email = value.trim().to_lowercase();
    let bad = || FieldError::new(field, "must be an email address like name@example.org");
    if email.chars().count() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    match email.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !local.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(email)
        }
        _ => Err(bad()),
    }
}

/// A new password: 8..=128 characters, counted as characters so every script is treated alike.
pub fn password(field: &str, value: &str) -> Result<(), FieldError> {
    let n = value.chars().count();
    if !(8..=128).contains(&n) {
        return Err(FieldError::new(field, "must be 8 to 128 characters"));
    }
    if value.contains('\0') {
        return Err(FieldError::new(field, "must not contain NUL"));
    }
    Ok(())
}

/// serde helper for PATCH bodies: tells an absent field (`None`) from an explicit `null`
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(line("t", &"é".repeat(120), 1, 120).is_ok());
        assert!(line("t", &"🙏".repeat(121), 1, 120).is_err());
        assert!(line("t", "  ", 1, 120).is_err());
        assert_eq!(line("t", "  Anna  ", 1, 120).unwrap(), "Anna");
    }

    #[test]
    fn names_need_a_visible_character_and_no_bidi_overrides() {
        assert!(line("n", "\u{200B}", 1, 10).is_err());
        assert!(line("n", "\u{200B}\u{FEFF} \u{2060}", 1, 10).is_err());
        assert!(line("n", "\u{3164}", 1, 10).is_err());
        assert!(line("n", "Anna\u{202E}nnA", 1, 20).is_err());
        assert!(line("n", "\u{2066}Anna\u{2069}", 1, 20).is_err());
        // Joiners inside visible text are part of it (emoji sequences, Indic scripts).
        assert!(line("n", "👨\u{200D}👩\u{200D}👧", 1, 10).is_ok());
        assert!(line("n", "שלום", 1, 10).is_ok());
        assert!(line("n", "", 0, 10).is_ok());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(line("t", "a\0b", 1, 10).is_err());
        assert!(line("t", "a\nb", 1, 10).is_err());
        assert!(text("t", "a\nb", 1, 10).is_ok());
        assert!(text("t", "a\0b", 1, 10).is_err());
    }

    #[test]
    fn timezones_are_iana_names() {
        assert!(timezone("tz", "America/New_York").is_ok());
        assert!(timezone("tz", "UTC").is_ok());
        assert!(timezone("tz", "Mars/Olympus_Mons").is_err());
        assert!(timezone("tz", "Pacific/Auckland").is_ok());
    }

    #[test]
    fn legacy_and_fixed_offset_zones_are_refused_with_the_region_to_use() {
        let message = |name| timezone("tz", name).unwrap_err().message;
        assert!(
            message("EST").contains("America/New_York"),
            "{}",
            message("EST")
        );
        assert!(message("US/Pacific").contains("America/Los_Angeles"));
        assert!(message("Etc/GMT+5").contains("America/New_York"));
        assert!(message("GB").contains("Europe/London"));
        assert!(message("Etc/UTC").contains("`UTC`"));
        assert!(message("america/new_york").contains("did you mean `America/New_York`?"));
        assert!(message("est").contains("America/New_York"));
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("e", " Anna@Example.ORG ").unwrap(),
            "anna@example.org"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@x.org",
            "a b@x.org",
            "a@x",
            "a@@x.org",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(password("p", "short").is_err());
        assert!(password("p", "long enough").is_ok());
        assert!(password("p", &"x".repeat(129)).is_err());
        assert!(password("p", "ññññññññ").is_ok());
    }
}
