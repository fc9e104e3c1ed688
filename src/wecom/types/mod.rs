//! Typed requests and responses of the journal endpoints and the directory, as WeCom sends them,
//! one file per endpoint group: the envelope and token, the record list, the record detail and
//! its form controls, the stat list, the directory and wedrive downloads.
//!
//! Shared by the client (which decodes them), the simulator (which encodes them) and `flatten`
//! (which decodes stored raw JSON). Decoding is as lenient as real servers are messy (`null`
//! or absent lists, integers as numeric strings, absent objects: the rules are in the
//! `lenient` module and `docs/wire.md`); u64 ids never pass through f64; a response that still
//! does not decode fails with the path of the field that did not. A control's `value` is
//! decoded by its `control` name into [`ControlValue`], and the original JSON text is kept
//! beside it, byte for byte, so nothing is ever lost or re-formatted. Knows no client, store
//! or output table.

mod control;
mod control_value;
mod directory;
mod envelope;
mod lenient;
mod record_detail;
mod record_list;
mod stat_list;
mod wedrive;

pub use control::*;
pub use control_value::*;
pub use directory::*;
pub use envelope::*;
pub use record_detail::*;
pub use record_list::*;
pub use stat_list::*;
pub use wedrive::*;

#[cfg(test)]
mod tests;
