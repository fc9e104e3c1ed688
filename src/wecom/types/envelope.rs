//! The envelope every WeCom answer carries and `gettoken`'s answer.
//!
//! Owns the `errcode` / `errmsg` shape and the token answer (whose `Debug` hides the token);
//! what an errcode means is the client's business.

use serde::{Deserialize, Serialize};

use super::lenient;
use crate::wecom::num::i64_lenient;

/// The `errcode` / `errmsg` envelope every WeCom response carries (a body without `errcode`
/// is a success).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Envelope {
    #[serde(default, deserialize_with = "i64_lenient")]
    pub errcode: i64,
    /// Informational only: a message that is not a string is kept as its JSON text rather
    /// than costing the errcode beside it.
    #[serde(default, deserialize_with = "lenient::any_text")]
    pub(crate) errmsg: String,
}

/// `gettoken`'s answer. The token is a credential: `Debug` leaves it out.
#[derive(Clone, Deserialize, Serialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub(crate) expires_in: i64,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}
