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

/// Checks a single-line text field: trimmed, `min..=max` characters (not bytes), and no control
/// characters (NUL in particular, which PostgreSQL cannot store).
pub fn line(field: &str, value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    length(field, trimmed, min, max)?;
    Ok(trimmed.to_string())
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

/// An IANA time-zone name (`America/New_York`), as chrono-tz knows it.
pub fn timezone(field: &str, value: &str) -> Result<Tz, FieldError> {
    value.trim().parse::<Tz>().map_err(|_| {
        FieldError::new(
            field,
            format!("`{}` is not a known IANA time zone", value.trim()),
        )
    })
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
