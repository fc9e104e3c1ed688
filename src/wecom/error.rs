//! Errors of the WeCom client: every one names the endpoint, and API errors carry the errcode
//! with its meaning. Texts never contain a credential (see [`super::redact`]).

use thiserror::Error;

use super::errcode;

/// What a WeCom errcode means (see [`super::errcode`], which also holds the hints).
pub fn errcode_meaning(code: i64) -> &'static str {
    errcode::meaning(code)
}

#[derive(Debug, Error)]
pub enum WecomError {
    /// WeCom answered with `errcode != 0`.
    #[error("{endpoint}: errcode {errcode} ({meaning}): {errmsg}", meaning = errcode_meaning(*.errcode))]
    Api {
        endpoint: &'static str,
        errcode: i64,
        errmsg: String,
    },

    /// The request did not complete (connection, timeout, HTTP status, truncated body).
    #[error("{endpoint}: {message}")]
    Transport {
        endpoint: &'static str,
        message: String,
        retryable: bool,
    },

    /// The body arrived whole but is not what the endpoint documents.
    #[error("{endpoint}: unexpected response: {message}")]
    Decode {
        endpoint: &'static str,
        message: String,
    },

    /// Bad client configuration (empty secret, bad base URL …).
    #[error("client configuration: {0}")]
    Config(String),

    /// A download could not be written to its file (disk full, permissions …): not WeCom's
    /// failure, and not retried.
    #[error("{endpoint}: writing {}: {message}", path.display())]
    Io {
        endpoint: &'static str,
        path: std::path::PathBuf,
        message: String,
    },

    /// Not sent: the client was told to send nothing more (the run is stopping).
    #[error("{endpoint}: not sent, the run is stopping")]
    Stopped { endpoint: &'static str },
}

impl WecomError {
    pub fn errcode(&self) -> Option<i64> {
        match self {
            WecomError::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// Whether WeCom answered with this errcode.
    pub(crate) fn is(&self, code: i64) -> bool {
        self.errcode() == Some(code)
    }

    pub fn endpoint(&self) -> Option<&'static str> {
        match self {
            WecomError::Api { endpoint, .. }
            | WecomError::Transport { endpoint, .. }
            | WecomError::Decode { endpoint, .. }
            | WecomError::Io { endpoint, .. }
            | WecomError::Stopped { endpoint } => Some(endpoint),
            WecomError::Config(_) => None,
        }
    }

    /// Whether WeCom itself said the caller may not have this data (a gap, not a failure).
    pub fn is_permission_gap(&self) -> bool {
        matches!(
            self.errcode(),
            Some(errcode::JOURNAL_NO_PERMISSION | errcode::API_FORBIDDEN | errcode::NO_PRIVILEGE)
        )
    }

    /// Whether the error is about the one journal asked for, not the app or the run: its journal
    /// was withdrawn after it was listed (301084), its uuid is refused (301066), or its body does
    /// not decode. The run records such a journal as a gap; `check` counts it and goes on.
    pub(crate) fn is_item_gap(&self) -> bool {
        self.is(errcode::JOURNAL_INVALID_UUID)
            || self.is(errcode::JOURNAL_BAD_PARAMETERS)
            || matches!(self, WecomError::Decode { .. })
    }

    /// How a person fixes this error, when one can: for an API error, the errcode's hint
    /// (see [`errcode::hint`]).
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            WecomError::Api {
                errcode: code,
                errmsg,
                ..
            } => errcode::hint(*code, errmsg),
            WecomError::Transport { .. }
            | WecomError::Decode { .. }
            | WecomError::Config(_)
            | WecomError::Io { .. }
            | WecomError::Stopped { .. } => None,
        }
    }
}
