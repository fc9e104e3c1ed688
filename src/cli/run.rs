//! `wecom-journal run`, `rebuild` and `demo`.
//! STUB: being written.

use std::path::{Path, PathBuf};

pub fn run(_args: super::RunArgs) -> u8 {
    super::exit::FAILED
}

pub fn rebuild(_job: &Path, _output: Option<PathBuf>) -> u8 {
    super::exit::FAILED
}

pub fn demo(_output: Option<PathBuf>) -> u8 {
    super::exit::FAILED
}
