//! Errors of the WeCom client: every one names the endpoint, and API errors carry the errcode
//! with its meaning. Texts never contain a credential (see [`super::redact`]).

use thiserror::Error;

/// What WeCom's errcodes mean, for the ones this tool meets.
pub fn errcode_meaning(errcode: i64) -> &'static str {
    match errcode {
        -1 => "system busy, try again later",
        0 => "ok",
        40001 => "invalid corp secret (or the secret does not belong to this corp)",
        40013 => "invalid corp id",
        40014 => "invalid access_token",
        41001 => "access_token missing",
        42001 => "access_token expired",
        45009 => "API call frequency over the quota",
        45033 => "too many concurrent calls",
        48002 => "API not allowed for this secret (the journal app secret cannot call it)",
        60011 => {
            "no privilege to access this department or user (outside the app's visibility scope)"
        }
        60020 => "server IP is not on the app's trusted IP list",
        301065 => "no permission to pull journal data (add the app under 汇报 - 可调用接口的应用)",
        301066 => "invalid request parameters (time window over the limit, bad limit or id)",
        301067 => "journal API internal failure",
        301084 => "invalid journal uuid",
        _ => "unknown errcode",
    }
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
}

impl WecomError {
    pub fn errcode(&self) -> Option<i64> {
        match self {
            WecomError::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    pub fn endpoint(&self) -> Option<&'static str> {
        match self {
            WecomError::Api { endpoint, .. }
            | WecomError::Transport { endpoint, .. }
            | WecomError::Decode { endpoint, .. } => Some(endpoint),
            WecomError::Config(_) => None,
        }
    }

    /// Whether WeCom itself said the caller may not have this data (a gap, not a failure).
    pub fn is_permission_gap(&self) -> bool {
        matches!(self.errcode(), Some(301065) | Some(48002) | Some(60011))
    }
}
