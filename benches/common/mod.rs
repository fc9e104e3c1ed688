//! The benches' synthetic journals: the simulator's organisation (`sim::Org::generate`: every
//! control shape of docs/schema.md's `journal_controls`, one undocumented type, comments,
//! receivers, read receipts), 1,000 users, one month at a time.
//!
//! Two ways to reach a number of journals, both cut at exactly `n`:
//! - [`successive_months`]: month after month of the same organisation (the flatten bench);
//! - [`replicated_month`]: one month whose journals are copied under new uuids, so that a
//!   month holds as many journals as asked (the rebuild bench: a month of a large corp), in
//!   report-time order.
//!
//! Used by `benches/flatten.rs` and `benches/rebuild/` (each uses part of it).
#![allow(dead_code)]

use chrono::{Days, NaiveDate};
use wecom_journal::flatten::Directory;
use wecom_journal::sim::{Org, SimConfig};
use wecom_journal::wecom::types::{DepartmentListResponse, JournalDetail, UserListResponse};

/// Users of the synthetic organisation; a month of it holds about 38,500 journals.
pub const SIM_USERS: usize = 1_000;
/// Days of one generated month.
pub const SIM_DAYS: u32 = 31;
/// The organisation's seed (the same organisation in every bench and every run).
pub const SIM_SEED: u64 = 7;

/// The organisation's journals of `days` days from `start` (its directory is the same
/// whatever the days).
pub fn org(start: NaiveDate, days: u32) -> Org {
    Org::generate(&SimConfig {
        seed: SIM_SEED,
        users: SIM_USERS,
        start,
        days,
        ..SimConfig::default()
    })
}

/// The organisation's month of `SIM_DAYS` days from `start`.
pub fn month(start: NaiveDate) -> Org {
    org(start, SIM_DAYS)
}

/// Calls `f` with `n` journals: successive months of the same organisation from 2026-01-01
/// (one `Org` at a time, so memory stays that of one month), in report-time order per month.
pub fn successive_months<E>(
    n: u64,
    mut f: impl FnMut(&JournalDetail) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    let mut written = 0u64;
    let mut start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    while written < n {
        let org = month(start);
        if org.journals.is_empty() {
            return Err(std::io::Error::other("the simulator generated no journal").into());
        }
        for j in org.journals.iter().take((n - written) as usize) {
            f(j)?;
            written += 1;
        }
        start = start
            .checked_add_days(Days::new(u64::from(SIM_DAYS)))
            .expect("a date");
    }
    Ok(())
}

/// Calls `f` with `n` journals of `org`'s month: each journal followed by its copies under new
/// uuids (`<uuid>-r<k>` for the k-th copy; a simulator uuid has no `-`, so no copy can take
/// another journal's uuid), the same number of copies of each (one more for the first
/// `n % journals`), so the month keeps its shape and its report-time order: the order in which
/// an extraction stores a month, window after window.
pub fn replicated_month<E>(
    org: &Org,
    n: u64,
    mut f: impl FnMut(JournalDetail) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<std::io::Error>,
{
    if org.journals.is_empty() {
        return Err(std::io::Error::other("the simulator generated no journal").into());
    }
    let originals = org.journals.len() as u64;
    let (each, extra) = (n / originals, n % originals);
    for (i, j) in org.journals.iter().enumerate() {
        let copies = each + u64::from((i as u64) < extra);
        for copy in 0..copies {
            let mut j = j.clone();
            if copy > 0 {
                j.journal_uuid = format!("{}-r{copy}", j.journal_uuid);
            }
            f(j)?;
        }
    }
    Ok(())
}

/// The organisation's directory, as `run` builds it from the API's department and user lists.
pub fn directory(org: &Org) -> Directory {
    let departments = DepartmentListResponse {
        department: org.departments.clone(),
    };
    let users = UserListResponse {
        userlist: org.users.clone(),
    };
    Directory::from_api(&departments, &[users])
}
