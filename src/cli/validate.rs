//! `wecom-journal validate`.
//! STUB: being written.

pub fn validate(_jobs: &[std::path::PathBuf]) -> u8 {
    super::exit::FAILED
}
