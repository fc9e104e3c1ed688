//! The directory checks: what the app's visibility scope shows (departments, users, main
//! departments), whether the users who report are inside it, whether `filters.departments`
//! are. Users are attributed as the run attributes them ([`Directory::department_of`]): main
//! department, else the first department listed for them, else `unknown`.

use std::collections::BTreeSet;
use std::path::Path;

use super::api::failed;
use super::{counted, CheckId, CheckLine, MAX_USER_LISTS};
use crate::flatten::Directory;
use crate::job::{DirectorySource, Job};
use crate::wecom::types::{DepartmentListResponse, UserListResponse};
use crate::wecom::{errcode, WecomClient, WecomError};

/// The directory checks `job` gets, in order.
pub(super) fn checks_of(job: &Job) -> impl Iterator<Item = CheckId> {
    let has_directory = job.extract.directory != DirectorySource::None;
    let filters = !job.filters.departments.is_empty();
    [
        (CheckId::Directory, true),
        (CheckId::Visibility, has_directory),
        (CheckId::DepartmentFilter, filters),
    ]
    .into_iter()
    .filter_map(|(id, applies)| applies.then_some(id))
}

/// How a person widens the app's visibility scope (60011's hint: the admin console's path).
fn widen_scope() -> Option<String> {
    errcode::hint(errcode::NO_PRIVILEGE, "")
}

/// A directory as read for the check.
struct Read {
    directory: Directory,
    /// Why the users are not all there (a corp with more departments than the check lists).
    partial: Option<String>,
}

/// Runs the directory checks; `reporting` are the users the stats and sampled journals name.
pub(super) async fn run(
    job: &Job,
    client: &WecomClient,
    reporting: &BTreeSet<String>,
) -> Vec<CheckLine> {
    let wants_list =
        job.extract.directory == DirectorySource::Api || !job.filters.departments.is_empty();
    let departments = match wants_list {
        true => Some(client.department_list(None).await.map(|f| f.value)),
        false => None,
    };
    let mut lines = Vec::new();
    let read = match (&job.extract.directory, &departments) {
        (DirectorySource::None, _) => {
            lines.push(CheckLine::pass(
                CheckId::Directory,
                "none (extract.directory = \"none\"): every journal's department is `unknown`",
            ));
            None
        }
        (DirectorySource::Csv(path), _) => csv_directory(path, &mut lines),
        (DirectorySource::Api, Some(Err(e))) => {
            lines.push(failed(CheckId::Directory, "department/list", e));
            None
        }
        (DirectorySource::Api, Some(Ok(list))) => api_directory(client, list, &mut lines).await,
        (DirectorySource::Api, None) => None,
    };
    if job.extract.directory != DirectorySource::None {
        lines.push(match &read {
            None => CheckLine::skipped(CheckId::Visibility, "needs the directory"),
            Some(read) => visibility(job, read, reporting),
        });
    }
    if !job.filters.departments.is_empty() {
        lines.push(department_filter(job, departments.as_ref()));
    }
    lines
}

fn csv_directory(path: &Path, lines: &mut Vec<CheckLine>) -> Option<Read> {
    match Directory::from_csv(path) {
        Ok(directory) => {
            let unknown = directory
                .users()
                .iter()
                .filter(|u| directory.department_of(&u.userid).0.is_none())
                .count();
            let summary = format!(
                "{}: {} and {}, {unknown} of them without a department",
                path.display(),
                counted(directory.departments().count(), "department", "departments"),
                counted(directory.users().len(), "user", "users")
            );
            lines.push(CheckLine::pass(CheckId::Directory, summary));
            Some(Read {
                directory,
                partial: None,
            })
        }
        Err(e) => {
            lines.push(CheckLine::fail(
                CheckId::Directory,
                e.to_string(),
                Some(
                    "extract.directory = \"csv:PATH\" reads a CSV file with a header naming \
                     userid and department_id (docs/job-file.md)"
                        .into(),
                ),
            ));
            None
        }
    }
}

/// `user/list` of the first [`MAX_USER_LISTS`] visible departments, and the directory line.
async fn api_directory(
    client: &WecomClient,
    departments: &DepartmentListResponse,
    lines: &mut Vec<CheckLine>,
) -> Option<Read> {
    let mut users: Vec<UserListResponse> = Vec::new();
    for d in departments.department.iter().take(MAX_USER_LISTS) {
        match client.user_list(d.id).await {
            Ok(list) => users.push(list.value),
            Err(e) => {
                lines.push(failed(
                    CheckId::Directory,
                    &format!("user/list of department {}", d.id),
                    &e,
                ));
                return None;
            }
        }
    }
    let directory = Directory::from_api(departments, &users);
    let total = departments.department.len();
    let partial = (total > MAX_USER_LISTS)
        .then(|| format!("members of the first {MAX_USER_LISTS} of {total} departments listed"));
    lines.push(directory_line(&directory, total, partial.as_deref()));
    Some(Read { directory, partial })
}

fn directory_line(directory: &Directory, departments: usize, partial: Option<&str>) -> CheckLine {
    let users = directory.users();
    let without_main: Vec<&str> = users
        .iter()
        .filter(|u| u.main_department.is_none())
        .map(|u| u.userid.as_str())
        .collect();
    let fallback = without_main
        .iter()
        .filter(|id| directory.department_of(id).0.is_some())
        .count();
    let partial = partial.map(|p| format!(" ({p})")).unwrap_or_default();
    let seen = format!(
        "{} and {} visible to the app{partial}",
        counted(departments, "department", "departments"),
        counted(users.len(), "user", "users")
    );
    if without_main.is_empty() {
        return CheckLine::pass(
            CheckId::Directory,
            format!("{seen}, each user with a main department"),
        );
    }
    let unknown = without_main.len() - fallback;
    let counts = if unknown == 0 {
        "them".to_string()
    } else {
        format!("{fallback} of them")
    };
    let mut summary = format!(
        "{seen}; {} no main department the app can see (the run counts {counts} under the \
         first department listed for them",
        match without_main.len() {
            1 => "1 user has".to_string(),
            n => format!("{n} users have"),
        }
    );
    if unknown == 0 {
        // WeCom leaves main_department out for some users whatever the scope; the run places
        // them all, so this is worth knowing, not a misconfiguration.
        summary.push(')');
        return CheckLine::pass(CheckId::Directory, summary);
    }
    summary.push_str(&format!(", {unknown} under `unknown`)"));
    CheckLine::fail(CheckId::Directory, summary, widen_scope())
}

/// Whether the users who report are in the directory (else their journals count under
/// `unknown`).
fn visibility(job: &Job, read: &Read, reporting: &BTreeSet<String>) -> CheckLine {
    if let Some(partial) = &read.partial {
        return CheckLine::skipped(
            CheckId::Visibility,
            &format!("the directory read is partial ({partial})"),
        );
    }
    if reporting.is_empty() {
        return CheckLine::skipped(
            CheckId::Visibility,
            "no stats or sampled journals name a user who reports",
        );
    }
    let outside = reporting
        .iter()
        .filter(|u| read.directory.user(u).is_none())
        .count();
    let n = reporting.len();
    let named = "(named in the stats and the sampled journals)";
    if outside == 0 {
        let summary = match n {
            1 => format!("the 1 user who reports {named} is in the directory"),
            n => format!("all {n} users who report {named} are in the directory"),
        };
        return CheckLine::pass(CheckId::Visibility, summary);
    }
    let who = format!("{} who report {named}", counted(n, "user", "users"));
    let (place, hint) = match &job.extract.directory {
        DirectorySource::Csv(path) => (
            format!("not in {}", path.display()),
            Some(format!(
                "add them to {} (userid,department_id)",
                path.display()
            )),
        ),
        _ => (
            "outside the app's visibility scope".to_string(),
            widen_scope(),
        ),
    };
    let verb = if outside == 1 { "is" } else { "are" };
    CheckLine::fail(
        CheckId::Visibility,
        format!("{outside} of {who} {verb} {place}: the run counts their journals under `unknown`"),
        hint,
    )
}

/// Whether every department of `filters.departments` is one the app can see.
fn department_filter(
    job: &Job,
    departments: Option<&Result<DepartmentListResponse, WecomError>>,
) -> CheckLine {
    let list = match departments {
        Some(Ok(list)) => list,
        // The directory's line already says why (the same call).
        Some(Err(_)) if job.extract.directory == DirectorySource::Api => {
            return CheckLine::skipped(CheckId::DepartmentFilter, "needs department/list")
        }
        Some(Err(e)) => return failed(CheckId::DepartmentFilter, "department/list", e),
        None => return CheckLine::skipped(CheckId::DepartmentFilter, "needs department/list"),
    };
    let visible: BTreeSet<u64> = list.department.iter().map(|d| d.id).collect();
    let wanted = &job.filters.departments;
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|d| {
            d.trim()
                .parse::<u64>()
                .map_or(true, |id| !visible.contains(&id))
        })
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return CheckLine::pass(
            CheckId::DepartmentFilter,
            format!("{} visible to the app", wanted.join(", ")),
        );
    }
    CheckLine::fail(
        CheckId::DepartmentFilter,
        format!(
            "{} not among the {} departments visible to the app",
            missing.join(", "),
            visible.len()
        ),
        widen_scope().map(|h| format!("correct filters.departments, or {h}")),
    )
}
