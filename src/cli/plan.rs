//! `wecom-journal plan`.
//! STUB: being written.

pub fn plan(_job: &std::path::Path) -> u8 {
    super::exit::FAILED
}
