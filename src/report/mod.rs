//! Reports: polars lazy queries over the flattened tables (late, unreported and read rates).
//!
//! Owns the metrics' definitions; takes DataFrames in and gives DataFrames out, no I/O.
