//! Credentials that must never be printed: the corp secret and access tokens.

use std::fmt;

/// A credential. `Debug` and `Display` print `[redacted]`; the value is reached only through
/// [`Secret::expose`], at the one place that puts it on the wire.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Removes credentials from a text meant for a log or an error: the value of every
/// `access_token=`, `corpsecret=` and `secret=` query parameter, and `cookie_value`s.
pub fn redact(text: &str) -> String {
    const KEYS: &[&str] = &["access_token=", "corpsecret=", "secret=", "cookie_value="];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for key in KEYS {
            if rest.starts_with(key) {
                out.push_str(key);
                out.push_str("[redacted]");
                let after = &rest[key.len()..];
                let end = after
                    .find(|c: char| {
                        c == '&'
                            || c == ' '
                            || c == '"'
                            || c == '\''
                            || c == ')'
                            || c == ','
                            || c.is_whitespace()
                    })
                    .unwrap_or(after.len());
                rest = &after[end..];
                continue 'outer;
            }
        }
        let ch = rest.chars().next().expect("rest is not empty");
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("s3cr3t-value");
        assert!(!format!("{s:?} {s}").contains("s3cr3t"));
        assert_eq!(s.expose(), "s3cr3t-value");
    }

    #[test]
    fn redact_strips_query_credentials() {
        let t = "error sending request for url (http://h/cgi-bin/gettoken?corpid=ww1&corpsecret=abc123&x=1) token access_token=TOK";
        let r = redact(t);
        assert!(!r.contains("abc123") && !r.contains("TOK"), "{r}");
        assert!(r.contains("corpid=ww1") && r.contains("&x=1"), "{r}");
    }
}
