//! `wecom-journal sim`.
//! STUB: being written.

pub fn sim(_args: super::SimArgs) -> u8 {
    super::exit::FAILED
}
