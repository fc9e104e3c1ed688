//! `wecom-journal check` against the simulator over loopback: every line ✓ and exit 0 for a
//! well-configured corp; for each misconfiguration the simulator can play, the ✗ line, its hint
//! and exit 4, compared WHOLE (placeholders for paths and ports); the secret and the access
//! tokens in no output; and, for a visibility scope that hides departments, the count of users
//! outside it and a run that attributes them as the README says.

use chrono::TimeZone;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use wecom_journal::sim::{Org, SimConfig};
use wecom_journal::wecom::errcode;

use crate::common::SimThread;
use crate::common::{assert_output, bin, date, run_quiet, scan_dataset, streams, SimProcess};

/// The simulator's month: October 2026, the jobs' range.
// The simulator at its hardest: details without template_id, users without main_department,
// journals withdrawn after they were listed.
const SIM_ARGS: [&str; 4] = ["--start", "2026-10-01", "--days", "31"];

fn sim_config() -> SimConfig {
    SimConfig {
        start: date("2026-10-01"),
        days: 31,
        ..SimConfig::default()
    }
}

/// A job over October 2026 writing into `dir/out`, credentials from the environment.
fn job_file(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("check.toml");
    let text = format!(
        "name = \"check-job\"\n\n[source]\ncorp_id = \"${{WECOM_CORP_ID}}\"\n\
         secret = \"${{WECOM_JOURNAL_SECRET}}\"\n\n[range]\nstart = \"2026-10-01\"\n\
         end = \"2026-11-01\"\n\n{extra}\n[output]\ndir = \"{}\"\nformats = [\"parquet\"]\n",
        dir.join("out").display()
    );
    fs::write(&path, text).unwrap();
    path
}

/// `check JOB [ARGS]` against `base_url` with these credentials, logs off.
fn check(job: &Path, base_url: &str, corp_id: &str, secret: &str, args: &[&str]) -> Output {
    run_quiet(
        bin()
            .arg("check")
            .arg(job)
            .args(args)
            .env("WECOM_API_BASE", base_url)
            .env("WECOM_CORP_ID", corp_id)
            .env("WECOM_JOURNAL_SECRET", secret),
    )
}

/// The first line: the job file is fine.
const JOB_OK: &str = "✓ job file: [DIR]/check.toml is valid (job check-job, range \
                      2026-10-01..2026-11-01) and its ${VAR}s are set\n";

/// The last checks, which look at the job and the disk only.
const LOCAL_OK: &str = "✓ quotas: record list 600/min, other APIs 10000/min and 150000/h, at \
                        most 8 in flight: within the documented quotas\n\
                        ✓ output: [DIR]/out does not exist yet; [DIR] is writable, so the run \
                        can create it\n\
                        ✓ store: [DIR]/out/store.sqlite: none yet; the first run creates it \
                        (schema version 5)\n";

/// The directory line of a corp whose whole tree the app sees: WeCom leaves `main_department`
/// out for some users (the simulator's world says whom), which the run places under the first
/// department listed for them, so it passes.
fn directory_ok(org: &Org) -> String {
    let no_main = org
        .users
        .iter()
        .filter(|u| u.main_department.is_none())
        .count();
    let seen = format!(
        "✓ directory: {} departments and {} users visible to the app",
        org.departments.len(),
        org.users.len()
    );
    match no_main {
        0 => format!("{seen}, each user with a main department\n"),
        1 => format!("{seen}; 1 user has no main department the app can see (the run counts them under the first department listed for them)\n"),
        n => format!("{seen}; {n} users have no main department the app can see (the run counts them under the first department listed for them)\n"),
    }
}

fn hint(code: i64, errmsg: &str) -> String {
    errcode::hint(code, errmsg).unwrap()
}

/// No output holds the secret or a token the simulator issued.
fn assert_no_credentials(outputs: &[&str], secret: &str, tokens: &[String]) {
    assert!(!tokens.is_empty(), "the check got a token");
    for text in outputs {
        assert!(!text.contains(secret), "the secret is printed:\n{text}");
        for token in tokens {
            assert!(
                !text.contains(token.as_str()),
                "a token is printed:\n{text}"
            );
        }
    }
}

/// How many journals the record list holds for 2026-10-31 (local), the day check asks
/// first, from the simulator's world: withdrawn ones too, all submitted by the real clock.
fn listed_on_last_day(org: &Org) -> usize {
    let start = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 10, 31, 0, 0, 0)
        .unwrap()
        .timestamp();
    org.journals
        .iter()
        .filter(|j| (start..start + 86_400).contains(&j.report_time))
        .count()
}

#[test]
fn a_well_configured_corp_passes_every_check_and_no_credential_is_printed() {
    let sim = SimThread::start(sim_config());
    let dir = tempfile::tempdir().unwrap();
    let job = job_file(dir.path(), "[filters]\ndepartments = [\"2\", \"3\"]\n");
    let out = check(&job, &sim.base_url, &sim.corp_id, &sim.secret, &[]);
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stderr, "");
    let listed = listed_on_last_day(&sim.org);
    let sampled = sampled_by_check(&sim.org);
    let seen = seen_templates(&sim.org, &sampled);
    // 日报 has a cycle a day; the free-form 汇报 none.
    let (stat_calls, stats) = seen.stats(|name| if name == "日报" { 31 } else { 0 });
    let calls = 1 + 6 + sampled.len() + stat_calls + 1 + 11;
    let expected = format!(
        "{JOB_OK}\
         ✓ gettoken: the corp id and the secret are accepted\n\
         ✓ record list: answers for 2026-10-31: {listed} journals\n\
         ✓ templates: {} seen in {} journals sampled on 6 days of 2026-10-01..2026-11-01: \
         {}{}\n\
         ✓ stats: answer for {stats}\n\
         {}\
         ✓ visibility scope: all 59 users who report (named in the stats and the sampled \
         journals) are in the directory\n\
         ✓ filters.departments: 2, 3 visible to the app\n\
         {LOCAL_OK}\
         all 11 checks passed; {calls} calls to WeCom (department_list 1, get_record_detail {}, \
         get_record_list 6, get_stat_list {stat_calls}, gettoken 1, user_list 11)\n",
        seen.templates.len(),
        seen.read,
        seen.list(),
        seen.withdrawn_note(),
        directory_ok(&sim.org),
        sampled.len(),
    );
    let subs = [(dir.path().to_str().unwrap(), "[DIR]")];
    assert_output(&stdout, &expected, &subs);

    // The same as JSON, whose call counts are the simulator's own (an independent count).
    let served_before = sim.snapshot();
    let out = check(
        &job,
        &sim.base_url,
        &sim.corp_id,
        &sim.secret,
        &["--format", "json"],
    );
    let (json, json_err) = streams(&out);
    assert_eq!(out.status.code(), Some(0), "{json}{json_err}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["passed"], true);
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 11);
    assert!(checks.iter().all(|c| c["status"] == "pass"), "{json}");
    let served: BTreeMap<&str, u64> = sim
        .snapshot()
        .into_iter()
        .map(|(endpoint, n)| (endpoint, n - served_before[endpoint]))
        .filter(|(_, n)| *n > 0)
        .collect();
    let reported: BTreeMap<&str, u64> = report["calls"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(reported, served);
    assert_eq!(report["total_calls"], served.values().sum::<u64>());
    assert!(report["total_calls"].as_u64().unwrap() <= 40);

    let tokens = sim.issued_tokens();
    assert_no_credentials(&[&stdout, &stderr, &json, &json_err], &sim.secret, &tokens);
}

/// The checks of a corp whose journal calls are all refused with `code`: the record list says
/// so, what needs it is not checked, the directory still answers.
fn journal_refused(line: &str, code: i64) -> String {
    format!(
        "{JOB_OK}\
         ✓ gettoken: the corp id and the secret are accepted\n\
         ✗ record list: get_record_list for 2026-10-31: {line}\n\
         \x20 hint: {}\n\
         - templates: not checked: needs the record list\n\
         - stats: not checked: needs the templates seen (filters.template_ids is empty)\n\
         {}\
         - visibility scope: not checked: no stats or sampled journals name a user who reports\n\
         {LOCAL_OK}\
         1 of 10 checks failed, 3 not checked; 14 calls to WeCom (department_list 1, \
         get_record_list 1, gettoken 1, user_list 11)\n",
        hint(code, ""),
        directory_ok(&Org::generate(&sim_config()))
    )
}

/// `check` against `sim ARGS`: exit 4 and exactly `expected` on standard output.
fn check_misconfigured(flags: &[&str], expected: &str) {
    let sim = SimProcess::start(&[&SIM_ARGS[..], flags].concat()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = job_file(dir.path(), "");
    let out = check(&job, &sim.base_url, &sim.corp_id, &sim.secret, &[]);
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(4), "{flags:?}\n{stdout}{stderr}");
    assert_eq!(stderr, "", "{flags:?}");
    assert_output(
        &stdout,
        expected,
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );
    assert!(
        !stdout.contains(&sim.secret),
        "{flags:?}: the secret is printed"
    );
}

#[test]
fn an_app_not_added_to_the_journal_apis_is_told_where_to_add_it() {
    check_misconfigured(
        &["--app-not-authorised"],
        &journal_refused(
            "errcode 301065 (no permission to pull journal data)",
            errcode::JOURNAL_NO_PERMISSION,
        ),
    );
}

#[test]
fn the_system_app_secret_is_told_to_use_a_self_built_apps() {
    check_misconfigured(
        &["--system-app-secret"],
        &journal_refused(
            "errcode 48002 (API not allowed for this secret)",
            errcode::API_FORBIDDEN,
        ),
    );
}

#[test]
fn an_untrusted_ip_is_named_with_where_to_trust_it() {
    // Every call with a token is refused; the hint names the address WeCom saw, once.
    let ip_hint = hint(
        errcode::IP_NOT_TRUSTED,
        "not allow to access from your ip, hint: [1], from ip: 127.0.0.1, more info at …",
    );
    assert!(ip_hint.starts_with("add 127.0.0.1 (the address WeCom saw"));
    let refused = "errcode 60020 (server IP is not on the app's trusted IP list)";
    check_misconfigured(
        &["--untrusted-ip"],
        &format!(
            "{JOB_OK}\
             ✓ gettoken: the corp id and the secret are accepted\n\
             ✗ record list: get_record_list for 2026-10-31: {refused}\n\
             \x20 hint: {ip_hint}\n\
             - templates: not checked: needs the record list\n\
             - stats: not checked: needs the templates seen (filters.template_ids is empty)\n\
             ✗ directory: department/list: {refused}\n\
             \x20 hint: as for record list above\n\
             - visibility scope: not checked: needs the directory\n\
             {LOCAL_OK}\
             2 of 10 checks failed, 3 not checked; 3 calls to WeCom (department_list 1, \
             get_record_list 1, gettoken 1)\n"
        ),
    );
}

/// The checks when `gettoken` refuses the credentials: its line, then nothing that needs a
/// token, then the local checks.
fn token_refused(line: &str, hint: &str) -> String {
    format!(
        "{JOB_OK}\
         ✗ gettoken: no token: {line}\n\
         \x20 hint: {hint}\n\
         - record list: not checked: needs an access token\n\
         - templates: not checked: needs an access token\n\
         - stats: not checked: needs an access token\n\
         - directory: not checked: needs an access token\n\
         - visibility scope: not checked: needs an access token\n\
         {LOCAL_OK}\
         1 of 10 checks failed, 5 not checked; 1 call to WeCom (gettoken 1)\n"
    )
}

#[test]
fn a_secret_of_another_corp_is_told_which_credential_is_wrong() {
    check_misconfigured(
        &["--wrong-secret-for-corp"],
        &token_refused(
            "errcode 40001 (invalid corp secret (or the secret does not belong to this corp))",
            &hint(errcode::INVALID_SECRET, ""),
        ),
    );
}

#[test]
fn a_secret_pasted_with_a_space_is_told_so_without_printing_it() {
    let sim = SimProcess::start(&SIM_ARGS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = job_file(dir.path(), "");
    let padded = format!("{}\n", sim.secret);
    let out = check(&job, &sim.base_url, &sim.corp_id, &padded, &[]);
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let expected = token_refused(
        "errcode 40001 (invalid corp secret (or the secret does not belong to this corp))",
        "the secret has a space or a line break at its start or end (pasted with one?): \
         remove it where [source] takes it from (the job file or its ${VAR})",
    );
    assert_output(
        &stdout,
        &expected,
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );
    assert!(!stdout.contains(&sim.secret) && !stderr.contains(&sim.secret));
}

#[test]
fn unset_credentials_fail_the_job_line_and_the_local_checks_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_file(dir.path(), "");
    let out = run_quiet(
        bin()
            .arg("check")
            .arg(&job)
            .env("WECOM_CORP_ID", "ww-not-used"),
    );
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let why = "needs the corp id and the secret";
    let expected = format!(
        "✗ job file: [DIR]/check.toml:5:11: environment variable `WECOM_JOURNAL_SECRET` is not set\n\
         \x20 hint: set the corp id and the secret the job's [source] names: `export \
         WECOM_CORP_ID=ww… WECOM_JOURNAL_SECRET=…` (the 企业ID under 我的企业 → 企业信息, My \
         Company → Company Information; the app's Secret under 应用管理 → the app, App \
         Management → the app)\n\
         - gettoken: not checked: {why}\n\
         - record list: not checked: {why}\n\
         - templates: not checked: {why}\n\
         - stats: not checked: {why}\n\
         - directory: not checked: {why}\n\
         - visibility scope: not checked: {why}\n\
         {LOCAL_OK}\
         1 of 10 checks failed, 6 not checked; no call to WeCom\n"
    );
    assert_output(
        &stdout,
        &expected,
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );
}

/// The journals `check` samples over October, as the README documents it: the record lists
/// of 6 days spread evenly over the window, the last day first (31, 25, 19, 13, 7, 1
/// October), and on each day the journals at 1/3 and 2/3 of its list (in list order). From the
/// simulator's index, every journal submitted by the real clock.
fn sampled_by_check(org: &Org) -> Vec<&wecom_journal::sim::JournalDetail> {
    let tz = chrono_tz::Asia::Shanghai;
    let mut sampled = Vec::new();
    for day in [31, 25, 19, 13, 7, 1] {
        let start = tz
            .with_ymd_and_hms(2026, 10, day, 0, 0, 0)
            .unwrap()
            .timestamp();
        let listed: Vec<_> = org
            .journals
            .iter()
            .filter(|j| (start..start + 86_400).contains(&j.report_time))
            .collect();
        let mut picks: Vec<usize> = (1..=2).map(|k| k * listed.len() / 3).collect();
        picks.dedup();
        sampled.extend(picks.into_iter().filter_map(|i| listed.get(i).copied()));
    }
    sampled
}

/// What check's templates line shows of `sampled`, from the details the simulator serves now
/// (the README's rule): withdrawn journals are skipped and counted; a detail without
/// `template_id` is of the template of that name whose id a sampled detail carries, else the
/// template is named `[id not sent]` and its stats are not asked for.
struct SeenTemplates {
    read: usize,
    withdrawn: usize,
    /// Name → id, where a sampled detail carries it.
    templates: BTreeMap<String, Option<String>>,
}

fn seen_templates(org: &Org, sampled: &[&wecom_journal::sim::JournalDetail]) -> SeenTemplates {
    let world = org.at(chrono::Utc::now().timestamp());
    let mut seen = SeenTemplates {
        read: 0,
        withdrawn: 0,
        templates: BTreeMap::new(),
    };
    for j in sampled {
        let at = world.journal(&j.journal_uuid).unwrap();
        if at.is_withdrawn() {
            seen.withdrawn += 1;
            continue;
        }
        seen.read += 1;
        let served = at.served_detail();
        let id = seen.templates.entry(served.template_name).or_default();
        if served.template_id.is_some() {
            *id = served.template_id;
        }
    }
    seen
}

impl SeenTemplates {
    /// `日报 [id], 汇报 [id not sent]`.
    fn list(&self) -> String {
        let named: Vec<String> = self
            .templates
            .iter()
            .map(|(name, id)| format!("{name} [{}]", id.as_deref().unwrap_or("id not sent")))
            .collect();
        named.join(", ")
    }

    fn withdrawn_note(&self) -> String {
        match self.withdrawn {
            0 => String::new(),
            1 => "; 1 journal withdrawn since listed (or unreadable), skipped".into(),
            n => format!("; {n} journals withdrawn since listed (or unreadable), skipped"),
        }
    }

    /// The templates whose stats check asks for (their ids known), and the note on the others.
    fn stats(&self, cycles: impl Fn(&str) -> usize) -> (usize, String) {
        let asked: Vec<String> = self
            .templates
            .iter()
            .filter_map(|(name, id)| {
                let id = id.as_ref()?;
                Some(format!("{name} [{id}] ({} cycles)", cycles(name)))
            })
            .collect();
        let unasked: Vec<&str> = self
            .templates
            .iter()
            .filter(|(_, id)| id.is_none())
            .map(|(name, _)| name.as_str())
            .collect();
        let mut line = asked.join(", ");
        if !unasked.is_empty() {
            line.push_str(&format!(
                "; not asked for {} (no sampled detail carries its template_id: the run finds \
                 it through the stat lists, or name it in filters.template_ids)",
                unasked.join(", ")
            ));
        }
        (asked.len(), line)
    }
}

#[test]
fn a_template_the_app_may_not_read_and_a_department_it_cannot_see_are_named() {
    let org = Org::generate(&sim_config());
    let daily = org.template_named("日报").unwrap();
    let sim = SimProcess::start(
        &[
            &SIM_ARGS[..],
            &["--deny-template", &daily.id, "--hidden-departments", "4"],
        ]
        .concat(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = job_file(dir.path(), "[filters]\ndepartments = [\"2\", \"11\"]\n");
    let out = check(&job, &sim.base_url, &sim.corp_id, &sim.secret, &[]);
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let scope_hint = hint(errcode::NO_PRIVILEGE, "");
    let listed = listed_on_last_day(&org);
    // The oracle: what check samples, which of it the app may read, who those users are and
    // whether a scope without the last 4 departments (whole subtrees) holds them.
    let sampled = sampled_by_check(&org);
    let readable: Vec<_> = sampled
        .iter()
        .copied()
        .filter(|j| j.template_id.as_deref() != Some(daily.id.as_str()))
        .collect();
    // Only the free-form 汇报 is readable among the sampled: it has no stat cycles, so the
    // stats name no user and the users who report are the readable journals' submitters.
    assert!(readable.iter().all(|j| org
        .template(j.template_id.as_deref().unwrap())
        .unwrap()
        .report_type
        == 0));
    let seen = seen_templates(&org, &readable);
    let world = org.at(chrono::Utc::now().timestamp());
    let reporting: BTreeSet<&str> = readable
        .iter()
        .filter(|j| !world.journal(&j.journal_uuid).unwrap().is_withdrawn())
        .map(|j| j.submitter.userid.as_str())
        .collect();
    let hidden = hidden_by_scope(&org, 4);
    let visible =
        |u: &&wecom_journal::sim::DirectoryUser| u.department.iter().any(|d| !hidden.contains(d));
    let visible_users: Vec<_> = org.users.iter().filter(visible).collect();
    let outside = reporting
        .iter()
        .filter(|u| !visible_users.iter().any(|v| v.userid == **u))
        .count();
    assert!(
        outside > 0,
        "the case: a user who reports is outside the scope"
    );
    let no_main = visible_users
        .iter()
        .filter(|u| u.main_department.is_none_or(|m| hidden.contains(&m)))
        .count();
    let departments = org.departments.len() - hidden.len();
    let users = |n: usize| {
        if n == 1 {
            "1 user".to_string()
        } else {
            format!("{n} users")
        }
    };
    let verb = if outside == 1 { "is" } else { "are" };
    // The free-form 汇报 has no cycles; its stats are asked for only if its id was seen.
    let (stat_calls, stats) = seen.stats(|_| 0);
    let stats = if stat_calls == 0 {
        "- stats: not checked: no sampled detail carries a template_id, and \
         filters.template_ids is empty"
            .to_string()
    } else {
        format!("✓ stats: answer for {stats}")
    };
    let calls = 1 + sampled.len() + 6 + stat_calls + 1 + departments;
    let expected = format!(
        "{JOB_OK}\
         ✓ gettoken: the corp id and the secret are accepted\n\
         ✓ record list: answers for 2026-10-31: {listed} journals\n\
         ✗ templates: {refused} of {n} sampled journals may not be read: errcode 301065 (no \
         permission to pull journal data) (readable: {}){}\n\
         \x20 hint: {}\n\
         {stats}\n\
         ✓ directory: {departments} departments and {visible} users visible to the app; {no_main} \
         no main department the app can see (the run counts them under the first \
         department listed for them)\n\
         ✗ visibility scope: {outside} of {who} who report (named in the stats and the sampled \
         journals) {verb} outside the app's visibility scope: the run counts their journals under \
         `unknown`\n\
         \x20 hint: {scope_hint}\n\
         ✗ filters.departments: 11 not among the {departments} departments visible to the app\n\
         \x20 hint: correct filters.departments, or {scope_hint}\n\
         {LOCAL_OK}\
         3 of 11 checks failed{}; {calls} calls to WeCom (department_list 1, \
         get_record_detail {details}, \
         get_record_list 6, {stat_part}gettoken 1, user_list {departments})\n",
        seen.list(),
        seen.withdrawn_note(),
        hint(errcode::JOURNAL_NO_PERMISSION, ""),
        if stat_calls == 0 {
            ", 1 not checked"
        } else {
            ""
        },
        details = sampled.len(),
        stat_part = match stat_calls {
            0 => String::new(),
            n => format!("get_stat_list {n}, "),
        },
        refused = sampled.len() - readable.len(),
        n = sampled.len() - seen.withdrawn,
        visible = visible_users.len(),
        no_main = match no_main {
            1 => "1 user has".to_string(),
            n => format!("{n} users have"),
        },
        who = users(reporting.len()),
    );
    assert_output(
        &stdout,
        &expected,
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );
}

/// The departments a scope without the last `n` departments hides, as the README says:
/// the last `n` by id, with everything below them.
fn hidden_by_scope(org: &Org, n: usize) -> BTreeSet<u64> {
    let mut hidden: BTreeSet<u64> = org
        .departments
        .iter()
        .filter(|d| d.parentid != 0)
        .map(|d| d.id)
        .rev()
        .take(n)
        .collect();
    for d in &org.departments {
        // Parents come first in the simulator's tree.
        if hidden.contains(&d.parentid) {
            hidden.insert(d.id);
        }
    }
    hidden
}

/// The department the README says a user's rows count under: the main department if the app
/// sees it, else the first visible department listed for them, else none (`unknown`).
fn attributed(org: &Org, hidden: &BTreeSet<u64>, userid: &str) -> Option<u64> {
    let user = org.user(userid)?;
    user.main_department
        .filter(|d| !hidden.contains(d))
        .or_else(|| {
            user.department
                .iter()
                .copied()
                .find(|d| !hidden.contains(d))
        })
}

#[test]
fn hidden_departments_are_counted_by_check_and_attributed_by_the_run_as_the_readme_says() {
    let config = SimConfig {
        hidden_departments: 4,
        ..sim_config()
    };
    let sim = SimThread::start(config);
    let org = &sim.org;
    let hidden = hidden_by_scope(org, 4);
    let visible_users: Vec<_> = org
        .users
        .iter()
        .filter(|u| u.department.iter().any(|d| !hidden.contains(d)))
        .collect();
    let without_main = visible_users
        .iter()
        .filter(|u| u.main_department.is_none_or(|m| hidden.contains(&m)))
        .count();
    // Everyone but the boss reports daily; those in hidden departments only are invisible.
    let invisible = org.users.len() - visible_users.len();
    assert!(
        without_main > 1 && invisible > 1,
        "the case: both kinds of user"
    );

    let dir = tempfile::tempdir().unwrap();
    let job = job_file(dir.path(), "");
    let out = check(&job, &sim.base_url, &sim.corp_id, &sim.secret, &[]);
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    let sampled = sampled_by_check(org);
    let seen = seen_templates(org, &sampled);
    let (stat_calls, stats) = seen.stats(|name| if name == "日报" { 31 } else { 0 });
    let calls = 1 + 6 + sampled.len() + stat_calls + 1 + 7;
    let scope_hint = hint(errcode::NO_PRIVILEGE, "");
    let listed = listed_on_last_day(org);
    let expected = format!(
        "{JOB_OK}\
         ✓ gettoken: the corp id and the secret are accepted\n\
         ✓ record list: answers for 2026-10-31: {listed} journals\n\
         ✓ templates: {} seen in {} journals sampled on 6 days of 2026-10-01..2026-11-01: \
         {}{}\n\
         ✓ stats: answer for {stats}\n\
         ✓ directory: 7 departments and {} users visible to the app; {without_main} users have no \
         main department the app can see (the run counts them under the first department \
         listed for them)\n\
         ✗ visibility scope: {invisible} of 59 users who report (named in the stats and the \
         sampled journals) are outside the app's visibility scope: the run counts their \
         journals under `unknown`\n\
         \x20 hint: {scope_hint}\n\
         {LOCAL_OK}\
         1 of 10 checks failed; {calls} calls to WeCom (department_list 1, get_record_detail {}, \
         get_record_list 6, get_stat_list {stat_calls}, gettoken 1, user_list 7)\n",
        seen.templates.len(),
        seen.read,
        seen.list(),
        seen.withdrawn_note(),
        visible_users.len(),
        sampled.len(),
    );
    assert_output(
        &stdout,
        &expected,
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );

    // The run that follows: every journal and stat row counted where the README says.
    let out = run_quiet(
        bin()
            .arg("run")
            .arg(&job)
            .env("WECOM_API_BASE", &sim.base_url)
            .env("WECOM_CORP_ID", &sim.corp_id)
            .env("WECOM_JOURNAL_SECRET", &sim.secret),
    );
    let (stdout, stderr) = streams(&out);
    // Journals withdrawn after they were listed are gaps (exit 3); the rest is attributed.
    let withdrawn = org.at(chrono::Utc::now().timestamp()).withdrawn().count();
    let want_exit = if withdrawn > 0 { 3 } else { 0 };
    assert_eq!(out.status.code(), Some(want_exit), "{stdout}{stderr}");
    let out_dir = dir.path().join("out");
    let names: BTreeMap<u64, &str> = org
        .departments
        .iter()
        .map(|d| (d.id, d.name.as_str()))
        .collect();
    let mut fell_back = BTreeSet::new();
    for (table, user_column) in [("journals", "submitter_userid"), ("stat_items", "userid")] {
        let df = scan_dataset(&out_dir, table);
        let users = df.column(user_column).unwrap().str().unwrap();
        let ids = df.column("department_id").unwrap().u64().unwrap();
        let dept_names = df.column("department_name").unwrap().str().unwrap();
        let mut unknown = BTreeSet::new();
        for row in 0..df.height() {
            let user = users.get(row).unwrap();
            let want = attributed(org, &hidden, user);
            assert_eq!(ids.get(row), want, "{table} row {row} ({user})");
            let want_name = want.map_or("unknown", |d| names[&d]);
            assert_eq!(dept_names.get(row), Some(want_name), "{table} row {row}");
            if want.is_none() {
                unknown.insert(user.to_string());
            }
            let main = org.user(user).and_then(|u| u.main_department);
            if want.is_some() && want != main {
                fell_back.insert(user.to_string());
            }
        }
        if table == "stat_items" {
            assert_eq!(unknown.len(), invisible, "the users check counted");
        }
    }
    assert_eq!(fell_back.len(), without_main, "{fell_back:?}");

    // Checked again: the store the run left is this program's.
    let out = check(&job, &sim.base_url, &sim.corp_id, &sim.secret, &[]);
    let (stdout, _) = streams(&out);
    let store_line = stdout.lines().find(|l| l.starts_with("✓ store: ")).unwrap();
    assert_eq!(
        store_line,
        format!(
            "✓ store: {}: schema version 5, this program's",
            out_dir.join("store.sqlite").display()
        )
    );
}
