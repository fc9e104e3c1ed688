//! The SQLite store: one file per job (`<output.dir>/store.sqlite`, WAL) holding raw responses
//! (record windows done, detail JSON by uuid with fetch time, stat responses, the directory)
//! and the `runs` table. What makes runs resumable, incremental and rebuildable offline.
//!
//! Owns the schema and every SQL statement; it makes no network call and knows no DataFrame.
