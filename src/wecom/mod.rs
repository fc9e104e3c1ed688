//! The WeCom protocol layer: typed requests and responses, and the HTTP client.
//!
//! Owns everything that crosses the wire to WeCom: tokens, rate limits, retries, errcodes and
//! redaction of credentials. It knows nothing of jobs, the store or output tables; callers get
//! typed values (and the raw body, for the store) or a [`WecomError`] that names the endpoint.

pub mod client;
pub mod errcode;
pub mod error;
pub mod num;
pub mod secret;
pub mod types;

pub use client::{ClientConfig, Endpoint, Fetched, Limits, WecomClient};
pub use error::{errcode_meaning, WecomError};
pub use secret::{redact, Secret};
pub use types::*;
