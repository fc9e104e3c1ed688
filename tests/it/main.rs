//! Integration tests: one binary (linking polars once), a module per area. They talk HTTP over
//! loopback to the simulator and read back the files they make.
mod common;
mod e2e;
mod client;
mod job;
mod flatten;
mod extract;
mod store;
mod sinks;
mod sim;
