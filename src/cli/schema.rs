//! `wecom-journal schema`.
//! STUB: being written.

pub fn schema(_format: super::SchemaFormat) -> u8 {
    super::exit::FAILED
}
