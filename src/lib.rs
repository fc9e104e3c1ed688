//! wecom-journal: export WeCom (企业微信) 汇报 / journal data into columnar files and compliance
//! reports.
//!
//! The stages, one module each, in the order data flows through them:
//! [`job`] → [`extract`] (through the [`wecom`] client) → [`store`] → [`flatten`] → [`report`]
//! → [`sink`]; [`sim`] is the WeCom simulator on the other side of the wire, and [`cli`] wires
//! the stages into commands.

pub mod cli;
pub mod extract;
pub mod flatten;
pub mod job;
pub mod report;
pub mod sim;
pub mod sink;
pub mod store;
pub mod wecom;
