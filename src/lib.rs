//! wecom-journal: export WeCom (企业微信) 汇报 / journal data into columnar files and compliance
//! reports.
//!
//! The stages, one module each, in the order data flows through them:
//! [`job`] → [`extract`] (through the [`wecom`] client) → [`store`] → [`flatten`] → [`report`]
//! → [`sink`]; [`sim`] is the WeCom simulator on the other side of the wire. [`pipeline`] wires
//! the stages into a run (a library: tests, benches and other programs call it), and [`cli`]
//! turns commands into pipeline calls and their results into lines and exit codes
//! (`docs/architecture.md`).

// Only the cli prints; everything else logs through `tracing` or returns what it has to say.
#![warn(clippy::print_stdout, clippy::print_stderr)]
// `pub` only for what the binary, the benches and the integration tests use (issue 8): an item
// `pub` but not reachable from the crate root is a warning, so `pub(crate)` stays the default.
#![warn(unreachable_pub)]

pub mod cli;
pub mod extract;
pub mod flatten;
pub mod job;
pub mod pipeline;
pub mod report;
pub mod sim;
pub mod sink;
pub mod store;
pub mod wecom;
