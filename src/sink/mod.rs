//! Sinks: Parquet (zstd, Hive partitions), CSV (optional BOM), Arrow IPC, the XLSX workbook and
//! the run manifest; every file written to a temporary name and renamed.
//!
//! Owns file layout and formats; computes no metric and makes no network call.
