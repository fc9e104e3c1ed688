//! Extraction: record-list paging per window and filter, details with bounded concurrency,
//! stats per template, the directory; each response stored as it arrives.
//!
//! Owns the order and concurrency of API calls and the resume logic; talks to WeCom only
//! through [`crate::wecom::WecomClient`] and keeps state only through [`crate::store`].
