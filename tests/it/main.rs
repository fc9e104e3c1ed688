//! Integration tests: one binary (linking polars once), a module per area. They talk HTTP over
//! loopback to the simulator and read back the files they make.
mod check;
mod cli;
mod client;
mod common;
mod converge;
mod e2e;
mod extract;
mod flatten;
mod gaps;
mod job;
mod lake;
mod ops;
mod pipeline;
mod plan;
mod quota;
mod sched;
mod sim;
mod sinks;
mod store;
mod templates;
mod wedrive;
mod wire;
mod workbook;
